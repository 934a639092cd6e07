"""Finite-difference checks of derivatives, with three verdicts: pass, fail, inconclusive.

:func:`gradcheck` compares the derivative an ``f`` returns (the gradient of a
scalar loss, a Jacobian, or a vector-Jacobian product) with finite differences
of its output, entry by entry or (``fast=True``) along a few random directions;
:func:`hvpcheck` compares a Hessian-vector product with differences of a
gradient. Both return a :class:`GradcheckResult` whose ``str()`` is a readable
report; :func:`assert_gradcheck` raises a :class:`GradcheckError` (an
``AssertionError``) for use inside other projects' tests::

    from minibigram import assert_gradcheck
    assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, reg=0.01), W)

The rule (:data:`PASS_RULE`): a checked value fails when ``|a - n| > atol +
rtol * |n| + noise``, ``noise`` being what rounding and truncation can do to the
difference ``n`` (:data:`NOISE_RULE`); it cannot be judged when that noise is
above a tenth of the value (or of the input's typical value), and the verdict is
then ``"inconclusive"`` unless some value fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Union

import numpy as np

from .errors import SettingsError
from .progress import Progress

PASS_RULE = "|a - n| <= atol + rtol * |n| + noise"
#: How the noise of a difference ``n = (4 D(h) - D(2h)) / 3`` is bounded.
NOISE_RULE = ("noise = 1.5 * 2 * eps_dtype * |y| / h (rounding of y, 2 ulps, amplified by "
              "the step h) + |D(h) - D(2h)| (the measured spread of the two differences, and "
              "the drift of their midpoint from x when rounded to x's dtype) + its median over "
              "the input + 2 * eps_dtype * |a| (rounding of the analytic value)")
NOISE_ULPS = 2          # rounding error of one evaluation of f, in units of its dtype's eps
UNDECIDED_SHARE = 0.1   # a value is judged only if its noise is at most this share of its size
DEFAULT_DIRECTIONS = 4  # random directions per input in fast mode
PROGRESS_AFTER = 2.0    # seconds before a check shows its progress on stderr
_N_LARGEST = 10         # entries of largest |gradient| always checked when subsampling
_N_WORST = 5            # entries listed in a result
_STEP_TRIES = 2         # how many times the step may shrink (by 4) or grow (by 4) per input
VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Defaults:
    """Default settings for one precision: the first step tried, and the tolerances."""

    eps: float
    rtol: float
    atol: float


#: Defaults by the precision of ``x``: ``"float64"`` for float64 and wider,
#: ``"float32"`` for float32 and narrower. The step ``eps`` is about
#: ``eps_dtype ** (1/5)``, where rounding (``~ eps_dtype / h``) meets the
#: truncation of the 4th-order difference (``~ h^4``) for a function of unit scale.
DEFAULTS = {"float64": Defaults(eps=1e-3, rtol=1e-6, atol=0.0),
            "float32": Defaults(eps=3e-2, rtol=1e-3, atol=0.0)}

Inputs = Union[np.ndarray, Sequence[np.ndarray], dict]


def defaults_table() -> str:
    """The defaults as a Markdown table (docs/gradcheck.md prints it)."""
    rows = ["| precision of x | eps (first step) | rtol | atol |", "|---|---|---|---|"]
    rows += [f"| {k} | {d.eps:g} | {d.rtol:g} | {d.atol:g} |" for k, d in DEFAULTS.items()]
    return "\n".join(rows)


class GradcheckError(AssertionError):
    """A derivative disagrees with finite differences, or could not be judged; the message
    is the report."""


@dataclass(frozen=True)
class WorstEntry:
    """One checked value: where, the two values, their error and its allowance.

    Attributes
    ----------
    label : str
        Where: ``x[2, 3]`` (one input), ``args[1][2, 3]`` (a tuple of inputs),
        ``W1[3, 7]`` (a dict of named inputs), ``d y[1] / d x[2, 3]`` (a
        Jacobian entry), ``u0 of x`` (fast mode: direction 0), ``H[(2, 3), (1,
        4)]`` (hvpcheck: row, column of the Hessian) or ``Hu0[2, 3]``.
    input : int
        Which input (0 when there is one; dict inputs in their order).
    index : tuple of int
        The entry's index in that input (fast mode: ``(direction,)``; vector
        outputs and hvpcheck: output index then input index).
    analytic, numeric : float
    abs_error : float
        ``|a - n|``.
    rel_error : float
        ``|a - n| / |n|`` (``inf`` when ``n = 0`` and ``a != 0``).
    ratio : float
        ``|a - n| / (atol + rtol |n| + noise)``: the value fails when it is above 1.
    noise : float
        The noise allowance of this value (see :data:`NOISE_RULE`).
    judged : bool
        False when the noise is above :data:`UNDECIDED_SHARE` of the value's size.
    """

    label: str
    input: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ratio: float
    noise: float = 0.0
    judged: bool = True


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck` or :func:`hvpcheck`.

    Attributes
    ----------
    verdict : {"pass", "fail", "inconclusive"}
        ``"fail"`` when a checked value breaks the rule, else ``"inconclusive"``
        when a value could not be judged (its noise hides what a wrong
        derivative would change), else ``"pass"``.
    max_ratio : float
        The largest ``|a - n| / (atol + rtol |n| + noise)`` (``inf`` if a value
        was not finite).
    max_abs_error, max_rel_error : float
        The largest ``|a - n|`` and ``|a - n| / |n|`` over the checked values.
    n_checked : int
        How many entries (fast mode: directions; hvpcheck full mode: columns of
        the Hessian) were checked.
    n_failed, n_inconclusive : int
        How many of them break the rule, and how many (not failing) hold a value
        that could not be judged.
    n_compared : int
        How many values were compared (more than ``n_checked`` for vector
        outputs and hvpcheck: a column or a product has many entries).
    size : int
        How many entries the inputs have together.
    worst : tuple of WorstEntry
        Up to 5 values with the largest ``ratio``, worst first.
    undecided : tuple of WorstEntry
        Up to 5 values that could not be judged, noisiest first.
    noise_floor : float
        The largest noise allowance of a checked value.
    checked : tuple of int
        Full mode: flat indices of the checked entries (hvpcheck: columns) into
        the inputs raveled and concatenated, ascending. Fast mode: empty.
    eps : float
        The first step tried.
    steps : tuple of float
        The step used for each input.
    rtol, atol : float
        The tolerances used (after dtype defaults were filled in).
    dtype : str
        The dtype of the (first) input.
    mode : str
        ``"full"`` or ``"fast"``.
    n_calls : int
        Evaluations of ``f`` (hvpcheck: of ``grad_f``).
    kind : str
        ``"gradcheck"`` or ``"hvpcheck"``.
    stencil : str
        The difference formula.
    """

    verdict: str
    max_ratio: float
    max_abs_error: float
    max_rel_error: float
    n_checked: int
    n_failed: int
    n_inconclusive: int
    n_compared: int
    size: int
    worst: tuple[WorstEntry, ...]
    undecided: tuple[WorstEntry, ...]
    noise_floor: float
    checked: tuple[int, ...]
    eps: float
    steps: tuple[float, ...]
    rtol: float
    atol: float
    dtype: str
    mode: str = "full"
    n_calls: int = 0
    kind: str = "gradcheck"
    stencil: str = "Richardson 4th-order central"

    @property
    def ok(self) -> bool:
        """True only when the verdict is ``"pass"``."""
        return self.verdict == "pass"

    def __str__(self) -> str:
        word = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        what = "directions" if self.mode == "fast" else (
            "columns of H" if self.kind == "hvpcheck" else "entries")
        compared = (f", {self.n_compared} values compared" if self.n_compared != self.n_checked
                    else "")
        steps = ", ".join(f"{h:.3g}" for h in dict.fromkeys(self.steps))
        lines = [
            f"{self.kind} {word}: {self.n_failed} of {self.n_checked} checked {what} fail "
            f"and {self.n_inconclusive} cannot be judged (of {self.size} entries{compared}); "
            f"rule {PASS_RULE} with atol={self.atol:g}, rtol={self.rtol:g}, noise up to "
            f"{self.noise_floor:.3g} ({self.mode} mode, {self.stencil}, step {steps}, "
            f"{self.n_calls} calls, {self.dtype})",
        ]
        if self.worst:
            e = self.worst[0]
            sign = "<=" if e.ratio <= 1 else ">"
            lines.append(f"  worst {e.label}: |a - n| = {e.abs_error:.3e} {sign} "
                         f"{self.atol + self.rtol * abs(e.numeric) + e.noise:.3e} = atol + "
                         f"rtol * |n| + noise (ratio {e.ratio:.3g}; relative error "
                         f"|a - n|/|n| = {e.rel_error:.3e})")
        shown = (*self.worst, *self.undecided) if self.verdict == "inconclusive" else self.worst
        width = max([14, *(len(e.label) for e in shown)])
        lines.append(f"  {'entry':<{width}} {'analytic a':>14} {'numeric n':>14} "
                     f"{'|a - n|':>10} {'|a - n|/|n|':>11} {'noise':>10}")
        for e in dict.fromkeys(shown):
            mark = "  <- fails" if e.ratio > 1 else ("" if e.judged else "  <- cannot tell")
            lines.append(f"  {e.label:<{width}} {e.analytic:>14.6e} {e.numeric:>14.6e} "
                         f"{e.abs_error:>10.3e} {e.rel_error:>11.3e} {e.noise:>10.3e}{mark}")
        if self.verdict == "inconclusive":
            lines.append(f"  {self.n_inconclusive} {what} hold values whose noise is above "
                         f"{UNDECIDED_SHARE:g} of their size, so a wrong derivative there could "
                         "pass unseen; to decide them compute in float64, scale the loss down "
                         "(or subtract its constant part), or pass a wider eps.")
        return "\n".join(lines)


