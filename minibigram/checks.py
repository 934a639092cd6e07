"""A finite-difference gradient checker that can fail, for any ``f(x) -> (loss, grad)``.

:func:`gradcheck` compares an analytic gradient with central differences and
returns a :class:`GradcheckResult`; :func:`assert_gradcheck` raises a
:class:`GradcheckError` (an ``AssertionError``) with a readable report, for use
inside other projects' tests::

    from minibigram import assert_gradcheck
    assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, reg=0.01), W)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from .data import context_codes
from .engines import ENGINES, concat_loss_and_grad, loss_and_grad
from .errors import SettingsError

# (eps, rtol, atol) by the precision of x; see the Notes of gradcheck.
_DOUBLE_DEFAULTS = (1e-6, 1e-5, 1e-7)
_SINGLE_DEFAULTS = (1e-2, 1e-2, 1e-3)
_N_LARGEST = 10  # entries of largest |gradient| always checked when subsampling
_N_WORST = 5  # entries listed in a result
# (V, n, reg) of the random problems check_engines runs every engine on
ENGINE_CASES = ((2, 5, 0.0), (7, 60, 0.1), (27, 400, 0.01))
CHECKED_ENGINES = (*ENGINES, "concat")


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences; the message is the report."""


@dataclass(frozen=True)
class WorstEntry:
    """One checked entry: where, the two gradients, and their relative error."""

    index: tuple[int, ...]
    analytic: float
    numeric: float
    rel_error: float


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`.

    Attributes
    ----------
    ok : bool
        True when every checked entry has ``rel_error <= rtol``.
    max_rel_error : float
        The largest relative error over the checked entries (``inf`` if a value
        was not finite).
    n_checked : int
        How many entries were checked.
    n_failed : int
        How many of them have ``rel_error > rtol``.
    size : int
        How many entries ``x`` has.
    worst : tuple of WorstEntry
        Up to 5 checked entries with the largest relative error, worst first.
    checked : tuple of int
        Flat (C-order) indices of the checked entries, ascending.
    eps, rtol, atol : float
        The settings used (after dtype defaults were filled in).
    dtype : str
        The dtype of ``x``.
    """

    ok: bool
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

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        lines = [
            f"gradcheck {verdict}: {self.n_failed} of {self.n_checked} checked entries "
            f"(of {self.size}) exceed rtol={self.rtol:g}; max relative error "
            f"{self.max_rel_error:.3e} (atol={self.atol:g}, eps={self.eps:g}, {self.dtype})",
            f"  {'index':<14} {'analytic':>14} {'numeric':>14} {'rel error':>10}",
        ]
        for e in self.worst:
            mark = "" if e.rel_error <= self.rtol else "  <- fails"
            lines.append(f"  {str(e.index):<14} {e.analytic:>14.6e} {e.numeric:>14.6e} "
                         f"{e.rel_error:>10.3e}{mark}")
        return "\n".join(lines)


def _defaults(dtype: np.dtype) -> tuple[float, float, float]:
    """Double-precision defaults for float64 and wider, single-precision ones otherwise."""
    wide = np.finfo(dtype).eps <= np.finfo(np.float64).eps
    return _DOUBLE_DEFAULTS if wide else _SINGLE_DEFAULTS


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


def _call(f: Callable, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate f on a copy (so f cannot change the caller's array) and check its output."""
    out = f(x.copy())
    if not (isinstance(out, tuple) and len(out) == 2):
        raise SettingsError("f(x) must return a pair (loss, grad); "
                            f"it returned {type(out).__name__}.")
    loss, grad = out
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise SettingsError(f"f(x) returned a gradient of shape {grad.shape} for x of shape "
                            f"{x.shape}; make grad the same shape as x.")
    return float(loss), grad


def gradcheck(f: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, *,
              eps: float | None = None, rtol: float | None = None, atol: float | None = None,
              max_entries: int | None = None, seed: int = 0) -> GradcheckResult:
    r"""Compare the gradient ``f`` returns with central finite differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> (loss, grad)``: a scalar loss and its gradient, an array of
        ``x``'s shape. ``f`` is called on copies, so it may modify its argument.
    x : ndarray of float
        The point to check at. Its dtype picks the defaults below.
    eps : float, optional
        Finite-difference step. Default ``1e-6`` for float64 ``x``, ``1e-2``
        for float32 (and narrower) ``x``.
    rtol : float, optional
        Largest accepted relative error. Default ``1e-5`` (float64),
        ``1e-2`` (float32).
    atol : float, optional
        Absolute error always accepted, for entries near 0. Default ``1e-7``
        (float64), ``1e-3`` (float32).
    max_entries : int, optional
        Check at most this many entries (default: all): the
        ``min(10, max(1, max_entries // 2))`` entries of largest ``|grad|``
        and a uniform random sample of the rest drawn with ``seed``.
    seed : int, default 0
        Seed of that sample; the same arguments always check the same entries.

    Returns
    -------
    GradcheckResult
        ``ok``, the worst relative error and the worst entries; ``str()`` of it
        is a readable report.

    Raises
    ------
    SettingsError
        If ``x`` is not a non-empty float array, a setting is out of range,
        ``f`` does not return ``(loss, grad)`` with ``grad.shape == x.shape``,
        or ``eps`` is below the resolution of ``x``'s dtype at some entry.

    Notes
    -----
    The analytic gradient is ``a = grad`` from ``f(x)``, with ``x`` in its own
    dtype. For each checked entry ``i`` the numeric gradient is the central
    difference, computed in float64,

    .. math::

        n_i = \frac{f(x + h e_i) - f(x - h e_i)}{(x_i + h) - (x_i - h)},

    where ``x`` is handed to ``f`` as a float64 copy and ``x_i \pm h`` are
    first rounded to ``x``'s dtype, so the step is exact even if ``f`` casts
    its input back to that dtype. Its error is ``O(h^2 f''')`` from truncation
    plus ``O(\epsilon_{mach} |f| / h)`` from rounding the loss.

    Pass rule: with :math:`\tau = atol / rtol` (or the smallest normal float
    when ``atol = 0``),

    .. math::

        r_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, \tau)}, \qquad
        \text{ok} \iff \max_i r_i \le rtol,

    which is the same as ``|a_i - n_i| <= max(atol, rtol * max(|a_i|, |n_i|))``:
    entries larger than :math:`\tau` are judged by relative error, smaller ones
    by absolute error. A non-finite value counts as ``r_i = inf``.

    *Float64* (``eps=1e-6``, ``rtol=1e-5``, ``atol=1e-7``): for a loss of order
    1 to 30 the numeric gradient is good to about ``1e-10`` to ``1e-8``
    absolute, so correct gradients pass with a margin of 15x or more (measured
    on softmax cross-entropy with L2, V up to 27, n up to 20000, logits up to
    5, reg up to 1), while a single entry off by ``1e-4`` (or by a relative
    ``1e-4`` where ``|a_i| > 1e-3``) fails. Scale ``atol`` with the loss for
    losses much larger than that.

    *Float32*: if ``f`` computes in float32, the loss carries rounding error of
    about ``1e-7 |f|`` (more after sums over many examples), and dividing by
    ``2h`` amplifies it; ``h = 1e-2`` balances that against truncation error
    for functions that vary on a scale of 1 (the textbook optimum is
    ``\epsilon_{mach}^{1/3} \approx 5e-3``). The check then resolves errors of
    about 1% or ``1e-3`` absolute, not finer (correct float32 gradients passed
    with a margin of 3x in the sweep above when ``f`` computed in float32, 100x
    when ``f`` followed the float64 copies): to catch small mistakes, check in
    float64.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating) or x.size == 0:
        raise SettingsError(f"x must be a non-empty float array, got dtype {x.dtype} with "
                            f"{x.size} entries; pass e.g. W.astype(np.float64).")
    d_eps, d_rtol, d_atol = _defaults(x.dtype)
    eps = d_eps if eps is None else float(eps)
    rtol = d_rtol if rtol is None else float(rtol)
    atol = d_atol if atol is None else float(atol)
    if not (eps > 0 and rtol > 0 and atol >= 0):
        raise SettingsError(f"need eps > 0, rtol > 0 and atol >= 0, got eps={eps}, rtol={rtol}, "
                            f"atol={atol}; pass positive values (or None for the defaults).")
    if max_entries is not None and max_entries < 1:
        raise SettingsError(f"max_entries must be at least 1 (or None for all), "
                            f"got {max_entries}.")

    _, a = _call(f, x)
    a = a.ravel()  # (size,)
    idx = _select(a, max_entries, seed)  # (m,) flat indices
    xt = x.astype(np.float64)  # the float64 point f is evaluated at; _call hands f a copy
    num = np.empty(len(idx))
    for k, i in enumerate(idx):  # one pair of f calls per entry; f is opaque
        xi = float(x.flat[i])
        plus = float(np.asarray(xi + eps, dtype=x.dtype))  # x_i + h rounded to x's dtype
        minus = float(np.asarray(xi - eps, dtype=x.dtype))
        if plus == minus:
            where = tuple(int(j) for j in np.unravel_index(i, x.shape))
            raise SettingsError(f"eps={eps:g} is below the resolution of {x.dtype} at "
                                f"x[{where}]={xi:g}; pass a larger eps.")
        xt.flat[i] = plus
        loss_plus, _ = _call(f, xt)
        xt.flat[i] = minus
        loss_minus, _ = _call(f, xt)
        xt.flat[i] = xi
        num[k] = (loss_plus - loss_minus) / (plus - minus)

    ai = a[idx]
    floor = atol / rtol if atol > 0 else np.finfo(np.float64).tiny
    with np.errstate(invalid="ignore", over="ignore"):
        rel = np.abs(ai - num) / np.maximum(np.maximum(np.abs(ai), np.abs(num)), floor)
    rel[~np.isfinite(rel)] = np.inf

    order = np.argsort(-rel, kind="stable")[:_N_WORST]
    worst = tuple(WorstEntry(tuple(int(j) for j in np.unravel_index(idx[k], x.shape)),
                             float(ai[k]), float(num[k]), float(rel[k])) for k in order)
    n_failed = int((rel > rtol).sum())
    return GradcheckResult(ok=n_failed == 0, max_rel_error=float(rel.max()),
                           n_checked=len(idx), n_failed=n_failed, size=x.size, worst=worst,
                           checked=tuple(int(i) for i in idx), eps=eps, rtol=rtol, atol=atol,
                           dtype=str(x.dtype))


def assert_gradcheck(f: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, *,
                     eps: float | None = None, rtol: float | None = None,
                     atol: float | None = None, max_entries: int | None = None,
                     seed: int = 0) -> GradcheckResult:
    """Run :func:`gradcheck` and raise if it fails.

    Parameters
    ----------
    f, x, eps, rtol, atol, max_entries, seed
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
    result = gradcheck(f, x, eps=eps, rtol=rtol, atol=atol, max_entries=max_entries, seed=seed)
    if not result.ok:
        raise GradcheckError(str(result))
    return result


def check_engines(engines: tuple[str, ...] = CHECKED_ENGINES,
                  dtypes: tuple[str, ...] = ("float64", "float32"),
                  contexts: tuple[int, ...] = (1,), seed: int = 0,
                  max_entries: int | None = 1000) -> list[tuple[dict, GradcheckResult]]:
    """Gradient-check every engine's hand-derived gradient on random problems.

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
        Passed to :func:`gradcheck` (None: check every entry).

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
            X, ys = rng.integers(0, V, (n, K)), rng.integers(0, V, n)  # (n, K), (n,)
            if K == 1:
                xs, C = X[:, 0], V  # the bigram: every character has its row
            else:  # joint encoding: a row per distinct context, as NGramModel stores them
                _, xs = np.unique(context_codes(X, V), return_inverse=True)
                xs = xs.ravel()
                C = int(xs.max()) + 1
            W_joint = rng.standard_normal((C, V))  # (C, V)
            W_concat = rng.standard_normal((K, V, V))  # (K, V, V)
            for engine in engines:
                if engine == "concat":
                    W, f = W_concat, partial(concat_loss_and_grad, X=X, ys=ys, reg=reg)
                else:
                    W, f = W_joint, partial(loss_and_grad, xs=xs, ys=ys, reg=reg, engine=engine)
                for dtype in dtypes:
                    result = gradcheck(f, W.astype(dtype), max_entries=max_entries)
                    case = {"engine": engine, "K": K, "shape": list(W.shape), "n": n,
                            "reg": reg, "dtype": dtype}
                    rows.append((case, result))
    return rows
