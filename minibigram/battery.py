"""A battery of smooth functions with true and wrong gradients, to measure gradient checkers.

Each :class:`BatteryCase` is a loss of named arrays with its hand-derived
gradient, computed in any dtype, and the classic mistakes made in deriving it
(a transposed gradient, a missing regularization term, the sign of one row, one
entry doubled, a mean for a sum, a shift by one). A checker that is worth its
name accepts every true gradient and rejects every mistake whose error is a
visible share of the gradient (:meth:`BatteryCase.error_share`)::

    from minibigram.battery import battery
    for case in battery():
        f = case.function("float64")                   # params -> (loss, grads)
        wrong = case.function("float64", "transposed")

The cases span mean and sum cross-entropy, two-layer tanh networks, log-sum-exp,
regularized least squares and logistic regression, ill-conditioned quadratics,
gradients from 1e-8 to 1e4, losses from 1e-6 to 1e8, and 27 to 10**6 entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .checks import gradcheck

Params = dict[str, np.ndarray]
LossGrad = Callable[[Params], tuple[float, Params]]
#: The mistakes, in the order :meth:`BatteryCase.mistakes` lists them.
MISTAKES = ("transposed", "missing regularization", "sign of one row", "x2 on one entry",
            "mean for sum", "shift by one")


@dataclass(frozen=True)
class BatteryCase:
    """One smooth loss of named arrays, its true gradient and its wrong ones.

    Attributes
    ----------
    name : str
        What it is, with its size and scale, e.g. ``"cross-entropy mean 27x27"``.
    params : dict of str to ndarray, float64
        The point to check at.
    compute : callable
        ``compute(params, dtype) -> (loss, grads, reg_grads)``: the loss and its
        gradient computed in ``dtype``, and the regularization term's share of
        the gradient (zeros when there is none).
    n_terms : int
        How many terms the loss averages (``reduction="mean"``) or sums.
    reduction : {"mean", "sum"}
    reg : float
        Strength of the L2 term (0: none).
    """

    name: str
    params: Params
    compute: Callable[[Params, np.dtype], tuple[float, Params, Params]] = field(repr=False)
    n_terms: int = 1
    reduction: str = "sum"
    reg: float = 0.0

    @property
    def size(self) -> int:
        """How many entries the parameters have together."""
        return sum(p.size for p in self.params.values())

    def target(self) -> str:
        """The input the mistakes spoil: the one of largest gradient norm."""
        _, grads, _ = self.compute(self.params, np.dtype(np.float64))
        return max(grads, key=lambda k: float(np.linalg.norm(grads[k])))

    def mistakes(self) -> tuple[str, ...]:
        """The mistakes that change this case's gradient, from :data:`MISTAKES`."""
        shape = self.params[self.target()].shape
        found = []
        for m in MISTAKES:
            if m == "transposed" and (len(shape) != 2 or 1 in shape):
                continue
            if m in ("missing regularization",) and self.reg == 0:
                continue
            if m == "sign of one row" and len(shape) != 2:
                continue
            if m == "mean for sum" and self.n_terms == 1:
                continue
            found.append(m)
        return tuple(found)

    def _spoil(self, mistake: str, params: Params, grads: Params, reg_grads: Params) -> Params:
        t = self.target()
        out = {k: g.copy() for k, g in grads.items()}
        g = out[t]
        if mistake == "transposed":
            out[t] = np.ascontiguousarray(g.T).reshape(g.shape)
        elif mistake == "missing regularization":
            out[t] = g - reg_grads[t]
        elif mistake == "sign of one row":
            g[0] = -g[0]
        elif mistake == "x2 on one entry":
            g.flat[int(np.argmax(np.abs(g)))] *= 2
        elif mistake == "mean for sum":
            factor = self.n_terms if self.reduction == "mean" else 1.0 / self.n_terms
            out = {k: v * np.asarray(factor, v.dtype) for k, v in out.items()}
        elif mistake == "shift by one":
            out[t] = np.roll(g.ravel(), 1).reshape(g.shape)
        else:
            raise ValueError(f"unknown mistake {mistake!r}; choose one of {', '.join(MISTAKES)}")
        return out

    def function(self, dtype: str = "float64", mistake: str | None = None) -> LossGrad:
        """``params -> (loss, grads)`` computed in ``dtype``, spoiled by ``mistake`` if given.

        The function casts what it is handed to ``dtype`` (float32 code sees
        float32 numbers however the checker calls it) and returns the gradient
        in ``dtype``.
        """
        dt = np.dtype(dtype)

        def f(params: Params) -> tuple[float, Params]:
            loss, grads, reg_grads = self.compute(params, dt)
            if mistake is not None:
                grads = self._spoil(mistake, params, grads, reg_grads)
            return loss, grads
        return f

    def error_share(self, mistake: str) -> float:
        """``|wrong - true| / |true|`` at ``params`` over all inputs, in float64."""
        f64 = np.dtype(np.float64)
        _, grads, reg_grads = self.compute(self.params, f64)
        wrong = self._spoil(mistake, self.params, grads, reg_grads)
        diff = np.sqrt(sum(float(((wrong[k] - grads[k]) ** 2).sum()) for k in grads))
        norm = np.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
        return diff / norm