def _precision(dtype: np.dtype) -> str:
    """``"float64"`` for float64 and wider, ``"float32"`` otherwise: the row of DEFAULTS."""
    return "float64" if np.finfo(dtype).eps <= np.finfo(np.float64).eps else "float32"


def _settings(dtype: np.dtype, eps: float | None, rtol: float | None, atol: float | None
              ) -> tuple[float, float, float]:
    d = DEFAULTS[_precision(dtype)]
    eps = d.eps if eps is None else float(eps)
    rtol = d.rtol if rtol is None else float(rtol)
    atol = d.atol if atol is None else float(atol)
    if not (eps > 0 and rtol >= 0 and atol >= 0):
        raise SettingsError(f"need eps > 0, rtol >= 0 and atol >= 0, got eps={eps}, "
                            f"rtol={rtol}, atol={atol}; pass such values (or None for the "
                            "defaults).")
    return eps, rtol, atol


class _Inputs:
    """The inputs of f: one array, a tuple of arrays, or a dict of named arrays."""

    def __init__(self, x: Inputs) -> None:
        if isinstance(x, list):
            raise SettingsError("x is a list, which gradcheck does not guess about: pass "
                                "np.asarray(x) for one input, or a tuple (or a dict) of arrays "
                                "for several.")
        if isinstance(x, dict):
            self.kind, self.names = "dict", [str(k) for k in x]
            arrays = [np.asarray(v) for v in x.values()]
        elif isinstance(x, tuple):
            self.kind, self.names = "tuple", [f"args[{i}]" for i in range(len(x))]
            arrays = [np.asarray(a) for a in x]
        else:
            self.kind, self.names, arrays = "array", ["x"], [np.asarray(x)]
        if not arrays:
            raise SettingsError(f"x is an empty {type(x).__name__}: pass an array, or a tuple "
                                "or dict of arrays for an f of several inputs.")
        for name, a in zip(self.names, arrays):
            if not np.issubdtype(a.dtype, np.floating) or a.size == 0:
                raise SettingsError(f"{name} must be a non-empty float array, got dtype "
                                    f"{a.dtype} with {a.size} entries; pass e.g. "
                                    "W.astype(np.float64).")
        self.keys = list(x) if isinstance(x, dict) else []
        self.arrays = arrays
        self.base = [a.astype(np.float64) for a in arrays]  # f is evaluated at float64 copies
        self.size = sum(a.size for a in arrays)
        self.offsets = np.cumsum([0, *(a.size for a in arrays)])  # (inputs + 1,)

    def call(self, f: Callable, arrays: list[np.ndarray]) -> Any:
        """f at these arrays (copies, so f cannot change the caller's)."""
        copies = [a.copy() for a in arrays]
        if self.kind == "dict":
            return f(dict(zip(self.keys, copies)))
        return f(*copies)

    def split(self, obj: Any, what: str, shapes: Callable[[int], tuple[int, ...]]
              ) -> list[np.ndarray]:
        """One float64 array per input from what f returned (an array, tuple or dict)."""
        if self.kind == "dict":
            if not (isinstance(obj, dict) and set(obj) == set(self.keys)):
                raise SettingsError(f"x is a dict of {', '.join(self.names)}, so f must return "
                                    f"its {what} as a dict with the same keys.")
            parts = [obj[k] for k in self.keys]
        elif self.kind == "tuple":
            if not (isinstance(obj, (tuple, list)) and len(obj) == len(self.arrays)):
                raise SettingsError(f"f takes {len(self.arrays)} inputs, so it must return "
                                    f"its {what} as a tuple of {len(self.arrays)} arrays, one "
                                    "per input.")
            parts = list(obj)
        else:
            parts = [obj]
        out = []
        for t, p in enumerate(parts):
            arr = np.asarray(p, dtype=np.float64)
            if arr.shape != shapes(t):
                raise SettingsError(f"f returned a {what} of shape {arr.shape} for "
                                    f"{self.names[t]}; it must have shape {shapes(t)}.")
            out.append(arr)
        return out

    def where(self, flat: int) -> tuple[int, int]:
        """(input, index into that input) of a flat index into all inputs."""
        t = int(np.searchsorted(self.offsets, flat, side="right") - 1)
        return t, int(flat - self.offsets[t])

    def label(self, t: int, index: tuple[int, ...]) -> str:
        return f"{self.names[t]}[{', '.join(str(j) for j in index)}]"


