"""The math of the bigram network, one operation at a time, each backward beside its forward.

Shapes: ``n`` examples, ``C`` contexts, ``V`` characters. A forward function
computes an output from its inputs; its ``*_backward`` takes the upstream
gradient ``d<output>`` (the gradient of the loss with respect to that output) and
returns the gradient with respect to the input, by the chain rule.

The ``"onehot"`` engine (:func:`minibigram.engines.onehot_loss_and_grad`) is the
chain of these calls, the notebook's steps one by one::

    one_hot -> linear -> log_softmax -> nll (+ l2)          forward
    nll_backward -> log_softmax_backward -> linear_backward   backward

``log_softmax`` is the notebook's exp, normalize and log in one stable step;
:func:`exp`, :func:`normalize`, :func:`softmax` and their backwards spell it out,
and chaining them gives the same ``dlogits = (probs - onehot(ys)) / n`` (a test
checks it).

**Speed.** The (n, V) arrays of the names are 228,146 x 27 (25 MB in float32), and
numpy runs each elementwise operation on one core, so every pass over them costs.
The functions that make an (n, V) array take an optional ``out=``, an array of the
result's shape and dtype that is overwritten: a training loop hands the same
buffers to every step, which then allocates nothing (fresh memory is zeroed by
the system page by page, which costs as much as a pass). They work in place
where the math allows, and sum rows with :func:`row_sum`.
"""

from __future__ import annotations

import numpy as np


def one_hot(ix: np.ndarray, V: int, dtype: np.dtype | type = np.float32,
            out: np.ndarray | None = None) -> np.ndarray:
    """Encode integer ids as rows of an identity matrix.

    Parameters
    ----------
    ix : ndarray of int, shape (n,)
    V : int
        Number of classes.
    dtype : numpy dtype, default float32 (as the notebook's ``F.one_hot(...).float()``)
    out : ndarray, shape (n, V), optional
        Written over instead of allocating a new matrix.

    Returns
    -------
    xenc : ndarray, shape (n, V)
        ``xenc[k, ix[k]] = 1`` and 0 elsewhere.

    Notes
    -----
    There is no backward: the input is integer data, not a parameter. Multiplying
    a one-hot row by ``W`` selects row ``ix[k]`` of ``W``; the ``"index"`` engine
    uses that to skip this matrix altogether.
    """
    if out is None:
        xenc = np.zeros((len(ix), V), dtype=dtype)         # (n, V)
    else:
        xenc = out                                         # (n, V) the caller's buffer
        xenc.fill(0)
    xenc[np.arange(len(ix)), ix] = 1
    return xenc


def linear(xenc: np.ndarray, W: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``logits = xenc @ W``: each one-hot row selects its row of W, the log-counts.

    Parameters
    ----------
    xenc : ndarray, shape (n, C)
    W : ndarray, shape (C, V)
    out : ndarray, shape (n, V), optional
        Written over instead of allocating.

    Returns
    -------
    logits : ndarray, shape (n, V)
    """
    return np.matmul(xenc, W, out=out)                     # (n, V)


def linear_backward(xenc: np.ndarray, dlogits: np.ndarray) -> np.ndarray:
    """Backward of :func:`linear` with respect to W: ``dW = xenc.T @ dlogits``, shape (C, V).

    Notes
    -----
    ``logits[k, j] = sum_i xenc[k, i] W[i, j]``, so ``dL/dW[i, j] = sum_k xenc[k, i]
    dlogits[k, j]``. No gradient flows to ``xenc``: it is data.
    """
    return xenc.T @ dlogits


def exp(logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``counts = exp(logits)``: log-counts become positive "counts" (``out`` may be ``logits``)."""
    return np.exp(logits, out=out)


def row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1, keepdims=True)``: each row's sum, shape (..., 1).

    Computed by ``np.einsum``: the same sum, several times faster than numpy's
    ``sum`` over rows as short as V = 27 (which pays a fixed cost per row), and
    steadier than the BLAS product ``x @ ones`` on a busy machine (BLAS threads wait
    for each other there).
    """
    return np.einsum("...j->...", x)[..., None]            # (..., 1)


def exp_backward(counts: np.ndarray, dcounts: np.ndarray) -> np.ndarray:
    """d exp(x)/dx = exp(x), so ``dlogits = counts * dcounts``."""
    return counts * dcounts


def normalize(counts: np.ndarray) -> np.ndarray:
    """``probs = counts / counts.sum(1)``: each row becomes a probability distribution."""
    return counts / counts.sum(axis=1, keepdims=True)


def normalize_backward(counts: np.ndarray, dprobs: np.ndarray) -> np.ndarray:
    """Backward of :func:`normalize`.

    Notes
    -----
    With ``s = sum_j c_j`` and ``p_j = c_j / s``: ``dp_j/dc_k = [j = k] / s - c_j / s**2``,
    so ``dc_k = (dp_k - sum_j dp_j p_j) / s``.
    """
    s = counts.sum(axis=1, keepdims=True)
    probs = counts / s
    return (dprobs - (dprobs * probs).sum(axis=1, keepdims=True)) / s


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, ``probs[k, j] = exp(logits[k, j]) / sum_i exp(logits[k, i])``.

    Parameters
    ----------
    logits : ndarray, shape (..., V)

    Returns
    -------
    probs : ndarray, same shape and dtype, rows summing to 1.

    Notes
    -----
    This is :func:`exp` then :func:`normalize`, after subtracting each row's
    maximum ``m``. That changes nothing mathematically,
    ``exp(x - m) / sum exp(x - m) = exp(x) e^-m / (e^-m sum exp(x))``, but keeps
    every exponent at most 0, so ``exp`` cannot overflow to ``inf`` (it would for a
    logit of 89 in float32) and the largest entry of each row is exactly 1 before
    normalizing.
    """
    with np.errstate(over="ignore"):   # a logit gap past the float range: exp gives 0
        counts = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return counts / counts.sum(axis=-1, keepdims=True)


