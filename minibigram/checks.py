"""Finite-difference checks that can fail: gradients, Hessian-vector products, reference problems.

:func:`gradcheck` compares the gradient an ``f(x) -> (loss, grad)`` returns with
finite differences of its loss (every entry, or ``fast=True``: a few random
directions); :func:`hvpcheck` compares a Hessian-vector product with finite
differences of a gradient. Both return a :class:`GradcheckResult` whose
``str()`` is a readable report; :func:`assert_gradcheck` raises a
:class:`GradcheckError` (an ``AssertionError``) for use inside other projects'
tests. :func:`reference_problem` gives fixed float64 problems (loss, gradient,
Hessian-vector products) that another framework's tests can compare with::

    from minibigram import assert_gradcheck
    assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, reg=0.01), W)

Pass rule, for every checked entry: ``|a - n| <= atol + rtol * |n|`` (``a``
analytic, ``n`` numeric).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Union

import numpy as np

from .engines import (
    OBJECTIVES,
    concat_hvp,
    concat_loss_and_grad,
    counts_hvp,
    counts_loss_and_grad,
    loss_and_grad,
)
from .errors import SettingsError

PASS_RULE = "|a - n| <= atol + rtol * |n|"
#: Default (eps, fast_eps, rtol, atol) by the precision of x; see the Notes of gradcheck.
DOUBLE_DEFAULTS = (1e-3, 1e-5, 1e-6, 1e-9)
SINGLE_DEFAULTS = (0.2, 0.1, 1e-3, 5e-6)
DEFAULT_DIRECTIONS = 4  # random directions per input in fast mode
_N_LARGEST = 10  # entries of largest |gradient| always checked when subsampling
_N_WORST = 5  # entries listed in a result
# (V, n, reg) of the random problems check_engines runs every engine on
ENGINE_CASES = ((2, 5, 0.0), (7, 60, 0.1), (27, 400, 0.01))
CHECKED_ENGINES = OBJECTIVES   # the three engines and the concat network
#: Names of the problems :func:`reference_problem` knows.
REFERENCE_PROBLEMS = ("bigram", "ngram-joint", "ngram-concat")

Inputs = Union[np.ndarray, Sequence[np.ndarray]]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences; the message is the report."""


