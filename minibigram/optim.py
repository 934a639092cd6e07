"""Optimizers: they move W downhill on a ``loss_fn(W) -> (loss, dW)``."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import functional as F
from .errors import DataError, SettingsError, TrainingError

LossFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]
Callback = Callable[[int, float], None]


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
        Called as ``callback(step, loss)`` after each step's loss is computed
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
        If the loss or the weights become NaN or infinite: the steps are too large.
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
        ``callback(k, loss)`` for the loss of every iterate, ``k`` from 1.

    Returns
    -------
    W : ndarray, shape (V, V), float64
    history : list of float
        The loss of every iterate, the last one included.

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
    N = np.asarray(N, dtype=np.float64)
    if not N.sum() > 0:
        raise DataError("the count matrix is empty: there is nothing to learn from.")
    if W is not None and not np.isfinite(W).all():
        raise SettingsError("newton needs a finite starting W: leave W out to start from 0.")
    if reg == 0:
        W = closed_form(N)
        loss = -(N[N > 0] * F.log_softmax(W)[N > 0]).sum() / N.sum()
        if callback is not None:
            callback(1, float(loss))
        return W, [float(loss)]
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
        history.append(float(f.sum()))
        if callback is not None:
            callback(k, history[-1])
        p = np.exp(logp)                                   # (V, V)
        g = r[:, None] * p - Nf + c * W                    # (V, V) dW, row by row
        if np.abs(g).max() < tol or k > max_iter:
            break
        H = r[:, None, None] * (p[:, :, None] * eye - p[:, :, None] * p[:, None, :])
        H += c * eye                                       # (C, V, V) one Hessian per row
        d = np.linalg.solve(H, g[:, :, None])[:, :, 0]     # (C, V) Newton steps
        decrease = (g * d).sum(axis=1)                     # (C,) >= 0
        t = np.ones(C)
        for _ in range(60):
            W_new = W - t[:, None] * d
            f_new, logp_new = row_losses(W_new)
            bad = f_new > f - 0.25 * t * decrease + 8 * np.finfo(float).eps * np.abs(f)
            if not bad.any():
                break
            t[bad] *= 0.5
        W, f, logp = W_new, f_new, logp_new
    return W, history


def _diverged(what: str, lr: float) -> TrainingError:
    return TrainingError(f"training diverged: {what}; try a learning rate smaller than {lr:g}, "
                         f"e.g. {lr / 10:g}.")