def softmax_backward(probs: np.ndarray, dprobs: np.ndarray) -> np.ndarray:
    """Backward of :func:`softmax`: ``dlogits = probs * (dprobs - sum_j dprobs_j probs_j)``.

    Notes
    -----
    The Jacobian is ``dp_j/dz_k = p_j ([j = k] - p_k)``.
    """
    return probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))


def log_softmax(logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise ``log(softmax(logits))``: the notebook's exp, normalize and log, by log-sum-exp.

    The notebook computes ``counts = logits.exp()``, ``probs = counts /
    counts.sum(1)`` and then ``probs.log()``; this is the same number, finite
    wherever the logits are.

    Parameters
    ----------
    logits : ndarray, shape (..., V)
    out : ndarray, same shape, optional
        Written over instead of allocating (not ``logits`` itself: it is read twice).

    Notes
    -----
    ``log p_j = z_j - log sum_i exp(z_i) = (z_j - m) - log sum_i exp(z_i - m)`` with
    ``m = max_i z_i``: :func:`exp` of the
    shifted logits, whose row sum is the :func:`normalize` denominator. Taking
    ``log`` of :func:`softmax` instead would give ``-inf`` once a probability
    underflows to 0 (a logit gap above about 87 in float32), and adding an ``eps``
    would give a wrong number.
    """
    # (the ufunc's reduce: .max() is the same number through a layer of Python)
    m = np.maximum.reduce(logits, axis=-1, keepdims=True)        # (..., 1) each row's largest
    # float logits stay in their dtype, integer ones become float64
    dtype = logits.dtype if logits.dtype.kind == "f" else np.float64
    with np.errstate(over="ignore"):   # a logit gap past the float range is -inf: exp gives 0
        shifted = np.subtract(logits, m, out=out, dtype=dtype)  # (..., V) every entry <= 0
    counts = exp(shifted)                                        # (..., V) in [0, 1]
    # (z - m) - log sum: the rounding of torch's float32 steps, so float32 losses match it
    return np.subtract(shifted, np.log(row_sum(counts)), out=shifted)   # (..., V)


def log_softmax_backward(logp: np.ndarray, dlogp: np.ndarray,
                         out: np.ndarray | None = None) -> np.ndarray:
    """Backward of :func:`log_softmax`: ``dlogits = dlogp - exp(logp) * sum_j dlogp_j``.

    ``out`` (same shape, optional; not ``dlogp``) is written over instead of allocating.

    Notes
    -----
    ``d log p_j / dz_k = [j = k] - p_k``.
    """
    s = row_sum(dlogp)                                           # (..., 1) sum_j dlogp_j
    dlogits = np.exp(logp, out=out)                              # (..., V) probs
    dlogits *= -s                                                # -probs * sum_j dlogp_j
    dlogits += dlogp                                             # (..., V)
    return dlogits


def nll(logp: np.ndarray, ys: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean negative log-likelihood of the targets.

    Parameters
    ----------
    logp : ndarray, shape (n, V)
        Log-probabilities, e.g. from :func:`log_softmax`.
    ys : ndarray of int, shape (n,)
        Target ids.
    weights : ndarray, shape (n,), optional
        A weight per example; the mean becomes ``sum_k w_k (-log p[k, ys[k]]) / sum_k w_k``.

    Returns
    -------
    float
        ``-(1/n) sum_k logp[k, ys[k]]`` (weighted as above).
    """
    picked = logp[np.arange(len(ys)), ys]
    if weights is None:
        return float(-picked.mean())
    return float(-(weights * picked).sum() / weights.sum())


def nll_backward(logp: np.ndarray, ys: np.ndarray, weights: np.ndarray | None = None,
                 out: np.ndarray | None = None) -> np.ndarray:
    """Backward of :func:`nll`: ``-1/n`` at each example's target, 0 elsewhere.

    ``out`` (shape (n, V), optional) is written over instead of allocating.

    Returns
    -------
    dlogp : ndarray, shape (n, V)
    """
    n = len(ys)
    if out is None:
        dlogp = np.zeros_like(logp)                        # (n, V)
    else:
        dlogp = out                                        # (n, V) the caller's buffer
        dlogp.fill(0)
    # -w_k at each target: -1/n, or the example's share of the weights
    dlogp[np.arange(n), ys] = -1.0 / n if weights is None else -(weights / weights.sum())
    return dlogp


def concat_logits(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Logits of the concat encoding: ``logits[k] = W[0, X[k, 0]] + ... + W[K-1, X[k, K-1]]``.

    K one-hots concatenated times a stacked ``W`` select one row of each ``W[p]``
    and add them; no one-hot matrix is made.

    Parameters
    ----------
    W : ndarray, shape (K, V, V)
    X : ndarray of int, shape (n, K)
        The K context characters of each example, oldest first.

    Returns
    -------
    logits : ndarray, shape (n, V)
    """
    K = W.shape[0]
    return W[np.arange(K), X].sum(axis=1)                  # (n, V) W[p, X[:, p]] summed over p


def l2(W: np.ndarray, reg: float) -> float:
    """The regularization term ``reg * mean(W**2)``, pulling W towards 0 (uniform rows).

    With ``reg = 0`` it is exactly 0, also for the ``-inf`` weights (probability 0)
    of the unregularized closed form, where ``0 * inf`` would give NaN.
    """
    # in W's dtype, as torch's 0.01*(W**2).mean(): the sum with the data term stays float32
    # (sum / size is mean's arithmetic, without its Python overhead)
    return reg * ((W * W).sum() / W.size) if reg else 0.0


def l2_backward(W: np.ndarray, reg: float) -> np.ndarray:
    """Backward of :func:`l2`: ``2 * reg * W / W.size`` (exactly 0 when ``reg = 0``)."""
    return (2 * reg / W.size) * W if reg else np.zeros_like(W)


def cross_entropy(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None,
                  out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Fused log-softmax + NLL: the mean cross-entropy and its gradient, in one stable pass.

    Parameters
    ----------
    logits : ndarray, shape (n, V)
    targets : ndarray of int, shape (n,)
    weights : ndarray, shape (n,), optional
        A weight per example; the mean becomes ``sum_k w_k loss_k / sum_k w_k``.
    out : ndarray, shape (n, V), optional
        Where ``dlogits`` is written; it may be ``logits`` itself (then overwritten).

    Returns
    -------
    loss : float
        ``(1/n) sum_k (lse_k - logits[k, y_k])`` with
        ``lse_k = m_k + log sum_j exp(logits[k, j] - m_k)`` and ``m_k = max_j logits[k, j]``.
    dlogits : ndarray, shape (n, V), logits' dtype
        ``(softmax(logits) - onehot(targets)) / n`` (``w_k / sum(w)`` instead of ``1/n``).

    Notes
    -----
    This is :func:`log_softmax` then :func:`nll`, and their backwards, fused. Fusing
    is preferred over the explicit ``softmax -> log -> mean`` path for two reasons:

    - **Stability.** ``-log p_y = lse - z_y`` never forms ``p`` before the log. The
      explicit path computes ``exp(z)``, which overflows to ``inf`` for a logit of
      89 in float32 (710 in float64) and gives ``nan``; and a probability that
      underflows to 0 gives ``log 0 = -inf``. The fused form is finite wherever the
      logits are (logits of 1000 included).
    - **A simpler backward.** Chaining the Jacobians of softmax, log and mean gives
      ``p * (dlogp - sum(dlogp * p))`` with ``dlogp = -onehot / n``, which collapses
      to ``(p - onehot(y)) / n``: no division by ``p``, one subtraction.
    """
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":   # integer logits: compute in float64, not in place on ints
        logits, out = logits.astype(np.float64), None
    n = len(targets)
    rows = np.arange(n)
    m = logits.max(axis=1, keepdims=True)                       # (n, 1) each row's largest
    shifted = np.subtract(logits, m, out=out)                   # (n, V) every entry <= 0
    shifted_y = shifted[rows, targets]                          # (n,)
    e = np.exp(shifted, out=shifted)                            # (n, V) in (0, 1], in place
    sumexp = row_sum(e)                                         # (n, 1) in [1, V]
    logp_y = shifted_y - np.log(sumexp[:, 0])                   # (n,) log p of each target
    scale = (np.full(n, 1.0 / n) if weights is None
             else np.asarray(weights, dtype=np.float64) / np.sum(weights))   # (n,)
    loss = -float((scale * logp_y).sum())
    # backward, beside it: dL/dz_kj = scale_k (p_kj - [j = y_k]), in e's memory
    dlogits = e                                                 # (n, V) no (n, V) copies:
    dlogits *= (scale[:, None] / sumexp).astype(e.dtype)        # scale_k p_kj, one pass
    dlogits[rows, targets] -= scale.astype(e.dtype)
    return loss, dlogits