def _logsumexp(z: np.ndarray) -> np.ndarray:
    """log sum exp over the last axis, shifted by the row maximum (no overflow)."""
    m = z.max(axis=-1, keepdims=True)                      # (..., 1)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def _cast(params: Params, dt: np.dtype) -> Params:
    return {k: np.asarray(v, dtype=dt) for k, v in params.items()}


def _cross_entropy(rng: np.random.Generator, rows: int, V: int, n: int, reduction: str,
                   reg: float, scale: float, w_scale: float = 1.0) -> BatteryCase:
    """``scale * (-sum_ij N_ij log softmax(W)_ij [/ n] + reg/2 |W|^2)``, N random counts."""
    N = np.bincount(rng.integers(0, rows * V, n), minlength=rows * V).reshape(rows, V)  # (R, V)
    W = w_scale * rng.standard_normal((rows, V))         # (R, V)

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        W, Nd, c = np.asarray(p["W"], dt), N.astype(dt), dt.type(scale)
        div = dt.type(n if reduction == "mean" else 1)
        logp = W - _logsumexp(W)[:, None]                  # (R, V) log-probabilities
        probs = np.exp(logp)                               # (R, V)
        loss = c * (-(Nd * logp).sum() / div + dt.type(reg / 2) * (W * W).sum())
        reg_g = c * dt.type(reg) * W                       # (R, V)
        g = c * (Nd.sum(1, keepdims=True) * probs - Nd) / div + reg_g  # (R, V)
        return float(loss), {"W": g}, {"W": reg_g}
    name = f"cross-entropy {reduction}{' + L2' if reg else ''} {rows}x{V} x{scale:g}"
    return BatteryCase(name, {"W": W}, compute, n, reduction, reg)


