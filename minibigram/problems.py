"""Problems with known derivatives: fixed reference problems, the engines checked on random ones.

:func:`reference_problem` gives fixed float64 problems (loss, gradient,
Hessian-vector products) that another framework's tests can compare with;
:func:`check_engines` runs :func:`~minibigram.checks.gradcheck` (or
:func:`~minibigram.checks.hvpcheck`) on every engine's hand-derived derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .checks import NOISE_RULE, PASS_RULE, GradcheckResult, LateProgress, gradcheck, hvpcheck
from .engines import (
    OBJECTIVES,
    concat_hvp,
    concat_loss_and_grad,
    counts_hvp,
    counts_loss_and_grad,
    loss_and_grad,
)
from .errors import SettingsError

# (V, n, reg) of the random problems check_engines runs every engine on
ENGINE_CASES = ((2, 5, 0.0), (7, 60, 0.1), (27, 400, 0.01))
CHECKED_ENGINES = OBJECTIVES   # the three engines and the concat network
#: Names of the problems :func:`reference_problem` knows.
REFERENCE_PROBLEMS = ("bigram", "ngram-joint", "ngram-concat")


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
                  max_entries: int | None = 1000, hessian: bool = False,
                  progress: bool | None = None) -> list[tuple[dict, GradcheckResult]]:
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
    progress : bool, optional
        Count the checks on stderr once the run has lasted 2 seconds (default:
        when stderr is a terminal).
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
    ticker = LateProgress(len(contexts) * len(ENGINE_CASES) * len(engines) * len(dtypes), "check",
                          progress)
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
                    ticker(len(rows))
    ticker.close()
    return rows


def engine_record(rows: list[tuple[dict, GradcheckResult]]) -> dict:
    """:func:`check_engines`' rows as one JSON-ready record (``gradcheck --json``)."""
    return {"ok": all(r.ok for _, r in rows), "checks": [
        {**case, "kind": r.kind, "verdict": r.verdict, "max_ratio": r.max_ratio,
         "max_abs_error": r.max_abs_error, "max_rel_error": r.max_rel_error,
         "noise_floor": r.noise_floor, "rtol": r.rtol, "atol": r.atol,
         "n_checked": r.n_checked, "ok": r.ok} for case, r in rows]}


def engine_report(rows: list[tuple[dict, GradcheckResult]]) -> str:
    """:func:`check_engines`' rows as the table ``minibigram gradcheck`` prints, the rule
    under it, then the report of each check that did not pass."""
    lines = [f"{'engine':<7} {'K':>2} {'W shape':<13} {'n':>4} {'reg':>5} {'dtype':<8} "
             f"{'checked':>7} {'max |a-n|':>10} {'max ratio':>10}  result"]
    for case, r in rows:
        lines.append(f"{case['engine']:<7} {case['K']:>2} {str(tuple(case['shape'])):<13} "
                     f"{case['n']:>4} {case['reg']:>5g} {case['dtype']:<8} {r.n_checked:>7} "
                     f"{r.max_abs_error:>10.2e} {r.max_ratio:>10.2e}  "
                     f"{'pass' if r.ok else r.verdict.upper()}")
    passed = sum(r.ok for _, r in rows)
    lines.append(f"{passed} of {len(rows)} checks passed (rule {PASS_RULE}, where "
                 f"{NOISE_RULE}; ratio = |a - n| / (atol + rtol * |n| + noise), at most 1 "
                 "to pass)")
    for case, r in rows:
        if not r.ok:
            lines.append(f"\n{case['engine']} K={case['K']} {case['dtype']} W "
                         f"{tuple(case['shape'])}:\n{r}")
    return "\n".join(lines)


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

