"""Loss and gradient of the bigram network, three ways that give the same numbers.

The model: ``logits = onehot(xs) @ W``, ``probs = softmax(logits)``, and the loss

    L(W) = -(1/n) sum_k log probs[k, ys[k]]  +  reg * mean(W**2)

with its gradient, derived by hand (see ``functional`` for each step):

    dlogits = (probs - onehot(ys)) / n                      # (n, V)
    dW      = onehot(xs).T @ dlogits + 2 * reg * W / W.size  # (V, V)

- ``"onehot"``: the notebook made literal: one-hot, ``xenc @ W``, exp, normalize, NLL
  and L2, then each backward in reverse (:func:`onehot_loss_and_grad`), the steps of
  ``functional``. It is the one to read beside the lecture.
- ``"index"``: ``onehot(xs) @ W`` is just ``W[xs]`` (row indexing), and
  ``onehot(xs).T @ dlogits`` adds each row of ``dlogits`` into row ``xs[k]`` of
  ``dW`` (a scatter-add: one sum per context). No one-hot matrix; the cost left is the
  row softmax over the (n, V) logits. Training sorts the examples by context once,
  so that each context's rows are one contiguous run and the scatter-add is one
  ``np.add.reduceat`` (the loss is a sum over examples: their order does not matter).
- ``"counts"``: every example with the same context has the same logits, so the
  loss only needs the (V, V) count matrix ``N``. After one O(n) counting pass,
  each step is O(V**2), whatever n is.

Each public function checks its inputs once; :func:`objective` checks the data
once and returns the per-step function an optimizer calls, which trusts them. That
function keeps what does not change between steps: the counts engine's shares of
N, the index engine's sorted examples.

Every engine takes optional per-example ``weights``: the data term becomes
``sum_k w_k nll_k / sum_k w_k``. Counting is the special case where identical
pairs are merged and their weight is their count.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import functional as F
from .errors import DataError, SettingsError, check_choice, check_counts

ENGINES = ("onehot", "index", "counts")
#: The engines and the concat network, which :func:`objective` also builds.
OBJECTIVES = (*ENGINES, "concat")

LossFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]


def _check_W(W: np.ndarray, ndim: int = 2) -> None:
    if W.ndim != ndim:
        what = "a (C, V) matrix" if ndim == 2 else "a (K, V, V) array"
        raise SettingsError(f"W must be {what}, got shape {W.shape}.")
    if W.dtype not in (np.float32, np.float64):
        raise SettingsError(f"W must be float32 or float64, got {W.dtype}: cast it with W.astype.")
    if np.isnan(W).any() or np.isposinf(W).any():
        raise SettingsError("W holds NaN or +inf: start from finite weights (-inf is allowed: "
                            "it is a probability of exactly 0).")


def _check_ids(name: str, a: np.ndarray, m: int, C: int, V: int) -> None:
    if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= m:
        raise DataError(f"{name} must hold integer ids in [0, {m}) for a {C}x{V} W.")


def _check_examples(shape: tuple[int, ...], xs: np.ndarray, ys: np.ndarray,
                    weights: np.ndarray | None) -> None:
    """xs (n,) context ids or (n, K) contexts, ys (n,) targets, weights (n,), for a W of shape."""
    if len(xs) != len(ys) or ys.ndim != 1 or len(ys) == 0 or xs.ndim not in (1, 2):
        raise DataError("xs and ys must be non-empty 1-D integer arrays of the same length.")
    C, V = shape[-2], shape[-1]
    for p in range(xs.shape[1] if xs.ndim == 2 else 1):   # every context position
        _check_ids("xs", xs[:, p] if xs.ndim == 2 else xs, C, C, V)
    _check_ids("ys", ys, V, C, V)
    _check_weights(weights, len(ys))


def _check_weights(weights: np.ndarray | None, n: int) -> None:
    if weights is not None and (weights.shape != (n,) or weights.min() < 0
                                or not weights.sum() > 0):
        raise DataError("weights must be non-negative, one per example, with a positive sum.")


def _check_counts(shape: tuple[int, ...], N: np.ndarray) -> None:
    if N.shape != shape[-2:]:
        raise DataError(f"the count matrix has shape {N.shape}, but W has shape {shape}: "
                        "count with as many rows and columns as W.")
    check_counts(N)


def objective(engine: str, shape: tuple[int, ...], *, xs: np.ndarray | None = None,
              ys: np.ndarray | None = None, weights: np.ndarray | None = None,
              N: np.ndarray | None = None, reg: float = 0.0) -> LossFn:
    """The training objective as a function of W alone, its data checked once.

    Parameters
    ----------
    engine : {"onehot", "index", "counts", "concat"}
    shape : tuple of int
        The shape of W: (C, V), or (K, V, V) for ``"concat"``.
    xs, ys : ndarray of int
        The examples: context ids (n,) and targets (n,); for ``"concat"`` the
        contexts (n, K). The ``"counts"`` engine counts them once, here.
    weights : ndarray, shape (n,), optional
    N : ndarray, shape (C, V), optional
        Counts instead of examples, for the ``"counts"`` engine.
    reg : float

    Returns
    -------
    callable
        ``f(W) -> (loss, dW)``, which trusts its inputs: it is what an optimizer
        calls at every step, so it does not rescan the data.
    """
    check_choice("engine", engine, OBJECTIVES)
    if engine == "counts" and N is not None:
        N = np.asarray(N)
        _check_counts(shape, N)
    else:
        if xs is None or ys is None:
            raise SettingsError(f"the {engine} engine needs the examples xs and ys"
                                + (", or the counts N." if engine == "counts" else "."))
        xs, ys = np.asarray(xs), np.asarray(ys)
        weights = None if weights is None else np.asarray(weights)
        if engine == "concat" and (len(shape) != 3 or xs.ndim != 2 or xs.shape[1] != shape[0]):
            raise SettingsError(f"concat needs W of shape (K, V, V) and contexts of shape "
                                f"(n, K); got W {shape} and contexts {xs.shape}.")
        _check_examples(shape, xs, ys, weights)
    if engine == "counts":
        if N is None:   # counted once; each step is then O(C V) whatever n is
            assert xs is not None and ys is not None
            C, V = shape
            N = np.bincount(xs * V + ys, weights=weights, minlength=C * V).reshape(C, V)
        return _counts_objective(N, reg)
    assert xs is not None and ys is not None
    xs_, ys_ = xs, ys   # narrowed from Optional, for the closures
    if engine == "concat":
        return lambda W: concat_loss(W, xs_, ys_, reg, weights)
    if engine == "index":   # sorted by context once: each context's rows become one run
        order = np.argsort(xs_, kind="stable")               # (n,)
        xs_, ys_ = xs_[order], ys_[order]
        weights = None if weights is None else weights[order]
        runs = _runs(xs_)
        return lambda W: index_loss_and_grad(W, xs_, ys_, reg, weights, runs=runs)
    return lambda W: _onehot_in_float_range(W, xs_, ys_, reg, weights)


def _onehot_in_float_range(W: np.ndarray, xs: np.ndarray, ys: np.ndarray, reg: float,
                           weights: np.ndarray | None) -> tuple[float, np.ndarray]:
    """:func:`onehot_loss_and_grad`, refused with a SettingsError if its result is not finite.

    The onehot engine computes the notebook's float arithmetic as written (``0 * W`` in the
    product, ``exp`` of the raw logits): a W of -inf, a logit past the float range or a
    target probability that rounds to 0 leave it; the other engines stay finite there.
    """
    with np.errstate(all="ignore"):
        loss, dW = onehot_loss_and_grad(W, xs, ys, reg, weights)
    if not (np.isfinite(loss) and np.isfinite(dW).all()):
        raise SettingsError(
            "the onehot engine computes exp(logits) and 0 * W as the notebook writes them, "
            "and this W takes them past the float range (a weight of -inf, a logit above "
            f"{int(np.log(np.finfo(W.dtype).max))} or a probability that rounds to 0): use "
            "engine='index' or 'counts', which give the same loss stably.")
    return loss, dW


def loss_and_grad(W: np.ndarray, xs: np.ndarray, ys: np.ndarray, reg: float = 0.0,
                  engine: str = "onehot",
                  weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood plus L2 penalty, and its gradient with respect to W.

    Parameters
    ----------
    W : ndarray, shape (V, V) or (C, V), float32 or float64
        The weights: row ``i`` holds the logits (log-counts) of the character that
        follows character ``i``. The computation runs in W's dtype. For n-gram
        contexts (the ``"joint"`` encoding) row ``i`` belongs to the i-th distinct
        context and ``xs`` hold context ids in [0, C).
    xs, ys : ndarray of int, shape (n,)
        Context and target ids, e.g. from :func:`minibigram.bigrams`.
    reg : float, default 0.0
        L2 strength; the penalty is ``reg * mean(W**2)``.
    engine : {"onehot", "index", "counts"}
        How to compute it; all three give the same numbers (see the module docstring).
    weights : ndarray, shape (n,), optional
        Non-negative weight per example.

    Returns
    -------
    loss : float
    dW : ndarray, shape (V, V), W's dtype

    Notes
    -----
    ``dL/dlogits[k] = (probs[k] - onehot(ys[k])) / n`` comes from
    ``-log p_y = -z_y + log sum_j exp(z_j)``, whose derivative in ``z_j`` is
    ``-[j = y] + p_j``.
    """
    W = np.asarray(W)
    _check_W(W)
    check_choice("engine", engine, ENGINES)
    return objective(engine, W.shape, xs=xs, ys=ys, weights=weights, reg=reg)(W)


