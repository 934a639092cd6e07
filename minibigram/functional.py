"""The math of the bigram network, one step at a time, each backward beside its forward.

Shapes: ``n`` examples, ``C`` contexts, ``V`` characters. A forward function computes
an output from its inputs; its ``*_backward`` takes the upstream gradient ``d<output>``
(the gradient of the loss with respect to that output) and returns the gradient with
respect to its input, by the chain rule.

The ``"onehot"`` engine (:func:`minibigram.engines.onehot_loss_and_grad`) chains them as
the notebook writes its forward pass, then runs the backwards in reverse::

    xenc = F.one_hot(xs, num_classes=27).float()     one_hot
    logits = xenc @ W                                linear
    counts = logits.exp()                            exp
    probs = counts / counts.sum(1, keepdims=True)    normalize
    loss = -probs[torch.arange(num), ys]             pick
                .log()                               log
                .mean()                              mean
           + 0.01*(W**2).mean()                      l2

:func:`softmax` and :func:`log_softmax` are exp and normalize (and log) in one stable
step, :func:`nll` is pick, log-probabilities and mean together, and
:func:`cross_entropy` fuses log-softmax and NLL with their backwards; the other engines
and the models use them.
"""

from __future__ import annotations

import numpy as np


def one_hot(ix: np.ndarray, V: int, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Encode integer ids as rows of an identity matrix.

    Parameters
    ----------
    ix : ndarray of int, shape (n,)
    V : int
        Number of classes.
    dtype : numpy dtype, default float32 (as the notebook's ``F.one_hot(...).float()``)

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
    xenc = np.zeros((len(ix), V), dtype=dtype)             # (n, V)
    xenc[np.arange(len(ix)), ix] = 1
    return xenc


def linear(xenc: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``logits = xenc @ W``: each one-hot row selects its row of W, the log-counts.

    Parameters
    ----------
    xenc : ndarray, shape (n, C)
    W : ndarray, shape (C, V)

    Returns
    -------
    logits : ndarray, shape (n, V)
    """
    return xenc @ W                                        # (n, V)


def linear_backward(xenc: np.ndarray, dlogits: np.ndarray) -> np.ndarray:
    """Backward of :func:`linear` with respect to W: ``dW = xenc.T @ dlogits``, shape (C, V).

    Notes
    -----
    ``logits[k, j] = sum_i xenc[k, i] W[i, j]``, so ``dL/dW[i, j] = sum_k xenc[k, i]
    dlogits[k, j]``. No gradient flows to ``xenc``: it is data.
    """
    return xenc.T @ dlogits                                # (C, V)


def exp(logits: np.ndarray) -> np.ndarray:
    """``counts = exp(logits)``: log-counts become positive "counts", like the count matrix N."""
    return np.exp(logits)                                  # (n, V)


def exp_backward(counts: np.ndarray, dcounts: np.ndarray) -> np.ndarray:
    """d exp(x)/dx = exp(x), so ``dlogits = counts * dcounts``."""
    return counts * dcounts                                # (n, V)


def normalize(counts: np.ndarray) -> np.ndarray:
    """``probs = counts / counts.sum(1)``: each row becomes a probability distribution."""
    return counts / counts.sum(axis=1, keepdims=True)      # (n, V)


def normalize_backward(counts: np.ndarray, dprobs: np.ndarray) -> np.ndarray:
    """Backward of :func:`normalize`: ``dcounts = (dprobs - sum_j dprobs_j probs_j) / s``.

    Notes
    -----
    With ``s = sum_j c_j`` and ``p_j = c_j / s``: ``dp_j/dc_k = [j = k] / s - c_j / s**2``,
    so ``dc_k = sum_j dp_j dp_j/dc_k = (dp_k - sum_j dp_j p_j) / s``: every count of a row
    also moves the row's sum, which every probability of the row divides by.
    """
    s = counts.sum(axis=1, keepdims=True)                  # (n, 1) each row's sum
    probs = counts / s                                     # (n, V)
    return (dprobs - (dprobs * probs).sum(axis=1, keepdims=True)) / s   # (n, V)


def pick(probs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``probs[arange(n), ys]``: each example's probability of its target, shape (n,)."""
    return probs[np.arange(len(ys)), ys]                   # (n,)


def pick_backward(dpicked: np.ndarray, ys: np.ndarray, V: int) -> np.ndarray:
    """Backward of :func:`pick`: ``dpicked[k]`` at each target ``ys[k]``, 0 elsewhere.

    The entries not picked do not reach the loss, so their gradient is 0.
    """
    dprobs = np.zeros((len(ys), V), dtype=dpicked.dtype)   # (n, V)
    dprobs[np.arange(len(ys)), ys] = dpicked
    return dprobs


def log(p: np.ndarray) -> np.ndarray:
    """``logp = log(p)``, elementwise."""
    return np.log(p)


def log_backward(p: np.ndarray, dlogp: np.ndarray) -> np.ndarray:
    """d log(x)/dx = 1/x, so ``dp = dlogp / p``."""
    return dlogp / p


def mean(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The mean of ``x`` (n,), or with weights ``sum_k w_k x_k / sum_k w_k``.

    Counting is the weighted case: identical examples merged, their count as weight.
    """
    if weights is None:
        return x.mean()
    return (weights * x).sum() / weights.sum()


def mean_backward(x: np.ndarray, dmean: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Backward of :func:`mean`: each ``x_k`` gets ``dmean / n`` (or ``dmean w_k / sum w``)."""
    share = (np.full(len(x), 1.0 / len(x)) if weights is None
             else weights / weights.sum())               # (n,) each example's share
    return (dmean * share).astype(x.dtype)                 # (n,)


def nll(logp: np.ndarray, ys: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean negative log-likelihood of the targets: ``-mean(pick(logp, ys))``.

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
    return float(-mean(pick(logp, ys), weights))


def nll_backward(logp: np.ndarray, ys: np.ndarray, weights: np.ndarray | None = None
                 ) -> np.ndarray:
    """Backward of :func:`nll`: ``-1/n`` at each example's target, 0 elsewhere.

    Returns
    -------
    dlogp : ndarray, shape (n, V)
    """
    dpicked = mean_backward(pick(logp, ys), -1.0, weights)      # (n,) -1/n each
    return pick_backward(dpicked, ys, logp.shape[1])            # (n, V)


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
    logit of 89 in float32).
    """
    with np.errstate(over="ignore"):   # a logit gap past the float range: exp gives 0
        counts = np.exp(logits - logits.max(axis=-1, keepdims=True))   # (..., V) in [0, 1]
    return counts / counts.sum(axis=-1, keepdims=True)                 # (..., V)


def softmax_backward(probs: np.ndarray, dprobs: np.ndarray) -> np.ndarray:
    """Backward of :func:`softmax`: ``dlogits = probs * (dprobs - sum_j dprobs_j probs_j)``.

    Notes
    -----
    The Jacobian is ``dp_j/dz_k = p_j ([j = k] - p_k)``.
    """
    return probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))   # (..., V)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise ``log(softmax(logits))``: exp, normalize and log in one stable step.

    Parameters
    ----------
    logits : ndarray, shape (..., V)

    Returns
    -------
    logp : ndarray, same shape (float64 for integer logits)

    Notes
    -----
    ``log p_j = z_j - log sum_i exp(z_i) = (z_j - m) - log sum_i exp(z_i - m)`` with
    ``m = max_i z_i`` (log-sum-exp). Taking ``log`` of :func:`softmax` instead would
    give ``-inf`` once a probability underflows to 0 (a logit gap above about 87 in
    float32), and adding an ``eps`` would give a wrong number.
    """
    m = logits.max(axis=-1, keepdims=True)                       # (..., 1) each row's largest
    with np.errstate(over="ignore"):   # a logit gap past the float range is -inf: exp gives 0
        shifted = logits - m                                     # (..., V) every entry <= 0
    # (z - m) - log sum: the order of torch's float32 log_softmax
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))   # (..., V)


def log_softmax_backward(logp: np.ndarray, dlogp: np.ndarray) -> np.ndarray:
    """Backward of :func:`log_softmax`: ``dlogits = dlogp - exp(logp) * sum_j dlogp_j``.

    Notes
    -----
    ``d log p_j / dz_k = [j = k] - p_k``.
    """
    return dlogp - np.exp(logp) * dlogp.sum(axis=-1, keepdims=True)   # (..., V)


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
    # in W's dtype, as the notebook's 0.01*(W**2).mean(): added to a float32 loss, it stays one
    return reg * (W * W).mean() if reg else 0.0


def l2_backward(W: np.ndarray, reg: float) -> np.ndarray:
    """Backward of :func:`l2`: ``2 * reg * W / W.size`` (exactly 0 when ``reg = 0``)."""
    return (2 * reg / W.size) * W if reg else np.zeros_like(W)   # W's shape


def cross_entropy(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None
                  ) -> tuple[float, np.ndarray]:
    """Fused log-softmax + NLL: the mean cross-entropy and its gradient, in one stable pass.

    Parameters
    ----------
    logits : ndarray, shape (n, V)
    targets : ndarray of int, shape (n,)
    weights : ndarray, shape (n,), optional
        A weight per example; the mean becomes ``sum_k w_k loss_k / sum_k w_k``.

    Returns
    -------
    loss : float
        ``(1/n) sum_k (lse_k - logits[k, y_k])`` with
        ``lse_k = m_k + log sum_j exp(logits[k, j] - m_k)`` and ``m_k = max_j logits[k, j]``.
    dlogits : ndarray, shape (n, V), logits' dtype (float64 for integer logits)
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
    if logits.dtype.kind != "f":   # integer logits: compute in float64
        logits = logits.astype(np.float64)
    n = len(targets)
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)        # (n, V) every entry <= 0
    e = np.exp(shifted)                                         # (n, V) in (0, 1]
    sumexp = e.sum(axis=1, keepdims=True)                       # (n, 1) in [1, V]
    logp_y = shifted[rows, targets] - np.log(sumexp[:, 0])      # (n,) log p of each target
    scale = (np.full(n, 1.0 / n) if weights is None
             else np.asarray(weights, dtype=np.float64) / np.sum(weights))   # (n,)
    loss = -float((scale * logp_y).sum())
    # backward, beside it: dL/dz_kj = scale_k (p_kj - [j = y_k])
    dlogits = e * (scale[:, None] / sumexp).astype(e.dtype)     # (n, V) scale_k p_kj
    dlogits[rows, targets] -= scale.astype(e.dtype)
    return loss, dlogits