def _mlp(rng: np.random.Generator, n: int, d: int, hidden: int, classes: int,
         reduction: str, reg: float, scale: float, w_scale: float = 1.0) -> BatteryCase:
    """Two layers, tanh between: ``scale * (CE(tanh(X W1 + b1) W2 + b2, y) + reg/2 |W|^2)``."""
    X = rng.standard_normal((n, d))                        # (n, d)
    y = rng.integers(0, classes, n)                        # (n,)
    params = {"W1": w_scale * rng.standard_normal((d, hidden)) / np.sqrt(d),
              "b1": 0.1 * rng.standard_normal(hidden),
              "W2": w_scale * rng.standard_normal((hidden, classes)) / np.sqrt(hidden),
              "b2": 0.1 * rng.standard_normal(classes)}

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        q, Xd, c = _cast(p, dt), X.astype(dt), dt.type(scale)
        div = dt.type(n if reduction == "mean" else 1)
        h = np.tanh(Xd @ q["W1"] + q["b1"])                # (n, hidden)
        logits = h @ q["W2"] + q["b2"]                     # (n, classes)
        logp = logits - _logsumexp(logits)[:, None]        # (n, classes)
        penalty = dt.type(reg / 2) * ((q["W1"] ** 2).sum() + (q["W2"] ** 2).sum())
        loss = c * (-logp[np.arange(n), y].sum() / div + penalty)
        dlogits = np.exp(logp)                             # (n, classes) softmax
        dlogits[np.arange(n), y] -= 1                      # p - onehot(y)
        dlogits *= c / div
        dh = (dlogits @ q["W2"].T) * (1 - h * h)           # (n, hidden) through tanh
        reg_g = {"W1": c * dt.type(reg) * q["W1"], "W2": c * dt.type(reg) * q["W2"],
                 "b1": np.zeros_like(q["b1"]), "b2": np.zeros_like(q["b2"])}
        grads = {"W1": Xd.T @ dh + reg_g["W1"], "b1": dh.sum(0),
                 "W2": h.T @ dlogits + reg_g["W2"], "b2": dlogits.sum(0)}
        return float(loss), grads, reg_g
    size = d * hidden + hidden + hidden * classes + classes
    name = (f"tanh MLP {reduction}{' + L2' if reg else ''} {d}-{hidden}-{classes} "
            f"({size} entries) x{scale:g}{f' weights x{w_scale:g}' if w_scale != 1 else ''}")
    return BatteryCase(name, params, compute, n, reduction, reg)


def _logsumexp_rows(rng: np.random.Generator, rows: int, cols: int, scale: float,
                    x_scale: float = 1.0) -> BatteryCase:
    """``scale * sum_r logsumexp(X_r)``."""
    X = x_scale * rng.standard_normal((rows, cols))       # (R, C)

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        X, c = np.asarray(p["X"], dt), dt.type(scale)
        lse = _logsumexp(X)                                # (R,)
        g = c * np.exp(X - lse[:, None])                   # (R, C) row softmax
        return float(c * lse.sum()), {"X": g}, {"X": np.zeros_like(g)}
    name = f"log-sum-exp rows {rows}x{cols} x{scale:g}" + (
        f" logits x{x_scale:g}" if x_scale != 1 else "")
    return BatteryCase(name, {"X": X}, compute, rows, "sum")


def _quadratic(rng: np.random.Generator, shape: tuple[int, int], lo: float, hi: float,
               scale: float, x_scale: float = 1.0) -> BatteryCase:
    """``scale/2 sum_i d_i x_i^2``, ``d`` log-spaced from ``lo`` to ``hi`` (conditioning hi/lo)."""
    d = np.logspace(np.log10(lo), np.log10(hi), int(np.prod(shape))).reshape(shape)
    d = rng.permutation(d.ravel()).reshape(shape)          # shape: curvatures, mixed
    x = x_scale * rng.standard_normal(shape)               # shape

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        x, dd, c = np.asarray(p["x"], dt), d.astype(dt), dt.type(scale)
        g = c * dd * x                                     # shape
        return float(c * dt.type(0.5) * (dd * x * x).sum()), {"x": g}, {"x": np.zeros_like(g)}
    kind = "0.5|x|^2" if lo == hi else f"0.5 x'Dx, D {lo:g}..{hi:g}"
    name = f"{kind} {shape[0]}x{shape[1]} x{scale:g}" + (
        f" at |x|~{x_scale:g}" if x_scale != 1 else "")
    return BatteryCase(name, {"x": x}, compute)


