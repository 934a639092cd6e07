"""Optimizers: they move W downhill on a ``loss_fn(W) -> (loss, dW)``.

Every solver returns ``(W, history)``; ``history`` is the same thing for each:
the loss of every iterate that was updated, computed before its update (for
gradient descent, the numbers the notebook prints). The loss of the returned W is
not in it: the trained model reports it as ``final_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from .engines import LossFn, concat_loss
from .errors import (
    SettingsError,
    TrainingError,
    check_choice,
    check_counts,
    check_size,
)
from .examples import weighted_examples

Callback = Callable[[int, float], None]
#: Rows whose (V, V) Hessians :func:`newton` solves at once: memory stays 24 V**2 times it.
NEWTON_BLOCK = 1024


def gradient_descent(loss_fn: LossFn, W: np.ndarray, steps: int, lr: float,
                     callback: Callback | None = None) -> tuple[np.ndarray, list[float]]:
    """Full-batch gradient descent, ``W <- W - lr * dW``, as in the notebook.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(W) -> (loss, dW)``.
    W : ndarray
        Starting point; not modified.
    steps : int
        Number of updates.
    lr : float
        Learning rate.
    callback : callable, optional
        Called as ``callback(step, loss)`` with each entry of ``history``
        (``step`` counts from 1).

    Returns
    -------
    W : ndarray
        The weights after ``steps`` updates.
    history : list of float
        The loss of every step, computed before that step's update (what the
        notebook prints).

    Raises
    ------
    TrainingError
        If the loss or the weights become NaN or infinite, or the last step's loss is
        above the first's: the steps are too large.
    """
    W = W.copy()
    history: list[float] = []
    # Divergence is detected below and raised as TrainingError, so numpy's overflow
    # warnings on the way there would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, steps + 1):
            loss, dW = loss_fn(W)
            if not math.isfinite(loss):
                raise _diverged(f"the loss became {loss} at step {step}", lr)
            history.append(loss)
            if callback is not None:
                callback(step, loss)
            W -= lr * dW
            if not np.isfinite(W).all():   # caught here, before the next step's checks
                raise _diverged(f"the weights became infinite or NaN at step {step}", lr)
    if len(history) > 1 and history[-1] > history[0]:   # a descent method went uphill
        raise _diverged(f"the loss rose from {history[0]:.6g} at step 1 to {history[-1]:.6g} "
                        f"at step {len(history)}", lr)
    return W, history


def closed_form(N: np.ndarray) -> np.ndarray:
    """The unregularized optimum from counts: ``W = log(N / N.sum(1))``, row by row.

    Parameters
    ----------
    N : ndarray, shape (V, V)
        Bigram counts (or total weights).

    Returns
    -------
    W : ndarray, shape (V, V), float64
        ``softmax(W)`` is the row-normalized count table, the count model of the
        notebook's first half.

    Notes
    -----
    With ``reg = 0`` the loss is minimized by ``softmax(W)_ij = N_ij / r_i``. Where
    ``N_ij = 0`` that probability is exactly 0, which no finite logit gives: the
    loss keeps falling as ``W_ij -> -inf``. So ``W_ij = -inf`` there, and nowhere
    else. ``softmax`` gives an exact 0 (``exp(-inf) = 0``), ``log_softmax`` an honest
    ``-inf`` (a word with an unseen bigram has probability 0), and the samplers never
    draw it. A row with no counts at all (a character that is never followed by
    anything) has no data term; it is left at 0 (uniform), the limit of the
    regularized optimum as ``reg -> 0``.
    """
    N = np.asarray(N, dtype=np.float64)
    r = N.sum(axis=1, keepdims=True)                       # (V, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        W = np.log(N / r)                                  # (V, V) -inf where N == 0
    W[r[:, 0] == 0] = 0.0
    return W


def newton(N: np.ndarray, reg: float, W: np.ndarray | None = None, *, tol: float = 1e-10,
           max_iter: int = 50, callback: Callback | None = None
           ) -> tuple[np.ndarray, list[float]]:
    """Minimize the counts objective exactly: damped Newton with a backtracking line search.

    Parameters
    ----------
    N : ndarray, shape (V, V), or (C, V) for C distinct n-gram contexts
        Bigram counts (or total weights).
    reg : float
        L2 strength, ``reg * mean(W**2)``. With ``reg = 0`` there is no finite
        optimum (see :func:`closed_form`), which is returned instead.
    W : ndarray, shape (V, V), optional
        Starting point; default all zeros (uniform rows). The objective is strictly
        convex for ``reg > 0``, so the optimum does not depend on it.
    tol : float, default 1e-10
        Stop once ``max |dW| < tol``.
    max_iter : int, default 50
        At most this many Newton steps.
    callback : callable, optional
        ``callback(k, loss)`` with each entry of ``history``, ``k`` from 1.

    Returns
    -------
    W : ndarray, shape (V, V), float64
    history : list of float
        The loss of every iterate that took a step, before it (empty for ``reg = 0``).

    Notes
    -----
    With ``n = sum N``, ``r_i = sum_j N_ij``, ``p_i = softmax(W_i)`` and ``c = 2 reg / V**2``,
    the loss is a sum of one term per row, so the rows decouple:

    ``f_i(w) = -(1/n) sum_j N_ij log softmax(w)_j + (c/2) |w|**2``

    ``g_i = (r_i p_i - N_i) / n + c w``

    ``H_i = (r_i / n) (diag(p_i) - p_i p_iᵀ) + c I``

    ``H_i`` is positive definite (the softmax part is positive semi-definite, and
    ``c > 0``), so each row takes the Newton step ``d_i = H_i^{-1} g_i``, all V rows
    in one batched ``np.linalg.solve``, then halves its step length until
    ``f_i(w - t d_i) <= f_i(w) - t (g_i · d_i) / 4`` (Armijo; a few ulps of slack
    allow for rounding once the decrease is below float64 precision). Near the
    optimum ``t = 1`` is accepted and the convergence is quadratic.
    """
    check_counts(N)
    N = np.asarray(N, dtype=np.float64)
    if W is not None and not np.isfinite(W).all():
        raise SettingsError("newton needs a finite starting W: leave W out to start from 0.")
    if reg == 0:
        return closed_form(N), []
    C, V = N.shape                                         # C = V, or C contexts (n-grams)
    n = N.sum()
    r = N.sum(axis=1) / n                                  # (V,) share of each context
    Nf = N / n                                             # (V, V)
    c = 2 * reg / N.size
    eye = np.eye(V)

    def row_losses(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logp = F.log_softmax(W)                            # (V, V)
        return -(Nf * logp).sum(axis=1) + 0.5 * c * (W * W).sum(axis=1), logp

    W = np.zeros((C, V)) if W is None else np.array(W, dtype=np.float64)
    f, logp = row_losses(W)                                # (V,)
    history: list[float] = []
    for k in range(1, max_iter + 2):
        p = np.exp(logp)                                   # (C, V)
        g = r[:, None] * p - Nf + c * W                    # (C, V) dW, row by row
        if np.abs(g).max() < tol or k > max_iter:
            break
        history.append(float(f.sum()))
        if callback is not None:
            callback(k, history[-1])
        d = np.empty_like(g)                               # (C, V) Newton steps
        for lo in range(0, C, NEWTON_BLOCK):               # rows decouple: a block at a time
            b = slice(lo, lo + NEWTON_BLOCK)
            pb = p[b]                                      # (B, V)
            H = r[b, None, None] * (pb[:, :, None] * eye - pb[:, :, None] * pb[:, None, :])
            H += c * eye                                   # (B, V, V) one Hessian per row
            d[b] = np.linalg.solve(H, g[b, :, None])[:, :, 0]
        W, f, logp = backtrack(row_losses, W, d, f, (g * d).sum(axis=1))
    return W, history


def backtrack(f_rows: Callable[[np.ndarray], tuple[np.ndarray, Any]], W: np.ndarray,
              d: np.ndarray, f: np.ndarray, decrease: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, Any]:
    """Armijo's backtracking line search, for R independent rows at once.

    Halves each row's step length ``t_i`` (from 1) until
    ``f_i(W_i - t_i d_i) <= f_i(W_i) - t_i (g_i · d_i) / 4``, with a few ulps of slack
    for rounding once the decrease is below float64 precision.

    Parameters
    ----------
    f_rows : callable
        ``f_rows(W) -> (losses (R,), aux)``; ``aux`` (e.g. the gradient) is returned
        for the accepted point, so it is not computed twice.
    W, d : ndarray, shape (R, ...)
        The point and the Newton direction, row ``i`` for problem ``i``.
    f, decrease : ndarray, shape (R,)
        ``f_i(W_i)`` and ``g_i · d_i`` (>= 0 for a descent direction).

    Returns
    -------
    W_new, f_new, aux
    """
    t = np.ones(len(f))                                        # (R,)
    for _ in range(60):
        W_new = W - t.reshape((-1,) + (1,) * (W.ndim - 1)) * d
        f_new, aux = f_rows(W_new)
        bad = f_new > f - 0.25 * t * decrease + 8 * np.finfo(float).eps * np.abs(f)
        if not bad.any():
            break
        t[bad] *= 0.5
    return W_new, f_new, aux




def concat_newton(contexts: np.ndarray, N: np.ndarray, reg: float, W: np.ndarray | None = None,
                  *, tol: float = 1e-10, max_iter: int = 50, callback: Callback | None = None,
                  solve: str = "auto") -> tuple[np.ndarray, list[float]]:
    """Solve the concat network exactly: damped Newton, each step by conjugate gradients.

    Parameters
    ----------
    contexts : ndarray of int, shape (C, K)
        The distinct contexts (oldest character first).
    N : ndarray, shape (C, V)
        Their target counts (the sufficient statistics).
    reg : float > 0
        ``reg * mean(W**2)``; with reg 0 the Hessian is singular (adding a vector to
        every row of ``W[p]`` and subtracting it from every row of ``W[q]`` changes no
        logit) and there may be no finite optimum.
    W : ndarray, shape (K, V, V), optional
        Starting point; default all zeros.
    tol : float
        Stop once ``max |dW| < tol``.
    max_iter : int
    callback : callable, optional
        ``callback(k, loss)`` with each entry of ``history``, ``k`` from 1.
    solve : {"auto", "cg", "dense"}, default "auto"
        How each Newton system ``H d = g`` is solved: ``"cg"`` by preconditioned
        conjugate gradients on Hessian-vector products (no Hessian is formed),
        ``"dense"`` by building the (K V V)^2 Hessian for ``np.linalg.solve`` (refused
        above :func:`minibigram.errors.memory_budget`); ``"auto"``: dense up to K V V = 512
        variables (a 2 MB Hessian, solved exactly in a millisecond), cg beyond.

    Returns
    -------
    W : ndarray, shape (K, V, V), float64
    history : list of float
        The loss of every iterate that took a step, before it.

    Notes
    -----
    With ``z_c = sum_p W[p, c_p]`` the logits of context ``c``, ``a_c = r_c / n`` and
    ``p_c = softmax(z_c)``, the data loss has ``d2L/dz_c2 = a_c (diag(p_c) - p_c p_c^T)``
    and ``dz_c / dW[p, x, :] = [c_p = x] I``. So the Hessian block of rows ``W[p, x]``
    and ``W[q, y]`` is the sum of ``a_c (diag(p_c) - p_c p_c^T)`` over the contexts with
    ``c_p = x`` and ``c_q = y``, plus ``(2 reg / W.size) I`` on the diagonal.

    Dense: each block pair (p, q) is one sort-and-``np.add.reduceat`` over the C
    contexts, then ``np.linalg.solve``: O((K V^2)^3) a step, 6.6 s for K = 3.

    Conjugate gradients need only products ``H U``, the formula of
    :func:`minibigram.concat_hvp` with ``p_c`` fixed for the step: ``dz_c = sum_p
    U[p, c_p]``, ``dG_c = a_c (p_c * dz_c - p_c (p_c . dz_c))``, and ``(H U)[p]`` the
    scatter-add of ``dG`` into the rows the contexts select, plus ``(2 reg / W.size)
    U``: O(C K V) each. They are preconditioned by the diagonal blocks of H (one
    V x V block per row ``W[p, x]``, inverted once a step) and stop once the
    residual, the gradient the quadratic model predicts after the step, has
    ``max |r| <= max(min(0.5, sqrt(m)) m, tol / 10)`` with ``m = max |g|``: rough
    steps far from the optimum, superlinear convergence near it (truncated Newton).
    Either way :func:`backtrack` then halves the step until Armijo holds.
    """
    check_counts(N)
    if not reg > 0:
        raise SettingsError("the concat encoding's exact solver needs reg > 0 (at reg 0 its "
                            "optimum can lie at infinity): use a reg above 0 (or, from Python, "
                            "solver='gd').")
    check_choice("solve", solve, ("auto", "cg", "dense"))
    C, K = contexts.shape
    V = N.shape[1]
    size = K * V * V
    dense = solve == "dense" or (solve == "auto" and size <= 512)
    if dense:
        check_size(f"the concat encoding's dense solver, with a {size}x{size} Hessian for "
                   f"K={K} and V={V},", 16.0 * size * size + 8.0 * C * V * V,
                   "use solve='cg' (the default), a shorter context or the joint encoding")
    Nf = np.asarray(N, dtype=np.float64) / N.sum()               # (C, V)
    a = Nf.sum(axis=1)                                           # (C,) share of each context
    lam = 2 * reg / size
    Xc, tc, wc = weighted_examples(contexts, N)                  # (m, K), (m,), (m,)

    def f_rows(Wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:   # one "row": the whole W
        loss, g = concat_loss(Wb[0], Xc, tc, reg, wc)
        return np.array([loss]), g

    step = _dense_step if dense else _cg_step(contexts, V, lam, tol)
    W = np.zeros((K, V, V)) if W is None else np.array(W, dtype=np.float64)
    f, g = f_rows(W[None])
    history: list[float] = []
    for k in range(1, max_iter + 2):
        if np.abs(g).max() < tol or k > max_iter:
            break
        history.append(float(f[0]))
        if callback is not None:
            callback(k, history[-1])
        P = F.softmax(F.concat_logits(W, contexts))     # (C, V)
        d = step(contexts, a, P, g, lam)                         # (K, V, V) Newton step
        Wb, f, g = backtrack(f_rows, W[None], d[None], f, np.array([(g * d).sum()]))
        W = Wb[0]
    return W, history


def _dense_step(contexts: np.ndarray, a: np.ndarray, P: np.ndarray, g: np.ndarray,
                lam: float) -> np.ndarray:
    """The Newton step ``H^-1 g`` of :func:`concat_newton` from the dense Hessian."""
    K, V, _ = g.shape
    size = g.size
    S = a[:, None, None] * (P[:, :, None] * np.eye(V) - P[:, :, None] * P[:, None, :])
    H = np.zeros((K, V, V, K, V, V))                             # [p, x, i, q, y, j]
    for p in range(K):
        for q in range(p, K):
            key = contexts[:, p] * V + contexts[:, q]            # (C,) which block gets S_c
            order = np.argsort(key, kind="stable")
            uniq, start = np.unique(key[order], return_index=True)
            blocks = np.add.reduceat(S[order], start, axis=0)   # (U, V, V), symmetric
            H[p, uniq // V, :, q, uniq % V, :] = blocks
            H[q, uniq % V, :, p, uniq // V, :] = blocks          # H is symmetric
    Hm = H.reshape(size, size)                                   # rows and columns: W.ravel()
    Hm[np.diag_indices_from(Hm)] += lam
    return np.linalg.solve(Hm, g.ravel()).reshape(K, V, V)


def _cg_step(contexts: np.ndarray, V: int, lam: float, tol: float
             ) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]:
    """The Newton step of :func:`concat_newton` by preconditioned conjugate gradients.

    What depends only on the contexts is prepared once: for each position ``p``, the
    flat index ``c_p V + j`` of every (context, column) entry, so that a scatter-add
    into ``W[p]`` is one ``np.bincount``, and the contexts grouped by ``c_p``.
    """
    C, K = contexts.shape
    flat = [(contexts[:, p, None] * V + np.arange(V)).ravel() for p in range(K)]   # (C V,)
    order = [np.argsort(contexts[:, p], kind="stable") for p in range(K)]         # (C,)
    bounds = [np.searchsorted(contexts[o, p], np.arange(V + 1)) for p, o in enumerate(order)]

    def scatter(G: np.ndarray, p: int) -> np.ndarray:
        """``onehot(contexts[:, p]).T @ G``, shape (V, V), for G of shape (C, V)."""
        return np.bincount(flat[p], weights=G.ravel(), minlength=V * V).reshape(V, V)

    def step(contexts: np.ndarray, a: np.ndarray, P: np.ndarray, g: np.ndarray,
             lam: float) -> np.ndarray:
        aP = a[:, None] * P                                      # (C, V)

        def hvp(U: np.ndarray) -> np.ndarray:                    # H U, as concat_hvp
            dz = U[0][contexts[:, 0]]                            # (C, V) logits moved by U
            for p in range(1, K):
                dz += U[p][contexts[:, p]]
            dz -= np.einsum("cj,cj->c", P, dz)[:, None]          # dz - (p . dz)
            dG = np.multiply(aP, dz, out=dz)                     # (C, V) a (p*dz - p (p.dz))
            return np.stack([scatter(dG, p) for p in range(K)]) + lam * U   # (K, V, V)

        # Preconditioner: the V x V diagonal block of each row W[p, x], inverted.
        sP = np.sqrt(a)[:, None] * P                             # (C, V)
        B = np.empty((K, V, V, V))                               # [p, x, i, j]
        for p in range(K):
            D = scatter(aP, p) + lam                             # (V, V) diagonals, row x
            for x in range(V):                                   # one block per row W[p, x]
                Q = sP[order[p][bounds[p][x]:bounds[p][x + 1]]]  # (C_px, V)
                B[p, x] = np.diag(D[x]) - Q.T @ Q
        Binv = np.linalg.inv(B.reshape(K * V, V, V))             # (K V, V, V)

        def precondition(R: np.ndarray) -> np.ndarray:
            return np.matmul(Binv, R.reshape(K * V, V, 1)).reshape(K, V, V)

        m = np.abs(g).max()
        stop = max(min(0.5, np.sqrt(m)) * m, 0.1 * tol)
        d = np.zeros_like(g)                                     # (K, V, V)
        r = g.copy()                                             # residual g - H d
        z = precondition(r)
        u = z.copy()                                             # search direction
        rz = float((r * z).sum())
        for _ in range(10 * g.size):   # in exact arithmetic CG ends within g.size steps
            Hu = hvp(u)
            alpha = rz / float((u * Hu).sum())
            d += alpha * u
            r -= alpha * Hu
            if np.abs(r).max() <= stop:
                break
            z = precondition(r)
            rz, rz_old = float((r * z).sum()), rz
            u = z + (rz / rz_old) * u
        return d
    return step


def _diverged(what: str, lr: float) -> TrainingError:
    return TrainingError(f"training diverged: {what}; try a learning rate smaller than {lr:g}, "
                         f"e.g. {lr / 10:g}.")