@dataclass(frozen=True)
class WorstEntry:
    """One checked entry: where, the two values, and their errors.

    Attributes
    ----------
    label : str
        Where: ``x[2, 3]`` (one input), ``args[1][2, 3]`` (several inputs),
        ``u0 of x`` (fast mode: direction 0), ``H[(2, 3), (1, 4)]`` (hvpcheck:
        row, column of the Hessian) or ``Hu0[2, 3]``.
    input : int
        Which input of ``f`` (0 when there is one).
    index : tuple of int
        The entry's index in that input (fast mode: ``(direction,)``; hvpcheck:
        row index then column index).
    analytic, numeric : float
    abs_error : float
        ``|a - n|``.
    rel_error : float
        ``|a - n| / |n|`` (``inf`` when ``n = 0`` and ``a != 0``).
    ratio : float
        ``|a - n| / (atol + rtol |n|)``: the entry passes when it is at most 1.
    """

    label: str
    input: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ratio: float


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck` or :func:`hvpcheck`.

    Attributes
    ----------
    ok : bool
        True when every checked entry passes ``|a - n| <= atol + rtol * |n|``.
    max_ratio : float
        The largest ``|a - n| / (atol + rtol |n|)``; ``ok`` is ``max_ratio <= 1``
        (``inf`` if a value was not finite).
    max_abs_error, max_rel_error : float
        The largest ``|a - n|`` and ``|a - n| / |n|`` over the checked entries.
    n_checked : int
        How many entries (fast mode: directions; hvpcheck: Hessian entries) were
        compared.
    n_failed : int
        How many of them break the rule.
    size : int
        How many entries the inputs have together.
    worst : tuple of WorstEntry
        Up to 5 entries with the largest ``ratio``, worst first.
    checked : tuple of int
        Full mode: flat indices of the checked entries (hvpcheck: columns) into
        the inputs raveled and concatenated, ascending. Fast mode: empty.
    eps, rtol, atol : float
        The settings used (after dtype defaults were filled in).
    dtype : str
        The dtype of the (first) input.
    mode : str
        ``"full"`` or ``"fast"``.
    n_calls : int
        Evaluations of ``f`` (hvpcheck: of ``grad_f``).
    kind : str
        ``"gradcheck"`` or ``"hvpcheck"``.
    """

    ok: bool
    max_ratio: float
    max_abs_error: float
    max_rel_error: float
    n_checked: int
    n_failed: int
    size: int
    worst: tuple[WorstEntry, ...]
    checked: tuple[int, ...]
    eps: float
    rtol: float
    atol: float
    dtype: str
    mode: str = "full"
    n_calls: int = 0
    kind: str = "gradcheck"
    stencil: str = ""

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        what = "directions" if self.mode == "fast" else "entries"
        lines = [
            f"{self.kind} {verdict}: {self.n_failed} of {self.n_checked} checked {what} "
            f"(of {self.size} entries) break the rule {PASS_RULE} with atol={self.atol:g}, "
            f"rtol={self.rtol:g} ({self.mode} mode, {self.stencil}, eps={self.eps:g}, "
            f"{self.n_calls} calls, {self.dtype})",
        ]
        if self.worst:
            e = self.worst[0]
            sign = "<=" if e.ratio <= 1 else ">"
            lines.append(f"  worst {e.label}: |a - n| = {e.abs_error:.3e} {sign} "
                         f"{self.atol + self.rtol * abs(e.numeric):.3e} = atol + rtol * |n| "
                         f"(ratio {e.ratio:.3g}; relative error |a - n|/|n| = "
                         f"{e.rel_error:.3e})")
        width = max([14, *(len(e.label) for e in self.worst)])
        lines.append(f"  {'entry':<{width}} {'analytic a':>14} {'numeric n':>14} "
                     f"{'|a - n|':>10} {'|a - n|/|n|':>11}")
        for e in self.worst:
            mark = "" if e.ratio <= 1 else "  <- fails"
            lines.append(f"  {e.label:<{width}} {e.analytic:>14.6e} {e.numeric:>14.6e} "
                         f"{e.abs_error:>10.3e} {e.rel_error:>11.3e}{mark}")
        return "\n".join(lines)


def _defaults(dtype: np.dtype) -> tuple[float, float, float, float]:
    """Double-precision defaults for float64 and wider, single-precision ones otherwise."""
    wide = np.finfo(dtype).eps <= np.finfo(np.float64).eps
    return DOUBLE_DEFAULTS if wide else SINGLE_DEFAULTS


def _inputs(x: Inputs) -> tuple[list[np.ndarray], bool]:
    """The inputs as a list of float arrays, and whether f takes several."""
    multi = isinstance(x, (tuple, list))
    xs = [np.asarray(a) for a in (x if multi else [x])]  # type: ignore[union-attr]
    if not xs:
        raise SettingsError("x is an empty sequence: pass an array, or a tuple of arrays "
                            "for an f of several inputs.")
    for i, a in enumerate(xs):
        if not np.issubdtype(a.dtype, np.floating) or a.size == 0:
            where = f"input {i}" if multi else "x"
            raise SettingsError(f"{where} must be a non-empty float array, got dtype {a.dtype} "
                                f"with {a.size} entries; pass e.g. W.astype(np.float64).")
    return xs, multi


def _settings(x: np.ndarray, eps: float | None, rtol: float | None, atol: float | None,
              fast: bool) -> tuple[float, float, float]:
    d_eps, d_fast_eps, d_rtol, d_atol = _defaults(x.dtype)
    eps = (d_fast_eps if fast else d_eps) if eps is None else float(eps)
    rtol = d_rtol if rtol is None else float(rtol)
    atol = d_atol if atol is None else float(atol)
    if not (eps > 0 and rtol >= 0 and atol >= 0 and rtol + atol > 0):
        raise SettingsError(f"need eps > 0, rtol >= 0, atol >= 0 and one of them positive, got "
                            f"eps={eps}, rtol={rtol}, atol={atol}; pass positive values (or "
                            "None for the defaults).")
    return eps, rtol, atol


def _label(multi: bool, i: int, index: tuple[int, ...]) -> str:
    where = f"args[{i}]" if multi else "x"
    return f"{where}[{', '.join(str(j) for j in index)}]"


def _select(grad: np.ndarray, max_entries: int | None, seed: int) -> np.ndarray:
    """Flat indices to check: all, or the largest |grad| plus a seeded random sample."""
    size = grad.size
    if max_entries is None or max_entries >= size:
        return np.arange(size)
    k = min(_N_LARGEST, max(1, max_entries // 2))
    largest = np.argsort(-np.abs(grad.ravel()), kind="stable")[:k]
    rest = np.setdiff1d(np.arange(size), largest)
    sample = np.random.default_rng(seed).choice(rest, size=max_entries - k, replace=False)
    return np.sort(np.concatenate([largest, sample]))


class _Counted:
    """f behind a counter, called on copies (so f cannot change the caller's arrays)."""

    def __init__(self, f: Callable, multi: bool, shapes: list[tuple[int, ...]]) -> None:
        self.f, self.multi, self.shapes, self.calls = f, multi, shapes, 0

    def loss_grads(self, xs: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """f(*xs) as (loss, [grad per input]), with the output checked."""
        self.calls += 1
        out = self.f(*(a.copy() for a in xs)) if self.multi else self.f(xs[0].copy())
        if not (isinstance(out, tuple) and len(out) == 2):
            raise SettingsError("f must return a pair (loss, grad); "
                                f"it returned {type(out).__name__}.")
        loss, grads = out
        if self.multi:
            if not (isinstance(grads, (tuple, list)) and len(grads) == len(xs)):
                raise SettingsError(f"f takes {len(xs)} inputs, so it must return (loss, "
                                    f"(g_0, ..., g_{len(xs) - 1})), one gradient per input.")
            gs = [np.asarray(g, dtype=np.float64) for g in grads]
        else:
            gs = [np.asarray(grads, dtype=np.float64)]
        for i, (g, shape) in enumerate(zip(gs, self.shapes)):
            if g.shape != shape:
                where = f"input {i}" if self.multi else "x"
                raise SettingsError(f"f returned a gradient of shape {g.shape} for {where} of "
                                    f"shape {shape}; make each gradient its input's shape.")
        return float(loss), gs

    def loss(self, xs: list[np.ndarray]) -> float:
        return self.loss_grads(xs)[0]


def _rounded(x: np.ndarray, i: int, step: float) -> float:
    """x.flat[i] + step, rounded to x's dtype (so f, casting back to it, sees it exactly)."""
    return float(np.asarray(float(x.flat[i]) + step, dtype=x.dtype))


def _entry_derivative(fn: Callable[[float], Any], x: np.ndarray, i: int, h: float,
                      where: str) -> Any:
    """Richardson-extrapolated central difference of fn at x.flat[i], 4 calls.

    ``D(h) = (fn(x_i + h) - fn(x_i - h)) / 2h`` has the error ``h^2 f'''/6 +
    O(h^4)``; with the half-widths ``h1 ~ h`` and ``h2 ~ 2h`` actually stepped (after
    rounding to x's dtype), ``(h2^2 D(h1) - h1^2 D(h2)) / (h2^2 - h1^2)`` cancels
    the ``h^2`` term: the error is ``O(h^4)``.
    """
    xi = float(x.flat[i])
    ds: list[Any] = []
    hs: list[float] = []
    for step in (h, 2 * h):
        plus, minus = _rounded(x, i, step), _rounded(x, i, -step)
        if plus - minus <= 0 or (hs and (plus - minus) / 2 <= hs[0]):
            raise SettingsError(f"eps={h:g} is below the resolution of {x.dtype} at "
                                f"{where}={xi:g}; pass a larger eps.")
        ds.append((fn(plus) - fn(minus)) / (plus - minus))
        hs.append((plus - minus) / 2)
    h1, h2 = hs
    return (h2 * h2 * ds[0] - h1 * h1 * ds[1]) / (h2 * h2 - h1 * h1)


def _errors(a: np.ndarray, n: np.ndarray, rtol: float, atol: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|a - n|, |a - n| / |n| and |a - n| / (atol + rtol |n|), non-finite as inf."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a - n)
        rel = np.where(err == 0, 0.0, err / np.abs(n))
        ratio = err / (atol + rtol * np.abs(n))
    bad = ~(np.isfinite(a) & np.isfinite(n))
    for arr in (err, rel, ratio):
        arr[bad | np.isnan(arr)] = np.inf
    return err, rel, ratio


def _result(kind: str, mode: str, stencil: str, labels: list[tuple[str, int, tuple[int, ...]]],
            a: np.ndarray, n: np.ndarray, *, size: int, checked: tuple[int, ...], eps: float,
            rtol: float, atol: float, dtype: str, n_calls: int) -> GradcheckResult:
    err, rel, ratio = _errors(a, n, rtol, atol)
    order = np.argsort(-ratio, kind="stable")[:_N_WORST]
    worst = tuple(WorstEntry(labels[k][0], labels[k][1], labels[k][2], float(a[k]), float(n[k]),
                             float(err[k]), float(rel[k]), float(ratio[k])) for k in order)
    n_failed = int((ratio > 1).sum())
    return GradcheckResult(ok=n_failed == 0, max_ratio=float(ratio.max()),
                           max_abs_error=float(err.max()), max_rel_error=float(rel.max()),
                           n_checked=len(a), n_failed=n_failed, size=size, worst=worst,
                           checked=checked, eps=eps, rtol=rtol, atol=atol, dtype=dtype, mode=mode,
                           n_calls=n_calls, kind=kind, stencil=stencil)


def _directions(xs: list[np.ndarray], directions: int | None, h: float, seed: int
                ) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """Fast mode's steps: (input, x + h u, x - h u, |step|), u a seeded random unit vector.

    Direction ``j`` moves input ``j mod m`` only (so a failure names its input);
    both points are rounded to that input's dtype and ``|step|`` is the length of
    the step actually taken between them.
    """
    m = len(xs)
    k = DEFAULT_DIRECTIONS * m if directions is None else directions
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < m:
        raise SettingsError(f"directions must be a whole number >= {m} (one per input at "
                            f"least), got {directions!r}.")
    rng = np.random.default_rng(seed)
    steps = []
    for j in range(int(k)):
        t = j % m
        x = xs[t]
        u = rng.standard_normal(x.shape)                   # x's shape, isotropic
        u /= np.linalg.norm(u)                             # a uniform unit direction
        plus = (x + h * u).astype(x.dtype).astype(np.float64)   # x's shape
        minus = (x - h * u).astype(x.dtype).astype(np.float64)  # x's shape
        length = float(np.linalg.norm(plus - minus))
        if not length > h:                                 # rounding ate most of the step
            raise SettingsError(f"eps={h:g} is below the resolution of {x.dtype} along a "
                                "random direction; pass a larger eps.")
        steps.append((t, plus, minus, length))
    return steps


def gradcheck(f: Callable[..., tuple[float, Any]], x: Inputs, *, eps: float | None = None,
              rtol: float | None = None, atol: float | None = None,
              max_entries: int | None = None, seed: int = 0, fast: bool = False,
              directions: int | None = None) -> GradcheckResult:
    r"""Compare the gradient ``f`` returns with finite differences of its loss.

    Pass rule: every checked entry has ``|a - n| <= atol + rtol * |n|``.

    Parameters
    ----------
    f : callable
        ``f(x) -> (loss, grad)``: a scalar loss and its gradient, an array of
        ``x``'s shape. For several inputs, ``f(x0, x1, ...) -> (loss, (g0, g1,
        ...))``. ``f`` is called on copies, so it may modify its arguments.
    x : ndarray of float, or tuple of them
        The point to check at (a tuple: one array per input of ``f``, checked
        together). The dtype of the first picks the defaults below.
    eps : float, optional
        Step. Default (full mode) ``1e-3`` for float64, ``1e-2`` for float32;
        (fast mode) ``1e-5`` for float64, ``1e-3`` for float32.
    rtol, atol : float, optional
        The tolerances of the rule. Default ``rtol=1e-6, atol=1e-9`` (float64),
        ``rtol=1e-3, atol=1e-6`` (float32 and narrower).
    max_entries : int, optional
        Full mode: check at most this many entries (default: all), the
        ``min(10, max(1, max_entries // 2))`` of largest ``|grad|`` and a seeded
        uniform sample of the rest.
    seed : int, default 0
        Seed of that sample, and of fast mode's directions.
    fast : bool, default False
        Check ``k`` directional derivatives instead of every entry.
    directions : int, optional
        Fast mode's ``k``; default 4 per input. Direction ``j`` moves input
        ``j mod m`` of ``m``, so ``k >= m``.

    Returns
    -------
    GradcheckResult
        ``ok``, the worst entries with analytic, numeric, absolute and relative
        errors; ``str()`` of it is a readable report.

    Raises
    ------
    SettingsError
        If an input is not a non-empty float array, a setting is out of range,
        ``f`` does not return ``(loss, grad)`` of the inputs' shapes, or ``eps``
        is below the resolution of an input's dtype.

    Notes
    -----
    **Analytic** ``a``: the gradient of ``f`` at ``x`` in its own dtype.
    **Numeric** ``n``: differences of the loss, with ``f`` handed float64 copies
    whose stepped entries are rounded to ``x``'s dtype (so the step is exact even
    if ``f`` casts back to it).

    *Full mode* (``4`` calls of ``f`` per entry, ``4 m + 1`` for ``m`` entries):
    central differences ``D(h) = (f(x + h e_i) - f(x - h e_i)) / 2h`` at ``h``
    and ``2h``, Richardson-extrapolated,

    .. math::

        n_i = \frac{4 D(h) - D(2h)}{3} = \partial_i f - \frac{h^4}{30} \partial_i^5 f
              + O(h^6),

    (with the half-widths actually stepped in place of ``h, 2h``), plus the
    rounding error ``\approx 1.5\,\delta / h`` of a loss accurate to ``\delta``.
    In float64 (``h = 10^{-3}``, ``\delta \approx 10^{-16} |f|``) both are below
    ``10^{-12}`` for the bigram losses, so ``rtol = 10^{-6}, atol = 10^{-9}`` leave
    wide margins while an entry of ``10^{-4}`` off by 10 % (``10^{-5}``) fails by
    100x. In float32 the analytic gradient itself carries rounding error
    (``\approx 10^{-8}`` absolute for the bigram losses) and the defaults
    ``rtol = 10^{-3}, atol = 10^{-6}`` reject a 10 % error on any entry larger
    than ``1.1 \cdot 10^{-5}``. Those float32 defaults assume ``f`` evaluates in
    the dtype it is handed (float64 copies), as :func:`minibigram.loss_and_grad`
    does. If ``f`` casts to float32 itself, its loss has ``\delta \approx 10^{-7}
    |f|`` and the numeric gradient is good to only about ``10^{-5}``: pass
    ``atol=1e-4`` (see docs/gradcheck.md for the figures).

    *Fast mode* (exactly ``2k + 1`` calls): for ``k`` seeded random unit vectors
    ``u`` (direction ``j`` moves input ``j mod m`` only), compare ``a = u \cdot
    g`` with ``n = (f(x + h u) - f(x - h u)) / 2h``, 2nd-order central
    differences (error ``h^2 \partial_u^3 f / 6``, hence the smaller default
    ``h``). ``u`` is the step actually taken after rounding, normalized. With
    the error vector ``e = g_{analytic} - \nabla f``, each direction measures
    ``u \cdot e``, which for ``u`` uniform on the unit sphere of ``R^D`` is about
    ``|e| z / \sqrt{D}`` with ``z \sim N(0, 1)``, while the tolerance is
    ``atol + rtol |u \cdot \nabla f| \approx atol + rtol |\nabla f| / \sqrt{D}``.
    So it **catches** (with probability ``1 - O(\tau/ \sigma)^k``, where ``\tau``
    is that tolerance and ``\sigma = |e| / \sqrt{D}``) any error whose norm is
    well above ``rtol |\nabla f| + atol \sqrt{D}``: a missing or doubled term, a
    transposed or mis-scaled gradient, a sign error in a row. It **cannot**
    catch an error that is small against the whole gradient, e.g. 10 % on one
    small entry among ``10^6`` (``|e|`` far below ``rtol |\nabla f|``), and it
    does not say which entry is wrong (only which input): run full mode, or
    ``max_entries``, to find it.
    """
    xs, multi = _inputs(x)
    eps, rtol, atol = _settings(xs[0], eps, rtol, atol, fast)
    if max_entries is not None and max_entries < 1:
        raise SettingsError(f"max_entries must be at least 1 (or None for all), "
                            f"got {max_entries}.")
    fn = _Counted(f, multi, [a.shape for a in xs])
    _, grads = fn.loss_grads(xs)
    base = [a.astype(np.float64) for a in xs]              # float64 copies f is evaluated at
    size = sum(a.size for a in xs)
    dtype = str(xs[0].dtype)
    labels: list[tuple[str, int, tuple[int, ...]]] = []
    if fast:
        an, nu = [], []
        for j, (t, plus, minus, length) in enumerate(_directions(xs, directions, eps, seed)):
            u = (plus - minus) / length                    # the unit step taken
            an.append(float((grads[t] * u).sum()))
            nu.append((fn.loss([*base[:t], plus, *base[t + 1:]])
                       - fn.loss([*base[:t], minus, *base[t + 1:]])) / length)
            labels.append((f"u{j} of {f'args[{t}]' if multi else 'x'}", t, (j,)))
        return _result("gradcheck", "fast", "2nd-order central", labels, np.array(an),
                       np.array(nu), size=size, checked=(), eps=eps, rtol=rtol, atol=atol,
                       dtype=dtype, n_calls=fn.calls)

    flat = np.concatenate([g.ravel() for g in grads])      # (size,) every input's gradient
    idx = _select(flat, max_entries, seed)                 # (m,) flat indices, ascending
    offsets = np.cumsum([0, *(a.size for a in xs)])        # (inputs + 1,)
    num = np.empty(len(idx))
    for k, i in enumerate(idx):  # four f calls per entry; f is opaque
        t = int(np.searchsorted(offsets, i, side="right") - 1)
        j = int(i - offsets[t])
        index = tuple(int(v) for v in np.unravel_index(j, xs[t].shape))
        label = _label(multi, t, index)
        point = base[t]

        def loss_at(value: float, t: int = t, j: int = j, point: np.ndarray = point) -> float:
            moved = point.copy()
            moved.flat[j] = value
            return fn.loss([*base[:t], moved, *base[t + 1:]])

        num[k] = _entry_derivative(loss_at, xs[t], j, eps, label)
        labels.append((label, t, index))
    return _result("gradcheck", "full", "Richardson 4th-order central", labels, flat[idx], num,
                   size=size, checked=tuple(int(i) for i in idx), eps=eps, rtol=rtol,
                   atol=atol, dtype=dtype, n_calls=fn.calls)


def assert_gradcheck(f: Callable[..., tuple[float, Any]], x: Inputs, *,
                     eps: float | None = None, rtol: float | None = None,
                     atol: float | None = None, max_entries: int | None = None,
                     seed: int = 0, fast: bool = False,
                     directions: int | None = None) -> GradcheckResult:
    """Run :func:`gradcheck` and raise if it fails.

    Parameters
    ----------
    f, x, eps, rtol, atol, max_entries, seed, fast, directions
        As in :func:`gradcheck`.

    Returns
    -------
    GradcheckResult
        The passing result.

    Raises
    ------
    GradcheckError
        A subclass of ``AssertionError`` whose message is the report
        ``str(result)``, when any checked entry fails.
    """
    result = gradcheck(f, x, eps=eps, rtol=rtol, atol=atol, max_entries=max_entries, seed=seed,
                       fast=fast, directions=directions)
    if not result.ok:
        raise GradcheckError(str(result))
    return result


def hvpcheck(grad_f: Callable[[np.ndarray], np.ndarray],
             hvp_f: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, *,
             eps: float | None = None, rtol: float | None = None, atol: float | None = None,
             max_entries: int | None = None, seed: int = 0, fast: bool = False,
             directions: int | None = None) -> GradcheckResult:
    r"""Compare a Hessian-vector product with finite differences of the gradient.

    Pass rule: every checked entry has ``|a - n| <= atol + rtol * |n|``.

    Parameters
    ----------
    grad_f : callable
        ``grad_f(x) -> g``, the gradient (an array of ``x``'s shape), e.g.
        ``lambda W: loss_and_grad(W, xs, ys, reg)[1]``.
    hvp_f : callable
        ``hvp_f(x, v) -> H v``, the Hessian of the same loss at ``x`` times ``v``
        (both of ``x``'s shape), e.g. :func:`minibigram.engines.counts_hvp`.
    x : ndarray of float
        The point.
    eps, rtol, atol, seed, fast, directions
        As in :func:`gradcheck`, with the same dtype defaults.
    max_entries : int, optional
        Full mode: check at most this many columns of the Hessian (default:
        all), chosen as :func:`gradcheck` chooses entries, by ``|g|``.

    Returns
    -------
    GradcheckResult
        ``kind="hvpcheck"``; entries are Hessian entries ``H[row, column]``
        (full mode) or entries ``Hu_j[row]`` of the product along direction
        ``j`` (fast mode).

    Raises
    ------
    SettingsError
        As :func:`gradcheck`, for ``grad_f`` or ``hvp_f`` returning arrays of
        another shape.

    Notes
    -----
    *Full mode*: column ``i`` of the Hessian, ``a = hvp_f(x, e_i)``, against the
    Richardson-extrapolated central difference of the gradient along ``e_i``
    (4 calls of ``grad_f`` and one of ``hvp_f`` per column; every entry of the
    column is judged): ``n = \partial_i g + O(h^4)``.

    *Fast mode*: for ``k`` seeded random unit directions ``u``, the vector
    ``a = hvp_f(x, u)`` against ``n = (g(x + h u) - g(x - h u)) / 2h``, judged
    entry by entry: ``2k`` calls of ``grad_f`` and ``k`` of ``hvp_f``. A wrong
    Hessian ``H + E`` shows as ``E u``, every entry of which is compared, so fast
    mode misses only an ``E`` that is small in every row against the
    tolerance, or one that (improbably, for random ``u``) annihilates the ``k``
    directions drawn.
    """
    xs, _ = _inputs(x)
    x0 = xs[0]
    eps, rtol, atol = _settings(x0, eps, rtol, atol, fast)
    if max_entries is not None and max_entries < 1:
        raise SettingsError(f"max_entries must be at least 1 (or None for all), "
                            f"got {max_entries}.")
    calls = 0

    def grad(point: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        g = np.asarray(grad_f(point.copy()), dtype=np.float64)
        if g.shape != x0.shape:
            raise SettingsError(f"grad_f returned shape {g.shape} for x of shape {x0.shape}; "
                                "return the gradient alone, of x's shape.")
        return g

    def hvp(u: np.ndarray) -> np.ndarray:
        hu = np.asarray(hvp_f(x0.copy(), u.astype(x0.dtype)), dtype=np.float64)
        if hu.shape != x0.shape:
            raise SettingsError(f"hvp_f returned shape {hu.shape} for x of shape {x0.shape}; "
                                "return H v, of x's shape.")
        return hu

    base = x0.astype(np.float64)
    rows = [tuple(int(v) for v in np.unravel_index(r, x0.shape)) for r in range(x0.size)]
    an, nu, labels = [], [], []
    if fast:
        for j, (_, plus, minus, length) in enumerate(_directions([x0], directions, eps, seed)):
            an.append(hvp((plus - minus) / length).ravel())
            nu.append(((grad(plus) - grad(minus)) / length).ravel())
            labels += [(f"Hu{j}[{', '.join(map(str, r))}]", 0, (j, *r)) for r in rows]
        checked: tuple[int, ...] = ()
    else:
        cols = _select(grad(base), max_entries, seed)      # (m,) columns of H to check
        for i in cols:
            e = np.zeros(x0.shape)                         # x's shape
            e.flat[i] = 1.0
            col = tuple(int(v) for v in np.unravel_index(i, x0.shape))

            def grad_at(value: float, i: int = i) -> np.ndarray:
                moved = base.copy()
                moved.flat[i] = value
                return grad(moved)

            an.append(hvp(e).ravel())
            nu.append(np.ravel(_entry_derivative(grad_at, x0, int(i), eps, f"x[{col}]")))
            labels += [(f"H[{r}, {col}]", 0, (*r, *col)) for r in rows]
        checked = tuple(int(i) for i in cols)
    return _result("hvpcheck", "fast" if fast else "full",
                   "2nd-order central" if fast else "Richardson 4th-order central", labels,
                   np.concatenate(an), np.concatenate(nu), size=x0.size, checked=checked,
                   eps=eps, rtol=rtol, atol=atol, dtype=str(x0.dtype), n_calls=calls)


def _engine_problem(rng: np.random.Generator, V: int, n: int, K: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Random contexts X (n, K), targets (n,), joint context ids (n,) and their count C."""
    X, ys = rng.integers(0, V, (n, K)), rng.integers(0, V, n)  # (n, K), (n,)
    if K == 1:
        return X, ys, X[:, 0], V  # the bigram: every character has its row
    # joint encoding: a row per distinct context (sorted, as NGramModel stores them)
    _, ids = np.unique(X, axis=0, return_inverse=True)
    ids = ids.ravel()
    return X, ys, ids, int(ids.max()) + 1


def _joint_counts(xs: np.ndarray, ys: np.ndarray, C: int, V: int) -> np.ndarray:
    N = np.zeros((C, V))                                   # (C, V)
    np.add.at(N, (xs, ys), 1.0)
    return N


def _gradient_of(f: Callable[[np.ndarray], tuple[float, np.ndarray]]
                 ) -> Callable[[np.ndarray], np.ndarray]:
    """``W -> f(W)[1]``: the gradient alone, as :func:`hvpcheck` takes it."""
    return lambda W: f(W)[1]


def check_engines(engines: tuple[str, ...] = CHECKED_ENGINES,
                  dtypes: tuple[str, ...] = ("float64", "float32"),
                  contexts: tuple[int, ...] = (1,), seed: int = 0,
                  max_entries: int | None = 1000, hessian: bool = False
                  ) -> list[tuple[dict, GradcheckResult]]:
    """Check every engine's hand-derived gradient (or Hessian-vector product) on random problems.

    Parameters
    ----------
    engines : tuple of str
        From :data:`CHECKED_ENGINES`: the three engines of
        :func:`~minibigram.loss_and_grad` (the ``"joint"`` encoding: one row of
        ``W`` per context) and ``"concat"`` (:func:`~minibigram.engines.concat_loss_and_grad`,
        ``W`` of shape (K, V, V)).
    dtypes : tuple of str
        ``"float64"`` and/or ``"float32"``: the dtype of ``W``, so of the
        analytic gradient; each dtype uses its default tolerances.
    contexts : tuple of int
        Context lengths K. K = 1 is the bigram: the joint ``W`` is (V, V). For
        K > 1 it is (C, V), one row per distinct context drawn.
    seed : int, default 0
        Seed of the random ``W ~ N(0, 1)``, contexts and targets.
    max_entries : int or None, default 1000
        Passed to :func:`gradcheck` / :func:`hvpcheck` (None: every entry or column).
    hessian : bool, default False
        Check the Hessian-vector products instead (:func:`hvpcheck` of
        :func:`~minibigram.engines.counts_hvp` against the engine's gradient,
        :func:`~minibigram.engines.concat_hvp` for ``"concat"``), in float64.

    Returns
    -------
    list of (case, GradcheckResult)
        One per (K, problem, engine, dtype); ``case`` holds ``engine``, ``K``,
        ``shape`` (of ``W``), ``n``, ``reg`` and ``dtype``.

    Notes
    -----
    The problems are :data:`ENGINE_CASES`. For a given K and problem every
    engine and dtype sees the same data (and the joint engines the same
    ``W``), so rows are comparable.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for K in contexts:
        for V, n, reg in ENGINE_CASES:
            X, ys, xs, C = _engine_problem(rng, V, n, K)
            W_joint = rng.standard_normal((C, V))  # (C, V)
            W_concat = rng.standard_normal((K, V, V))  # (K, V, V)
            N = _joint_counts(xs, ys, C, V)        # (C, V) for counts_hvp
            for engine in engines:
                if engine == "concat":
                    W, f = W_concat, partial(concat_loss_and_grad, X=X, ys=ys, reg=reg)
                    hv = partial(concat_hvp, X=X, reg=reg)
                else:
                    W, f = W_joint, partial(loss_and_grad, xs=xs, ys=ys, reg=reg, engine=engine)
                    hv = partial(counts_hvp, N=N, reg=reg)
                for dtype in dtypes:
                    if hessian:
                        result = hvpcheck(_gradient_of(f), hv, W.astype(dtype),
                                          max_entries=max_entries)
                    else:
                        result = gradcheck(f, W.astype(dtype), max_entries=max_entries)
                    case = {"engine": engine, "K": K, "shape": list(W.shape), "n": n,
                            "reg": reg, "dtype": dtype}
                    rows.append((case, result))
    return rows


@dataclass(frozen=True)
class ReferenceProblem:
    """A fixed float64 problem with its loss, gradient and Hessian-vector products.

    Attributes
    ----------
    name : str
        One of :data:`REFERENCE_PROBLEMS`.
    W : ndarray, float64
        The point: (V, V) for ``"bigram"``, (C, V) for ``"ngram-joint"`` (one
        row per distinct context), (K, V, V) for ``"ngram-concat"``.
    xs : ndarray of int
        Contexts: (n,) row ids of ``W`` (joint problems) or (n, K) characters,
        oldest first (concat).
    ys : ndarray of int, shape (n,)
        Targets.
    reg : float
        L2 strength of the penalty ``reg * mean(W**2)``.
    loss : float
        The loss at ``W``: ``-mean(log softmax(logits)[k, ys[k]]) + reg *
        mean(W**2)`` with ``logits = W[xs]`` (joint) or ``logits[k] = sum_p
        W[p, xs[k, p]]`` (concat).
    grad : ndarray, float64, ``W``'s shape
        Its gradient at ``W``.
    """

    name: str
    W: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    reg: float
    loss: float
    grad: np.ndarray

    def loss_and_grad(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        """The problem's loss and gradient at any ``W`` of its shape (float64)."""
        W = np.asarray(W, dtype=np.float64)
        if self.name == "ngram-concat":
            return concat_loss_and_grad(W, self.xs, self.ys, self.reg)
        return loss_and_grad(W, self.xs, self.ys, self.reg, engine="index")

    def hvp(self, U: np.ndarray, W: np.ndarray | None = None) -> np.ndarray:
        """The Hessian at ``W`` (default: the problem's ``W``) times ``U`` (W's shape)."""
        W = self.W if W is None else np.asarray(W, dtype=np.float64)
        if self.name == "ngram-concat":
            return concat_hvp(W, U, self.xs, self.reg)
        return counts_hvp(W, U, _joint_counts(self.xs, self.ys, *self.W.shape), self.reg)


def reference_problem(name: str = "bigram", seed: int = 0) -> ReferenceProblem:
    """A fixed, seeded float64 problem to compare another framework's derivatives with.

    Parameters
    ----------
    name : {"bigram", "ngram-joint", "ngram-concat"}
        ``"bigram"``: V = 27, W (27, 27), 500 examples, reg 0.01.
        ``"ngram-joint"``: contexts of K = 2 characters, V = 7, one row of W per
        distinct context drawn, 300 examples, reg 0.1. ``"ngram-concat"``: the
        same data, W (2, 7, 7), logits the sum of one row per position.
    seed : int, default 0
        Seed of ``W ~ N(0, 1)``, contexts and targets (numpy's ``default_rng``).

    Returns
    -------
    ReferenceProblem
        ``W, xs, ys, reg, loss, grad`` and methods ``loss_and_grad(W)`` and
        ``hvp(U, W=None)``; all computed in float64 by the hand-derived code,
        which :func:`gradcheck` and :func:`hvpcheck` check.

    Raises
    ------
    SettingsError
        For an unknown name.
    """
    if name not in REFERENCE_PROBLEMS:
        raise SettingsError(f"unknown reference problem {name!r}: choose one of "
                            f"{', '.join(REFERENCE_PROBLEMS)}.")
    rng = np.random.default_rng(seed)
    V, n, K, reg = (27, 500, 1, 0.01) if name == "bigram" else (7, 300, 2, 0.1)
    X, ys, ids, C = _engine_problem(rng, V, n, K)
    if name == "ngram-concat":
        W, xs = rng.standard_normal((K, V, V)), X          # (K, V, V), (n, K)
        loss, grad = concat_loss_and_grad(W, xs, ys, reg)
    else:
        W, xs = rng.standard_normal((C, V)), ids           # (C, V), (n,)
        loss, grad = counts_loss_and_grad(W, _joint_counts(xs, ys, C, V), reg)
    return ReferenceProblem(name, W, xs, ys, reg, loss, grad)