def onehot_loss_and_grad(W: np.ndarray, xs: np.ndarray, ys: np.ndarray, reg: float = 0.0,
                         weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The notebook's forward pass, one step a line, then the backward in reverse order.

    It trusts its inputs (:func:`loss_and_grad` and :func:`objective` check them).
    See :func:`loss_and_grad` for the parameters. Like the notebook, it exponentiates the
    logits as they are: a logit above about 88 (float32) overflows, and a target whose
    probability rounds to 0 has an infinite loss; :func:`objective` refuses such a W.
    """
    C, V = W.shape
    # forward: the notebook's cell, one function of functional each
    xenc = F.one_hot(xs, C, W.dtype)                     # (n, C) one row per example
    logits = F.linear(xenc, W)                           # (n, V) log-counts
    counts = F.exp(logits)                               # (n, V) like the count matrix N
    probs = F.normalize(counts)                          # (n, V) each row sums to 1
    p = F.pick(probs, ys)                                # (n,) probability of each target
    logp = F.log(p)                                      # (n,)
    loss = -F.mean(logp, weights) + F.l2(W, reg)
    # backward: each gradient from the one after it, the forward's steps in reverse
    dlogp = F.mean_backward(logp, -1.0, weights)         # (n,) -1/n each
    dp = F.log_backward(p, dlogp)                        # (n,) -1/(n p)
    dprobs = F.pick_backward(dp, ys, V)                  # (n, V) 0 where not picked
    dcounts = F.normalize_backward(counts, dprobs)       # (n, V)
    dlogits = F.exp_backward(counts, dcounts)            # (n, V) (probs - onehot(ys)) / n
    dW = F.linear_backward(xenc, dlogits) + F.l2_backward(W, reg)   # (C, V)
    return float(loss), dW


def index_loss_and_grad(W: np.ndarray, xs: np.ndarray, ys: np.ndarray, reg: float = 0.0,
                        weights: np.ndarray | None = None, *,
                        runs: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The same as ``"onehot"`` with row indexing and a scatter-add. See :func:`loss_and_grad`.

    It trusts its inputs (:func:`loss_and_grad` and :func:`objective` check them).
    ``runs``: where each context's run of rows starts when ``xs`` is sorted (as
    :func:`objective` sorts it, with :func:`_runs`); then the scatter-add is one sum per run.
    """
    C, V = W.shape
    logits = W[xs]                                       # (n, V) = onehot(xs) @ W
    data_loss, dlogits = F.cross_entropy(logits, ys, weights)   # (n, V) (probs - onehot(ys)) / n
    loss = data_loss + F.l2(W, reg)
    # scatter-add row k of dlogits into row xs[k] of dW: that is onehot(xs).T @ dlogits
    if runs is not None and len(runs):
        dW = np.zeros((C, V), dtype=W.dtype)             # (C, V) a context with no example: 0
        dW[xs[runs]] = np.add.reduceat(dlogits, runs, axis=0)
    else:
        dW = _scatter_rows(xs, dlogits, C).astype(W.dtype)   # (C, V)
    return float(loss), dW + F.l2_backward(W, reg)


def _runs(xs: np.ndarray) -> np.ndarray:
    """Where each run of equal ids starts, if ``xs`` is sorted; else an empty array.

    Summing each run in ``dlogits``' dtype, one row after the other, is as accurate
    as the one-hot matmul (in float32 on the names, 6e-8 of the largest entry
    against 4e-6 for the matmul).
    """
    steps = np.diff(xs)                                    # (n - 1,)
    if len(xs) == 0 or steps.min(initial=0) < 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.concatenate(([1], steps)))   # (R,) first row of each run