def _finite_y(out: Any, where: str) -> np.ndarray:
    try:
        y = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise SettingsError(f"f returned a {type(out).__name__} as its output {where}; "
                            "return a number or a float array.") from None
    if not np.all(np.isfinite(y)):
        bad = y.ravel()[~np.isfinite(y.ravel())][0]
        raise SettingsError(f"f returned {bad} as its output {where}, so no difference can "
                            "be taken; make f finite there (or, if only the stepped points "
                            "leave its domain, pass a smaller eps).")
    return y


def _eps_of(*arrays: Any) -> float:
    """The machine epsilon of the least precise float dtype among these (Python floats
    count as float64)."""
    eps = [np.finfo(np.asarray(a).dtype).eps for a in arrays
           if np.issubdtype(np.asarray(a).dtype, np.floating)]
    return float(max(eps)) if eps else float(np.finfo(np.float64).eps)


@dataclass
class _Probe:
    """One checked entry or direction: analytic and numeric values and their noise."""

    a: np.ndarray         # (m,) analytic values
    n: np.ndarray         # (m,) numeric values
    spread: np.ndarray    # (m,) |D(h) - D(2h)|
    noise: float          # rounding allowance of n, 1.5 delta / h
    alpha: float          # rounding allowance of a
    typical: float        # the size a wrong value would differ by, if not the value's own
    group: int            # input
    labels: list[tuple[str, tuple[int, ...]]]