def _dense_quadratic(rng: np.random.Generator, D: int, cond: float) -> BatteryCase:
    """``x'Qx / 2 - b'x``, ``Q`` a random rotation of log-spaced eigenvalues 1..cond."""
    U, _ = np.linalg.qr(rng.standard_normal((D, D)))      # (D, D) orthogonal
    Q = (U * np.logspace(0, np.log10(cond), D)) @ U.T      # (D, D) symmetric positive
    b = rng.standard_normal(D)                             # (D,)
    x = rng.standard_normal((D // 5, 5))                   # (D/5, 5) x, shaped as a matrix

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        xv, Qd, bd = np.asarray(p["x"], dt).ravel(), Q.astype(dt), b.astype(dt)
        Qx = Qd @ xv                                       # (D,)
        loss = dt.type(0.5) * xv @ Qx - bd @ xv
        g = (Qx - bd).reshape(p["x"].shape)                # x's shape
        return float(loss), {"x": g}, {"x": np.zeros_like(g)}
    return BatteryCase(f"dense quadratic D={D} cond {cond:g}", {"x": x}, compute)


def _ridge(rng: np.random.Generator, m: int, D: int, reg: float, scale: float) -> BatteryCase:
    """``scale * (|A x - b|^2 / 2 + reg/2 |x|^2)``."""
    A, b = rng.standard_normal((m, D)), rng.standard_normal(m)  # (m, D), (m,)
    x = rng.standard_normal(D)                             # (D,)

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        x, Ad, bd, c = np.asarray(p["x"], dt), A.astype(dt), b.astype(dt), dt.type(scale)
        r = Ad @ x - bd                                    # (m,) residual
        reg_g = c * dt.type(reg) * x                       # (D,)
        loss = c * (dt.type(0.5) * r @ r + dt.type(reg / 2) * x @ x)
        return float(loss), {"x": c * Ad.T @ r + reg_g}, {"x": reg_g}
    return BatteryCase(f"ridge least squares {m}x{D} x{scale:g}", {"x": x}, compute, m, "sum", reg)


def _logistic(rng: np.random.Generator, n: int, D: int, reduction: str,
              reg: float) -> BatteryCase:
    """``sum_k softplus(-y_k a_k . x) [/ n] + reg/2 |x|^2``, labels y in {-1, 1}."""
    A = rng.standard_normal((n, D))                        # (n, D)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)           # (n,)
    x = rng.standard_normal(D) / np.sqrt(D)                # (D,)

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        x, Ad, yd = np.asarray(p["x"], dt), A.astype(dt), y.astype(dt)
        div = dt.type(n if reduction == "mean" else 1)
        z = -yd * (Ad @ x)                                 # (n,) margins, negated
        loss = np.logaddexp(dt.type(0), z).sum() / div + dt.type(reg / 2) * x @ x
        sig = np.exp(z - np.logaddexp(dt.type(0), z))      # (n,) sigmoid(z), no overflow
        reg_g = dt.type(reg) * x                           # (D,)
        return float(loss), {"x": Ad.T @ (-yd * sig) / div + reg_g}, {"x": reg_g}
    return BatteryCase(f"logistic regression {reduction} + L2 n={n} D={D}", {"x": x}, compute,
                       n, reduction, reg)


def _softmax_regression(rng: np.random.Generator, n: int, d: int, classes: int,
                        reg: float) -> BatteryCase:
    """Named inputs W, b: ``CE(X W + b, y)`` averaged, ``+ reg/2 |W|^2``."""
    X, y = rng.standard_normal((n, d)), rng.integers(0, classes, n)  # (n, d), (n,)
    params = {"W": rng.standard_normal((d, classes)), "b": rng.standard_normal(classes)}

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        q, Xd = _cast(p, dt), X.astype(dt)
        logits = Xd @ q["W"] + q["b"]                      # (n, classes)
        logp = logits - _logsumexp(logits)[:, None]        # (n, classes)
        d = np.exp(logp)                                   # (n, classes)
        d[np.arange(n), y] -= 1
        d /= dt.type(n)
        reg_g = {"W": dt.type(reg) * q["W"], "b": np.zeros_like(q["b"])}
        loss = -logp[np.arange(n), y].mean() + dt.type(reg / 2) * (q["W"] ** 2).sum()
        return float(loss), {"W": Xd.T @ d + reg_g["W"], "b": d.sum(0)}, reg_g
    return BatteryCase(f"softmax regression W, b {d}x{classes} + L2", params, compute, n, "mean",
                       reg)


def _elementwise(rng: np.random.Generator, kind: str, shape: tuple[int, int],
                 scale: float) -> BatteryCase:
    """``scale * sum tanh(x)`` or ``scale * sum exp(x)``."""
    x = rng.standard_normal(shape)                         # shape

    def compute(p: Params, dt: np.dtype) -> tuple[float, Params, Params]:
        x, c = np.asarray(p["x"], dt), dt.type(scale)
        if kind == "tanh":
            t = np.tanh(x)                                 # shape
            g = c * (1 - t * t)
        else:
            t = g = c * np.exp(x)                          # shape
            t = t / c
        return float(c * t.sum()), {"x": g}, {"x": np.zeros_like(g)}
    return BatteryCase(f"sum {kind}(x) {shape[0]}x{shape[1]} x{scale:g}", {"x": x}, compute)


def battery(seed: int = 0, max_size: int | None = None) -> list[BatteryCase]:
    """The battery's 44 cases, in a fixed order.

    Parameters
    ----------
    seed : int, default 0
        Seed of every point and every problem's data.
    max_size : int, optional
        Leave out the cases with more entries (the 10**6-entry ones take about
        a second per check); default: all.

    Returns
    -------
    list of BatteryCase
    """
    rng = np.random.default_rng(seed)
    builders: list[Callable[[], BatteryCase]] = [
        lambda: _cross_entropy(rng, 27, 27, 2000, "mean", 0.0, 1.0),
        lambda: _cross_entropy(rng, 27, 27, 2000, "mean", 0.01, 1.0),
        lambda: _cross_entropy(rng, 27, 27, 2000, "sum", 0.0, 1.0),
        lambda: _cross_entropy(rng, 27, 27, 2000, "sum", 0.01, 1e4),
        lambda: _cross_entropy(rng, 27, 27, 2000, "mean", 0.0, 1e-6),
        lambda: _cross_entropy(rng, 3, 9, 100, "mean", 0.0, 1.0),
        lambda: _cross_entropy(rng, 27, 27, 500, "mean", 0.01, 1.0, w_scale=4.0),
        lambda: _cross_entropy(rng, 100, 100, 100_000, "mean", 0.01, 1.0),
        lambda: _cross_entropy(rng, 100, 100, 100_000, "sum", 0.0, 1.0),
        lambda: _cross_entropy(rng, 1000, 1000, 20_000, "mean", 0.01, 1.0),
        lambda: _cross_entropy(rng, 1000, 1000, 200_000, "sum", 0.01, 1.0),
        lambda: _mlp(rng, 100, 10, 16, 5, "mean", 0.0, 1.0),
        lambda: _mlp(rng, 100, 10, 16, 5, "mean", 0.01, 1.0),
        lambda: _mlp(rng, 200, 10, 16, 5, "sum", 0.01, 1.0),
        lambda: _mlp(rng, 50, 5, 8, 3, "mean", 0.0, 1.0),
        lambda: _mlp(rng, 100, 10, 16, 5, "mean", 0.0, 1.0, w_scale=3.0),
        lambda: _mlp(rng, 100, 10, 16, 5, "mean", 0.01, 1e4),
        lambda: _mlp(rng, 300, 64, 128, 27, "mean", 0.001, 1.0),
        lambda: _logsumexp_rows(rng, 27, 27, 1.0),
        lambda: _logsumexp_rows(rng, 27, 27, 1e3),
        lambda: _logsumexp_rows(rng, 27, 27, 1e6),
        lambda: _logsumexp_rows(rng, 100, 100, 1.0, x_scale=10.0),
        lambda: _logsumexp_rows(rng, 1, 27, 1.0),
        lambda: _logsumexp_rows(rng, 1000, 1000, 1.0),
        lambda: _logsumexp_rows(rng, 1000, 1000, 1e2),
        lambda: _quadratic(rng, (10, 10), 1.0, 1.0, 1.0),
        lambda: _quadratic(rng, (10, 10), 1.0, 1.0, 1e6),
        lambda: _quadratic(rng, (3, 9), 1.0, 1.0, 1.0, x_scale=3e-4),
        lambda: _quadratic(rng, (1000, 1000), 1.0, 1.0, 1.0),
        lambda: _quadratic(rng, (1000, 1000), 1.0, 1.0, 1e2),
        lambda: _quadratic(rng, (27, 27), 1e-8, 1e4, 1.0),
        lambda: _quadratic(rng, (27, 27), 1e-8, 1e4, 1.0, x_scale=10.0),
        lambda: _quadratic(rng, (3, 9), 1e-8, 1e4, 1.0),
        lambda: _quadratic(rng, (100, 100), 1e-8, 1e4, 1.0),
        lambda: _dense_quadratic(rng, 50, 1e6),
        lambda: _ridge(rng, 200, 30, 0.1, 1.0),
        lambda: _ridge(rng, 200, 30, 0.1, 1e4),
        lambda: _logistic(rng, 500, 30, "mean", 0.01),
        lambda: _logistic(rng, 5000, 1000, "sum", 1.0),
        lambda: _softmax_regression(rng, 200, 10, 5, 0.01),
        lambda: _softmax_regression(rng, 200, 30, 27, 0.001),
        lambda: _elementwise(rng, "tanh", (27, 27), 1.0),
        lambda: _elementwise(rng, "tanh", (27, 27), 1e5),
        lambda: _elementwise(rng, "exp", (3, 9), 1.0),
        lambda: _elementwise(rng, "exp", (27, 27), 1e-6),
    ]
    cases = [build() for build in builders]
    return [c for c in cases if max_size is None or c.size <= max_size]


#: A mistake counts as one a checker must catch when its error is at least this share of
#: the gradient's norm.
VISIBLE_SHARE = 1e-3
#: Full mode runs on the cases of at most this many entries (4 calls of f per entry).
FULL_MODE_MAX_SIZE = 900

Checker = Callable[[BatteryCase, str, "str | None", bool, int], str]


@dataclass
class Tally:
    """Verdicts of one checker, mode and dtype over the battery.

    ``true`` and ``wrong`` count verdicts (``"pass"``, ``"fail"``,
    ``"inconclusive"``) on true gradients and on visible mistakes; ``missed``
    names what got a verdict it should not have (a true gradient that failed, a
    mistake that passed).
    """

    true: dict[str, int] = field(default_factory=dict)
    wrong: dict[str, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)

    def add(self, counts: dict[str, int], verdict: str) -> None:
        counts[verdict] = counts.get(verdict, 0) + 1


def gradcheck_verdict(case: BatteryCase, dtype: str, mistake: str | None, fast: bool,
                      seed: int) -> str:
    """minibigram's :func:`~minibigram.checks.gradcheck` at default settings on one case."""
    x = {k: v.astype(dtype) for k, v in case.params.items()}
    return gradcheck(case.function(dtype, mistake), x, fast=fast, seed=seed,
                     progress=False).verdict


def tally(checker: Checker, cases: list[BatteryCase], dtype: str, fast: bool,
          seeds: tuple[int, ...] = (0, 1, 2, 3, 4)) -> Tally:
    """Run ``checker(case, dtype, mistake, fast, seed) -> verdict`` over the battery.

    Full mode runs once per case of at most :data:`FULL_MODE_MAX_SIZE` entries
    (its verdict does not depend on a seed); fast mode once per case and seed.
    Mistakes count when their error is at least :data:`VISIBLE_SHARE` of the
    gradient's norm.
    """
    out = Tally()
    for case in cases:
        if not fast and case.size > FULL_MODE_MAX_SIZE:
            continue
        visible = [m for m in case.mistakes() if case.error_share(m) >= VISIBLE_SHARE]
        for seed in seeds if fast else seeds[:1]:
            verdict = checker(case, dtype, None, fast, seed)
            out.add(out.true, verdict)
            if verdict == "fail":
                out.missed.append(f"{case.name} (seed {seed}): true gradient failed")
            for m in visible:
                verdict = checker(case, dtype, m, fast, seed)
                out.add(out.wrong, verdict)
                if verdict == "pass":
                    out.missed.append(f"{case.name} (seed {seed}): {m} passed")
    return out