def _scatter_rows(xs: np.ndarray, dlogits: np.ndarray, C: int) -> np.ndarray:
    """``out[i] = sum of dlogits[k] over k with xs[k] = i``, shape (C, V), in float64.

    One weighted ``np.bincount`` per column of ``dlogits``: O(n V) whatever the
    number of contexts C, with float64 accumulation (summing 10**5 float32 rows one
    by one in float32 would drift from the matmul it replaces), and no (n, V)
    temporary (a flat n*V bincount index would take more memory than the one-hot
    matrix it replaces).
    """
    return np.stack([np.bincount(xs, weights=col, minlength=C) for col in dlogits.T], axis=1)


def counts_loss_and_grad(W: np.ndarray, N: np.ndarray,
                         reg: float = 0.0) -> tuple[float, np.ndarray]:
    """Loss and gradient from the (C, V) count matrix alone.

    Parameters
    ----------
    W : ndarray, shape (V, V), or (C, V) for C contexts
    N : ndarray, same shape
        ``N[i, j]`` = number (or total weight) of examples with context i and target j.
    reg : float

    Returns
    -------
    loss : float
    dW : ndarray, shape (V, V)

    Notes
    -----
    Grouping the examples by context ``i``, with ``n = sum N`` and row sums ``r_i``:

    ``L = -(1/n) sum_ij N_ij log softmax(W)_ij + reg * mean(W**2)``

    ``dW = (r_i softmax(W)_i - N_i) / n + 2 * reg * W / W.size``

    since the ``r_i`` examples of context ``i`` each contribute ``probs_i / n`` and
    each target ``j`` subtracts ``1/n`` once per occurrence.
    """
    W, N = np.asarray(W), np.asarray(N)
    _check_W(W)
    _check_counts(W.shape, N)
    return counts_loss(W, N, reg)