def _richardson(y_at: Callable[[np.ndarray], np.ndarray], x: np.ndarray, base: np.ndarray,
                y0: np.ndarray, step: Callable[[float], tuple[np.ndarray, np.ndarray]], h: float,
                where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``n = (4 D(h) - D(2h)) / 3`` with ``D(h) = (y(x + h d) - y(x - h d)) / 2h``.

    ``step(k)`` gives the two points ``x +- k h d`` rounded to x's dtype (so f,
    casting back to it, sees them exactly). The rounding makes the steps taken
    differ a little from ``k h d``; the returned ``w = (4 w(h) - w(2h)) / 3``,
    with ``w(k) = (plus - minus) / 2kh``, is the direction the difference
    actually measures: compare ``n`` with ``J w``. Rounding also moves the
    midpoint of the two points off ``x`` (by up to ``|x|`` for an entry much
    smaller than the step), which moves ``D`` by the curvature times that offset;
    the second difference ``(y_+ + y_- - 2 y(x)) / (kh)^2`` measures the
    curvature. Returns ``n``, ``|D(h) - D(2h)|`` plus that midpoint error, ``w``
    and the largest ``|y|`` met.
    """
    ds, ws, widths, shifts, ymax = [], [], [], [], 0.0
    for k in (1, 2):
        plus, minus = step(k)
        widths.append(plus - minus)
        if not np.any(widths[-1]) or (k == 2 and np.array_equal(widths[0], widths[1])):
            raise SettingsError(f"eps={h:g} is below the resolution of {x.dtype} at {where}; "
                                "pass a larger eps.")
        yp, ym = y_at(plus), y_at(minus)
        ymax = max(ymax, float(np.abs(yp).max()), float(np.abs(ym).max()))
        ds.append((yp - ym) / (2 * k * h))
        ws.append((plus - minus) / (2 * k * h))
        offset = float(np.linalg.norm((plus + minus) / 2 - base))   # the midpoint's drift
        shifts.append(np.abs(yp + ym - 2 * y0) / (k * h) ** 2 * offset if offset else 0.0)
    n = (4 * ds[0] - ds[1]) / 3
    drift = (4 * shifts[0] + shifts[1]) / 3
    return n, np.abs(ds[0] - ds[1]) + drift, (4 * ws[0] - ws[1]) / 3, ymax


def _entry_step(x: np.ndarray, base: np.ndarray, i: int, h: float
                ) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
    def step(k: float) -> tuple[np.ndarray, np.ndarray]:
        plus, minus = base.copy(), base.copy()
        plus.flat[i] = float(np.asarray(base.flat[i] + k * h, dtype=x.dtype))
        minus.flat[i] = float(np.asarray(base.flat[i] - k * h, dtype=x.dtype))
        return plus, minus
    return step


def _direction_step(x: np.ndarray, base: np.ndarray, u: np.ndarray, h: float
                    ) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
    def step(k: float) -> tuple[np.ndarray, np.ndarray]:
        plus = (base + k * h * u).astype(x.dtype).astype(np.float64)    # x's shape
        minus = (base - k * h * u).astype(x.dtype).astype(np.float64)   # x's shape
        return plus, minus
    return step


def _choose_step(trial: Callable[[float], tuple[float, float]], h0: float) -> float:
    """The step, from ``h0`` by factors of 4, that minimizes rounding plus spread.

    ``trial(h)`` returns ``(rounding, spread)`` of one difference at step ``h``:
    rounding grows like ``1/h``, the spread (truncation) like ``h^2``. The step
    moves (at most :data:`_STEP_TRIES` times each way) while their sum falls.
    """
    best_h = h0
    rounding, spread = trial(h0)
    best = rounding + spread
    factor = 0.25 if spread > rounding else 4.0
    h = h0
    for _ in range(_STEP_TRIES):
        h *= factor
        try:
            r, s = trial(h)
        except SettingsError:    # below the dtype's resolution: keep the last step
            break
        if not r + s < best:
            break
        best_h, best = h, r + s
    return best_h


def _judge(kind: str, mode: str, probes: list[_Probe], inputs_size: int, *, checked: tuple,
           eps: float, steps: tuple[float, ...], rtol: float, atol: float, dtype: str,
           n_calls: int, group_sizes: list[int]) -> GradcheckResult:
    """Apply the rule to every compared value and sum it up in a result."""
    a = np.concatenate([p.a for p in probes])              # (values,)
    n = np.concatenate([p.n for p in probes])              # (values,)
    which = np.concatenate([np.full(len(p.a), k) for k, p in enumerate(probes)])  # (values,)
    group = np.array([p.group for p in probes])            # (probes,)
    # the measured spread, and its median over the input (one sample may be small by chance)
    spread = np.concatenate([p.spread for p in probes])    # (values,)
    med = np.zeros(len(group_sizes))
    for t in range(len(group_sizes)):
        in_t = np.isin(which, np.flatnonzero(group == t))
        if in_t.any():
            med[t] = float(np.median(spread[in_t]))
    noise = (spread + np.concatenate([np.full(len(p.a), p.noise + p.alpha + med[p.group])
                                      for p in probes]))   # (values,)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a - n)
        rel = np.where(err == 0, 0.0, err / np.abs(n))
        bound = atol + rtol * np.abs(n) + noise
        ratio = np.where(err == 0, 0.0, err / bound)
    bad = ~(np.isfinite(a) & np.isfinite(n))
    for arr in (err, rel, ratio):
        arr[bad | np.isnan(arr)] = np.inf
    # the size a wrong value would differ by: the value itself, or its input's typical value
    typical = np.zeros(len(group_sizes))
    for t in range(len(group_sizes)):
        in_t = np.isin(which, np.flatnonzero(group == t))
        if in_t.any():
            typical[t] = float(np.sqrt(np.mean(np.maximum(np.abs(a[in_t]),
                                                          np.abs(n[in_t])) ** 2)))
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)),
                       np.concatenate([np.full(len(p.a), p.typical or typical[p.group])
                                       for p in probes]))  # (values,)
    failing = ratio > 1
    # a derivative that is exactly zero everywhere, and measured so, has no scale to hide in
    judged = failing | (noise <= UNDECIDED_SHARE * scale) | (scale == 0)
    probe_failed = np.zeros(len(probes), bool)
    probe_undecided = np.zeros(len(probes), bool)
    np.logical_or.at(probe_failed, which, failing)
    np.logical_or.at(probe_undecided, which, ~judged)
    probe_undecided &= ~probe_failed
    labels = [(lab, p.group, idx) for p in probes for lab, idx in p.labels]

    def entry(k: int) -> WorstEntry:
        return WorstEntry(labels[k][0], labels[k][1], labels[k][2], float(a[k]), float(n[k]),
                          float(err[k]), float(rel[k]), float(ratio[k]), float(noise[k]),
                          bool(judged[k]))
    worst = tuple(entry(int(k)) for k in np.argsort(-ratio, kind="stable")[:_N_WORST])
    loud = np.where(judged, -np.inf, noise / np.maximum(scale, np.finfo(float).tiny))
    undecided = tuple(entry(int(k)) for k in np.argsort(-loud, kind="stable")[:_N_WORST]
                      if not judged[k])
    n_failed, n_undecided = int(probe_failed.sum()), int(probe_undecided.sum())
    verdict = "fail" if n_failed else ("inconclusive" if n_undecided else "pass")
    return GradcheckResult(
        verdict=verdict, max_ratio=float(ratio.max()), max_abs_error=float(err.max()),
        max_rel_error=float(rel.max()), n_checked=len(probes), n_failed=n_failed,
        n_inconclusive=n_undecided, n_compared=len(a), size=inputs_size, worst=worst,
        undecided=undecided, noise_floor=float(noise.max()), checked=checked, eps=eps,
        steps=steps, rtol=rtol, atol=atol, dtype=dtype, mode=mode, n_calls=n_calls, kind=kind,
        stencil="Richardson 4th-order central")


class LateProgress:
    """Progress on stderr, shown only once a run has lasted :data:`PROGRESS_AFTER` seconds.

    ``progress``: True or False to force it on or off; None: when stderr is a terminal.
    """

    def __init__(self, total: int, unit: str, progress: bool | None) -> None:
        self.start = time.monotonic()
        self.bar = Progress(total, unit, sys.stderr, enabled=progress)

    def __call__(self, done: int) -> None:
        if time.monotonic() - self.start > PROGRESS_AFTER:
            self.bar.update(done)

    def close(self) -> None:
        self.bar.close()


def _select(weights: np.ndarray, max_entries: int | None, seed: int) -> np.ndarray:
    """Flat indices to check: all, or the largest weights plus a seeded random sample."""
    size = weights.size
    if max_entries is None or max_entries >= size:
        return np.arange(size)
    k = min(_N_LARGEST, max(1, max_entries // 2))
    largest = np.argsort(-weights, kind="stable")[:k]
    rest = np.setdiff1d(np.arange(size), largest)
    sample = np.random.default_rng(seed).choice(rest, size=max_entries - k, replace=False)
    return np.sort(np.concatenate([largest, sample]))


def _check_counts(max_entries: int | None, directions: int | None, m: int, fast: bool) -> int:
    if max_entries is not None and (isinstance(max_entries, bool) or max_entries < 1):
        raise SettingsError(f"max_entries must be at least 1 (or None for all), "
                            f"got {max_entries}.")
    k = DEFAULT_DIRECTIONS * m if directions is None else directions
    if fast and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < m):
        raise SettingsError(f"directions must be a whole number >= {m} (one per input at "
                            f"least), got {directions!r}.")
    return int(k)


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    u = rng.standard_normal(shape)                          # shape, isotropic
    return u / np.linalg.norm(u)                            # a uniform unit vector


class _Analytic:
    """The derivative f returned at x, as columns ``J[:, i]`` and products ``v J w``."""

    def __init__(self, inputs: _Inputs, y: np.ndarray, deriv: Any) -> None:
        self.inputs, self.m, self.vjp_calls = inputs, max(y.size, 1), 0
        self.y_shape = y.shape
        self.J: list[np.ndarray] | None
        self.scalar = y.ndim == 0
        shape_of = inputs.arrays
        if self.scalar:
            if callable(deriv):
                raise SettingsError("f returned a scalar output with a callable; for a scalar "
                                    "loss return the gradient itself (an array of x's shape).")
            self.J = [g.reshape(1, -1) for g in
                      inputs.split(deriv, "gradient", lambda t: shape_of[t].shape)]
            self.vjp = None
        elif callable(deriv):
            self.J, self.vjp = None, deriv
        else:
            if (y.shape == (1,) and not callable(deriv)
                    and _shapes(deriv) == [a.shape for a in shape_of]):
                raise SettingsError("f returned a loss of shape (1,) with a gradient of x's "
                                    "shape: return the loss as a scalar (loss.item() or "
                                    "loss[0]), or for an output vector of one value a Jacobian "
                                    "of shape (1, *x.shape).")
            self.J = [j.reshape(y.size, -1) for j in inputs.split(
                deriv, "Jacobian", lambda t: (*y.shape, *shape_of[t].shape))]
            self.vjp = None
        self.a_eps = _eps_of(*([] if callable(deriv) else _leaves(deriv)))

    def vjp_split(self, v: np.ndarray) -> list[np.ndarray]:
        assert self.vjp is not None
        self.vjp_calls += 1
        return self.inputs.split(self.vjp(v.reshape(self.y_shape)), "vector-Jacobian product",
                                 lambda t: self.inputs.arrays[t].shape)

    def jacobians(self) -> list[np.ndarray]:
        """Every input's ``J`` as (m, size_t), from the vjp row by row if need be."""
        if self.J is None:
            rows = [self.vjp_split(np.eye(self.m)[k]) for k in range(self.m)]
            self.J = [np.stack([r[t].ravel() for r in rows]) for t in range(len(rows[0]))]
        return self.J