def counts_loss(W: np.ndarray, N: np.ndarray, reg: float = 0.0) -> tuple[float, np.ndarray]:
    """:func:`counts_loss_and_grad` without the checks: the per-step function of training."""
    return _counts_objective(N, reg)(W)


def _counts_objective(N: np.ndarray, reg: float) -> LossFn:
    """:func:`counts_loss` as a function of W alone.

    What does not change from step to step is made once per dtype: the shares of N,
    their row sums, where N is positive, and the array of loss terms. A step then
    allocates only what it returns (dW) and the log-softmax it turns into dW.
    """
    kept: dict[np.dtype, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def loss_fn(W: np.ndarray) -> tuple[float, np.ndarray]:
        if W.dtype not in kept:
            Nf = (N / N.sum()).astype(W.dtype)             # (C, V) share of each pair
            # terms: N_ij / n * log p_ij where N > 0; 0 elsewhere, written once, here
            kept[W.dtype] = Nf, Nf.sum(axis=1, keepdims=True), Nf > 0, np.zeros_like(Nf)
        Nf, r, seen, terms = kept[W.dtype]                 # (C, V), (C, 1), (C, V), (C, V)
        logp = F.log_softmax(W)                            # (C, V) every row, once
        # only where N > 0: elsewhere the term is 0, also where W = -inf (probability 0
        # of the reg-0 closed form), for which 0 * -inf would be NaN
        np.multiply(Nf, logp, out=terms, where=seen)       # (C, V)
        loss = float(-terms.sum() + F.l2(W, reg))          # in W's dtype
        dW = np.exp(logp, out=logp)                        # (C, V) probs, in place
        dW *= r                                            # r_i p_i
        dW -= Nf                                           # (r_i p_i - N_i) / n
        if reg:
            dW += F.l2_backward(W, reg)
        return loss, dW
    return loss_fn


def concat_loss_and_grad(W: np.ndarray, X: np.ndarray, ys: np.ndarray, reg: float = 0.0,
                         weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Loss and gradient of the ``"concat"`` n-gram network: one W per context position.

    Parameters
    ----------
    W : ndarray, shape (K, V, V), float32 or float64
        ``W[p]`` maps the character at context position ``p`` (oldest first) to logits.
    X : ndarray of int, shape (n, K)
        Contexts, e.g. from :func:`minibigram.ngrams` (or the distinct contexts
        of :func:`minibigram.context_counts`, with their counts as weights).
    ys : ndarray of int, shape (n,)
    reg : float
        The penalty is ``reg * mean(W**2)`` over all ``K V V`` weights.
    weights : ndarray, shape (n,), optional

    Returns
    -------
    loss : float
    dW : ndarray, shape (K, V, V)

    Notes
    -----
    The input is the K one-hots concatenated, ``x = [onehot(c_1), ..., onehot(c_K)]``
    of length ``K V``, times ``W`` reshaped to ``(K V, V)``; that product is a sum of
    K selected rows (the lecture's "two characters as input")::

        logits[k] = W[0, X[k, 0]] + ... + W[K-1, X[k, K-1]]            # (n, V)
        dlogits   = (softmax(logits) - onehot(ys)) / n                  # (n, V)
        dW[p]     = onehot(X[:, p]).T @ dlogits  + 2 reg W[p] / W.size  # (V, V), each p

    A sum copies its upstream gradient to every term, so each position receives all
    of ``dlogits``, scatter-added into the rows its characters selected.
    """
    W = np.asarray(W)
    if W.ndim != 3 or W.shape[1] != W.shape[2]:
        raise SettingsError(f"concat needs W of shape (K, V, V) and contexts of shape (n, K); "
                            f"got W {W.shape} and contexts {np.shape(X)}.")
    _check_W(W, ndim=3)
    return objective("concat", W.shape, xs=X, ys=ys, weights=weights, reg=reg)(W)


def concat_loss(W: np.ndarray, X: np.ndarray, ys: np.ndarray, reg: float = 0.0,
                weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """:func:`concat_loss_and_grad` without the checks: the per-step function of training."""
    K, V, _ = W.shape
    # forward
    logits = F.concat_logits(W, X)                         # (n, V)
    data_loss, dlogits = F.cross_entropy(logits, ys, weights)    # (n, V)
    loss = data_loss + F.l2(W, reg)
    # backward: the sum hands dlogits to each position, scattered into its rows
    dW = np.stack([_scatter_rows(X[:, p], dlogits, V) for p in range(K)])   # (K, V, V)
    return float(loss), dW.astype(W.dtype) + F.l2_backward(W, reg)


# ---------------------------------------------------------------- second order
# Hessian-vector products of the counts (joint) and concat losses, hand-derived: the
# backward of each loss's backward, checked by ``minibigram.hvpcheck``.


def counts_hvp(W: np.ndarray, U: np.ndarray, N: np.ndarray, reg: float = 0.0) -> np.ndarray:
    """Hessian-vector product ``H U`` of :func:`counts_loss_and_grad`'s loss at ``W``.

    Parameters
    ----------
    W : ndarray, shape (C, V)
        The point: one row of logits per context (C = V for the bigram).
    U : ndarray, shape (C, V)
        The direction.
    N : ndarray, shape (C, V)
        Counts (or total weights), as for :func:`counts_loss_and_grad`; the Hessian
        only needs their row sums.
    reg : float
        L2 strength of ``reg * mean(W**2)``.

    Returns
    -------
    HU : ndarray, shape (C, V), float64

    Notes
    -----
    With ``n = sum N``, ``r_i = sum_j N_ij``, ``p_i = softmax(W_i)`` and
    ``c = 2 reg / W.size`` the rows decouple, each with the Hessian of
    :func:`minibigram.newton`, ``H_i = (r_i / n) (diag(p_i) - p_i p_iᵀ) + c I``, so

    ``(H U)_i = (r_i / n) (p_i * U_i - p_i (p_i · U_i)) + c U_i``,

    the derivative of the gradient ``(r_i p_i - N_i) / n + c W_i`` along ``U``
    (``d p_i = p_i * dW_i - p_i (p_i · dW_i)``, the backward of softmax). O(C V),
    no (V, V) Hessian is formed.
    """
    W, U = np.asarray(W, dtype=np.float64), np.asarray(U, dtype=np.float64)
    N = np.asarray(N, dtype=np.float64)
    if W.ndim != 2 or U.shape != W.shape or N.shape != W.shape:
        raise SettingsError(f"counts_hvp needs W, U and N of one (C, V) shape; got W {W.shape}, "
                            f"U {U.shape} and N {N.shape}.")
    check_counts(N)
    n = N.sum()
    a = N.sum(axis=1, keepdims=True) / n                   # (C, 1) share of each context
    # d softmax(W_i) along U_i is softmax's backward applied to U_i
    dp = F.softmax_backward(F.softmax(W), U)               # (C, V) p*U - p (p·U)
    return a * dp + (2 * reg / W.size) * U                 # (C, V)


def concat_hvp(W: np.ndarray, U: np.ndarray, X: np.ndarray, reg: float = 0.0,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Hessian-vector product ``H U`` of :func:`concat_loss_and_grad`'s loss at ``W``.

    Parameters
    ----------
    W : ndarray, shape (K, V, V)
        The point.
    U : ndarray, shape (K, V, V)
        The direction.
    X : ndarray of int, shape (n, K)
        Contexts, as for :func:`concat_loss_and_grad`. The targets are not needed:
        the Hessian of cross-entropy does not depend on them.
    reg : float
        L2 strength of ``reg * mean(W**2)`` over all ``K V V`` weights.
    weights : ndarray, shape (n,), optional
        Weight per example, as for :func:`concat_loss_and_grad`.

    Returns
    -------
    HU : ndarray, shape (K, V, V), float64

    Notes
    -----
    Forward mode, then the gradient's own backward: with example shares ``s_k``
    (``1/n``, or ``w_k / sum w``), ``z_k = sum_p W[p, X[k, p]]`` and ``P = softmax(z)``::

        dz_k   = sum_p U[p, X[k, p]]                             # (n, V) logits moved by U
        dG_k   = s_k (P_k * dz_k - P_k (P_k · dz_k))             # (n, V) d dlogits
        HU[p]  = onehot(X[:, p]).T @ dG  + (2 reg / W.size) U[p] # (V, V), each p

    which is ``H U`` for the blocks :func:`minibigram.ngram.concat_newton` builds:
    the block of rows ``W[p, x]``, ``W[q, y]`` sums ``s_k (diag(P_k) - P_k P_kᵀ)`` over
    the examples with ``X[k, p] = x`` and ``X[k, q] = y``.
    """
    W, U = np.asarray(W, dtype=np.float64), np.asarray(U, dtype=np.float64)
    X = np.asarray(X)
    if (W.ndim != 3 or W.shape[1] != W.shape[2] or U.shape != W.shape or X.ndim != 2
            or X.shape[1] != W.shape[0] or len(X) == 0):
        raise SettingsError(f"concat_hvp needs W and U of one (K, V, V) shape and contexts of "
                            f"shape (n, K); got W {W.shape}, U {U.shape} and contexts {X.shape}.")
    K, V, _ = W.shape
    for p in range(K):   # every context position
        _check_ids("contexts", X[:, p], V, V, V)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    _check_weights(w, len(X))
    s = np.full(len(X), 1.0 / len(X)) if w is None else w / w.sum()   # (n,)
    P = F.softmax(F.concat_logits(W, X))                   # (n, V)
    dz = F.concat_logits(U, X)                             # (n, V)
    dG = s[:, None] * F.softmax_backward(P, dz)            # (n, V) P*dz - P (P·dz), scaled
    HU = np.stack([_scatter_rows(X[:, p], dG, V) for p in range(K)])       # (K, V, V)
    return HU + (2 * reg / W.size) * U