def _leaves(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (tuple, list)):
        return list(obj)
    return [obj]


def _shapes(obj: Any) -> list[tuple[int, ...]]:
    return [np.shape(leaf) for leaf in _leaves(obj)]


def gradcheck(f: Callable[..., tuple[Any, Any]], x: Inputs, *, eps: float | None = None,
              rtol: float | None = None, atol: float | None = None,
              max_entries: int | None = None, seed: int = 0, fast: bool = False,
              directions: int | None = None, progress: bool | None = None
              ) -> GradcheckResult:
    r"""Compare the derivative ``f`` returns with finite differences of its output.

    Rule: a checked value fails when ``|a - n| > atol + rtol * |n| + noise``,
    ``noise`` the bound of :data:`NOISE_RULE` on what rounding and truncation do
    to ``n``; it cannot be judged when ``noise`` is above a tenth of
    ``max(|a|, |n|, typical)`` (``typical``: the root mean square of the
    input's values, or in fast mode ``|g| / sqrt(D)``).

    Parameters
    ----------
    f : callable
        ``f(x) -> (y, derivative)``. For a scalar ``y`` (a loss), the
        derivative is the gradient, an array of ``x``'s shape. For an array
        ``y``, it is the Jacobian, of shape ``y.shape + x.shape``, or a
        function ``vjp(v) -> v . J`` (``v`` of ``y``'s shape, the result of
        ``x``'s shape). With several inputs, ``f(x0, x1, ...)`` (a tuple) or
        ``f({"W1": ..., "b1": ...})`` (a dict) returns one derivative per input
        in the same structure. ``f`` is called on float64 copies whose entries
        are values of ``x``'s dtype, so it may modify or cast them.
    x : ndarray of float, tuple of them, or dict of str to them
        The point. A dict names the inputs in the report (``W1[3, 7]``). The
        dtype of the first input picks the defaults.
    eps : float, optional
        The step. Default: the first step tried is ``DEFAULTS[...].eps`` for
        the precision of ``x``, and each input's step then moves by factors of 4
        (at most twice) while rounding plus truncation on its largest entry
        falls; a given ``eps`` is used as it is, for every input.
    rtol, atol : float, optional
        The tolerances of the rule, beyond its noise. Defaults:
        {DEFAULTS}
    max_entries : int, optional
        Full mode: check at most this many entries (default: all), the
        ``min(10, max(1, max_entries // 2))`` of largest ``|derivative|`` and a
        seeded uniform sample of the rest.
    seed : int, default 0
        Seed of that sample, and of fast mode's directions.
    fast : bool, default False
        Check ``k`` random directional derivatives instead of every entry (for
        an array ``y``: ``v . J u`` with a random unit ``v`` too).
    directions : int, optional
        Fast mode's ``k``; default 4 per input. Direction ``j`` moves input
        ``j mod m`` of ``m``, so ``k >= m``.
    progress : bool, optional
        Show progress on stderr once the check has run 2 seconds. Default: when
        stderr is a terminal.

    Returns
    -------
    GradcheckResult
        ``verdict`` (``"pass"``, ``"fail"`` or ``"inconclusive"``), ``ok``
        (the verdict is pass), the worst and the undecided values; ``str()``
        of it is a readable report.

    Raises
    ------
    SettingsError
        If ``x`` is a list or holds no float array, a setting is out of range,
        ``f`` does not return ``(y, derivative)`` of the inputs' shapes, returns
        a loss of shape ``(1,)`` with a gradient, returns a non-finite output,
        or ``eps`` is below the resolution of an input's dtype.

    Notes
    -----
    **Numeric** ``n``: with ``D(h) = (y(x + h d) - y(x - h d)) / 2h`` along the
    entry's unit vector (full mode, 4 calls of ``f`` per entry) or a seeded
    random unit vector (fast mode, 4 calls per direction),

    .. math::

        n = \frac{4 D(h) - D(2h)}{3} = \partial_d y - \frac{h^4}{30}
            \partial_d^5 y + O(h^6),

    the stepped points rounded to ``x``'s dtype (and ``d`` replaced by the step
    actually taken). **Noise**: ``y`` is computed with a rounding error of
    about ``\delta = 2 \epsilon |y|`` (``\epsilon`` the machine epsilon of the
    least precise dtype among ``y`` and the derivative ``f`` returns: the
    precision ``f`` computes in), which ``n`` carries as
    ``1.5 \delta / h``; the spread ``|D(h) - D(2h)|`` measures the rest
    (truncation, and rounding that the estimate missed), alone and as its
    median over the input. The step of each input balances the two.

    *Power.* In float64 the noise is about ``10^{-12}`` of a unit-scale
    function's values, so the rule is ``rtol = 10^{-6}`` in practice: full mode
    rejects any error of ``10^{-6}`` of an entry or more, fast mode any error
    whose norm is well above ``rtol |g| + noise \sqrt{D}`` (a missing term, a
    transposed or mis-scaled gradient, a sign error in a row), with all but a
    probability that shrinks like a power of ``k``. Fast mode cannot see an
    error small against the whole gradient (10 % on one small entry among
    ``10^6``) and names only the input: run full mode, or ``max_entries``.
    In float32 the noise is near ``10^{-4}`` of the values: correct code
    passes (or is inconclusive where the loss is large against its gradient),
    and errors of about 1 % and more fail.
    """
    inputs = _Inputs(x)
    dtype = inputs.arrays[0].dtype
    h0, rtol, atol = _settings(dtype, eps, rtol, atol)
    k = _check_counts(max_entries, directions, len(inputs.arrays), fast)
    calls = 0

    def evaluate(arrays: list[np.ndarray], where: str) -> tuple[np.ndarray, Any, Any]:
        nonlocal calls
        calls += 1
        out = inputs.call(f, arrays)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise SettingsError("f must return a pair (y, derivative), e.g. (loss, grad); it "
                                f"returned {type(out).__name__}.")
        return _finite_y(out[0], where), out[1], out[0]

    y0, deriv, raw = evaluate(inputs.base, "at x itself")
    analytic = _Analytic(inputs, y0, deriv)
    # the precision f computes in, as it shows in what it returns
    y_eps = _eps_of(raw, *([] if callable(deriv) else _leaves(deriv)))

    def y_at(t: int, where: str, moved: np.ndarray) -> np.ndarray:
        arrays = [*inputs.base[:t], moved, *inputs.base[t + 1:]]
        return evaluate(arrays, where)[0].ravel()

    probes: list[_Probe] = []
    steps: list[float] = []
    m_in = len(inputs.arrays)
    if fast:
        rng = np.random.default_rng(seed)
        plan = [(j % m_in, _unit(rng, inputs.arrays[j % m_in].shape),
                 _unit(rng, (analytic.m,)) if not analytic.scalar else np.ones(1))
                for j in range(k)]
        ticker = LateProgress(k, "direction", progress)
        for t in range(m_in):
            first = next(p for p in plan if p[0] == t)
            steps.append(h0 if eps is not None else _choose_step(
                _trial(partial(y_at, t, f"at a step of {inputs.names[t]}"),
                       inputs.arrays[t], inputs.base[t], y0.ravel(), first[1], y_eps, False),
                h0))
        for j, (t, u, v) in enumerate(plan):
            h = steps[t]
            name = inputs.names[t]
            n, spread, w, ymax = _richardson(
                partial(y_at, t, f"at a step of {name} along direction {j}"),
                inputs.arrays[t], inputs.base[t], y0.ravel(),
                _direction_step(inputs.arrays[t], inputs.base[t], u, h), h, name)
            if analytic.scalar:
                row = analytic.jacobians()[t][0].reshape(w.shape)
            elif analytic.vjp is not None:
                row = analytic.vjp_split(v)[t]
            else:
                row = (v @ analytic.jacobians()[t]).reshape(w.shape)
            a = float((row * w).sum())
            g_norm = float(np.linalg.norm(row))
            probes.append(_Probe(
                a=np.array([a]), n=np.array([float(v @ n)]), spread=np.array([float(
                    np.abs(v) @ spread)]),
                noise=1.5 * NOISE_ULPS * y_eps * ymax * float(np.abs(v).sum()) / h,
                alpha=NOISE_ULPS * analytic.a_eps * g_norm,
                typical=g_norm / np.sqrt(w.size), group=t,
                labels=[(f"{'u' if analytic.scalar else 'v J u'}{j} of {name}", (j,))]))
            ticker(j + 1)
        ticker.close()
        return _judge("gradcheck", "fast", probes, inputs.size, checked=(), eps=h0,
                      steps=tuple(steps), rtol=rtol, atol=atol, dtype=str(dtype), n_calls=calls,
                      group_sizes=[a.size for a in inputs.arrays])

    J = analytic.jacobians()                               # per input (m, size_t)
    weights = np.concatenate([np.abs(j).max(axis=0) for j in J])  # (size,) largest |J| per entry
    idx = _select(weights, max_entries, seed)              # (c,) flat indices, ascending
    for t in range(m_in):
        if eps is not None:
            steps.append(h0)
            continue
        lo, hi = inputs.offsets[t], inputs.offsets[t + 1]
        pilot = int(np.argmax(weights[lo:hi]))
        e = np.zeros(inputs.arrays[t].shape)
        e.flat[pilot] = 1.0
        steps.append(_choose_step(_trial(partial(y_at, t, "at a step"),
                                         inputs.arrays[t], inputs.base[t], y0.ravel(), e, y_eps,
                                         True, pilot), h0))
    ticker = LateProgress(len(idx), "entry", progress)
    out_labels = ([()] if analytic.scalar else
                  [tuple(int(v) for v in np.unravel_index(r, y0.shape)) for r in range(y0.size)])
    for c, i in enumerate(idx):
        t, j = inputs.where(int(i))
        h = steps[t]
        index = tuple(int(v) for v in np.unravel_index(j, inputs.arrays[t].shape))
        label = inputs.label(t, index)
        n, spread, w, ymax = _richardson(
            partial(y_at, t, f"at a step of {label}"),
            inputs.arrays[t], inputs.base[t], y0.ravel(),
            _entry_step(inputs.arrays[t], inputs.base[t], j, h), h, label)
        col = J[t][:, j]                                    # (m,)
        names = ([(label, index)] if analytic.scalar else
                 [(f"d y[{', '.join(map(str, r))}] / d {label}", (*r, *index))
                  for r in out_labels])
        probes.append(_Probe(a=col * w.flat[j], n=n, spread=spread,
                             noise=1.5 * NOISE_ULPS * y_eps * ymax / h,
                             alpha=NOISE_ULPS * analytic.a_eps * float(np.abs(J[t]).max()),
                             typical=0.0, group=t, labels=names))
        ticker(c + 1)
    ticker.close()
    return _judge("gradcheck", "full", probes, inputs.size,
                  checked=tuple(int(i) for i in idx), eps=h0, steps=tuple(steps), rtol=rtol,
                  atol=atol, dtype=str(dtype), n_calls=calls,
                  group_sizes=[a.size for a in inputs.arrays])


def _trial(y_at: Callable[[np.ndarray], np.ndarray], x: np.ndarray, base: np.ndarray,
           y0: np.ndarray, d: np.ndarray, y_eps: float, entry: bool, i: int = 0
           ) -> Callable[[float], tuple[float, float]]:
    """``h -> (rounding, spread)`` of the difference along ``d`` (for :func:`_choose_step`)."""
    def trial(h: float) -> tuple[float, float]:
        step = _entry_step(x, base, i, h) if entry else _direction_step(x, base, d, h)
        _, spread, _, ymax = _richardson(y_at, x, base, y0, step, h, "the step's trial")
        return 1.5 * NOISE_ULPS * y_eps * ymax / h, float(spread.max())
    return trial


def assert_gradcheck(f: Callable[..., tuple[Any, Any]], x: Inputs, *,
                     eps: float | None = None, rtol: float | None = None,
                     atol: float | None = None, max_entries: int | None = None,
                     seed: int = 0, fast: bool = False, directions: int | None = None,
                     allow_inconclusive: bool = False) -> GradcheckResult:
    """Run :func:`gradcheck` and raise unless it passes.

    Parameters
    ----------
    f, x, eps, rtol, atol, max_entries, seed, fast, directions
        As in :func:`gradcheck`.
    allow_inconclusive : bool, default False
        Let an ``"inconclusive"`` verdict through (e.g. for float32 code,
        whose rounding may hide small errors); ``"fail"`` still raises.

    Returns
    -------
    GradcheckResult
        The result, whose verdict is pass (or inconclusive, if allowed).

    Raises
    ------
    GradcheckError
        A subclass of ``AssertionError``: "the derivative disagrees with finite
        differences" on fail, "cannot tell whether the derivative is right" on
        inconclusive, then the report ``str(result)``.
    """
    result = gradcheck(f, x, eps=eps, rtol=rtol, atol=atol, max_entries=max_entries, seed=seed,
                       fast=fast, directions=directions)
    if result.verdict == "fail":
        raise GradcheckError(f"the derivative disagrees with finite differences:\n{result}")
    if result.verdict == "inconclusive" and not allow_inconclusive:
        raise GradcheckError("cannot tell whether the derivative is right: rounding noise hides "
                             "what an error would change (pass allow_inconclusive=True to "
                             f"accept this):\n{result}")
    return result


def hvpcheck(grad_f: Callable[[np.ndarray], np.ndarray],
             hvp_f: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, *,
             eps: float | None = None, rtol: float | None = None, atol: float | None = None,
             max_entries: int | None = None, seed: int = 0, fast: bool = False,
             directions: int | None = None, progress: bool | None = None) -> GradcheckResult:
    r"""Compare a Hessian-vector product with finite differences of the gradient.

    Rule: as :func:`gradcheck`'s, every entry of each product judged.

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
    eps, rtol, atol, seed, fast, directions, progress
        As in :func:`gradcheck`, with the same defaults.
    max_entries : int, optional
        Full mode: check at most this many columns of the Hessian (default:
        all), chosen as :func:`gradcheck` chooses entries, by ``|g|``.

    Returns
    -------
    GradcheckResult
        ``kind="hvpcheck"``; ``n_checked`` counts columns ``H[:, i]`` (full
        mode) or directions ``u`` (fast mode), ``n_compared`` the entries of
        those products.

    Raises
    ------
    SettingsError
        As :func:`gradcheck`, for ``grad_f`` or ``hvp_f`` returning arrays of
        another shape.

    Notes
    -----
    *Full mode*: column ``i`` of the Hessian, ``a = hvp_f(x, e_i)``, against the
    Richardson-extrapolated central difference of the gradient along ``e_i``
    (4 calls of ``grad_f`` and one of ``hvp_f`` per column).

    *Fast mode*: for ``k`` seeded random unit directions ``u``, the vector
    ``a = hvp_f(x, u)`` against the same difference along ``u``, judged entry
    by entry: ``4k`` calls of ``grad_f`` and ``k`` of ``hvp_f``. A wrong
    Hessian ``H + E`` shows as ``E u``, every entry of which is compared.
    """
    if isinstance(x, (list, tuple, dict)):
        raise SettingsError(f"x is a {type(x).__name__}; hvpcheck takes one float array: pass "
                            "np.asarray(x).")
    inputs = _Inputs(x)
    x0, base = inputs.arrays[0], inputs.base[0]
    h0, rtol, atol = _settings(x0.dtype, eps, rtol, atol)
    k = _check_counts(max_entries, directions, 1, fast)
    calls = 0

    precision = {"y": 0.0, "a": 0.0}   # eps of what grad_f and hvp_f return: their precision

    def grad(where: str, point: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        raw = grad_f(point.copy())
        precision["y"] = max(precision["y"], _eps_of(raw))
        g = _finite_y(raw, where)
        if g.shape != x0.shape:
            raise SettingsError(f"grad_f returned shape {g.shape} for x of shape {x0.shape}; "
                                "return the gradient alone, of x's shape.")
        return g.ravel()

    def hvp(u: np.ndarray) -> np.ndarray:
        raw = hvp_f(x0.copy(), u.astype(x0.dtype))
        precision["a"] = max(precision["a"], _eps_of(raw))
        hu = np.asarray(raw, dtype=np.float64)
        if hu.shape != x0.shape:
            raise SettingsError(f"hvp_f returned shape {hu.shape} for x of shape {x0.shape}; "
                                "return H v, of x's shape.")
        return hu.ravel()

    g0 = grad("at x itself", base)
    y_eps = precision["y"]
    rows = [tuple(int(v) for v in np.unravel_index(r, x0.shape)) for r in range(x0.size)]
    probes: list[_Probe] = []
    if fast:
        rng = np.random.default_rng(seed)
        us = [_unit(rng, x0.shape) for _ in range(k)]
        h = h0 if eps is not None else _choose_step(
            _trial(partial(grad, "at a step"), x0, base, g0, us[0], y_eps, False), h0)
        ticker = LateProgress(k, "direction", progress)
        for j, u in enumerate(us):
            n, spread, w, ymax = _richardson(partial(grad, f"at a step along direction {j}"),
                                             x0, base, g0, _direction_step(x0, base, u, h), h,
                                             "x")
            a = hvp(w)
            probes.append(_Probe(a=a, n=n, spread=spread,
                                 noise=1.5 * NOISE_ULPS * y_eps * ymax / h,
                                 alpha=NOISE_ULPS * precision["a"] * float(np.abs(a).max()),
                                 typical=0.0, group=0,
                                 labels=[(f"Hu{j}[{', '.join(map(str, r))}]", (j, *r))
                                         for r in rows]))
            ticker(j + 1)
        ticker.close()
        checked: tuple[int, ...] = ()
    else:
        cols = _select(np.abs(g0), max_entries, seed)       # (c,) columns of H to check
        if eps is None:
            pilot = int(np.argmax(np.abs(g0)))
            h = _choose_step(_trial(partial(grad, "at a step"), x0, base, g0, base, y_eps,
                                    True, pilot), h0)
        else:
            h = h0
        ticker = LateProgress(len(cols), "column", progress)
        for c, i in enumerate(cols):
            col = tuple(int(v) for v in np.unravel_index(i, x0.shape))
            n, spread, w, ymax = _richardson(partial(grad, f"at a step of x[{col}]"), x0,
                                             base, g0, _entry_step(x0, base, int(i), h), h,
                                             f"x[{col}]")
            e = np.zeros(x0.shape)                          # x's shape
            e.flat[i] = 1.0
            a = hvp(e) * w.flat[i]
            probes.append(_Probe(a=a, n=n, spread=spread,
                                 noise=1.5 * NOISE_ULPS * y_eps * ymax / h,
                                 alpha=NOISE_ULPS * precision["a"] * float(np.abs(a).max()),
                                 typical=0.0, group=0,
                                 labels=[(f"H[{r}, {col}]", (*r, *col)) for r in rows]))
            ticker(c + 1)
        ticker.close()
        checked = tuple(int(i) for i in cols)
    return _judge("hvpcheck", "fast" if fast else "full", probes, x0.size, checked=checked,
                  eps=h0, steps=(h,), rtol=rtol, atol=atol, dtype=str(x0.dtype), n_calls=calls,
                  group_sizes=[x0.size])


gradcheck.__doc__ = (gradcheck.__doc__ or "").replace(
    "{DEFAULTS}", "\n        ".join(
        f"``{k}``: eps {d.eps:g}, rtol {d.rtol:g}, atol {d.atol:g}" + (";" if k == "float64"
                                                                        else ".")
        for k, d in DEFAULTS.items()))
