import numpy as np

from minibigram import functional as F
from minibigram.engines import loss_and_grad


def test_one_hot():
    x = F.one_hot(np.array([2, 0]), 3)
    assert x.dtype == np.float32
    assert x.tolist() == [[0, 0, 1], [1, 0, 0]]


def test_softmax_rows_sum_to_one_and_survive_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    p = F.softmax(z)
    assert np.allclose(p.sum(1), 1) and np.isfinite(p).all()
    assert np.allclose(np.exp(F.log_softmax(z)), p)
    assert np.isfinite(F.log_softmax(z)).all()


def test_chained_backwards_equal_the_fused_gradient():
    """exp -> normalize -> log -> nll, each backward by hand, equals (probs - onehot)/n."""
    rng = np.random.default_rng(0)
    V, n = 5, 40
    W = rng.standard_normal((V, V))
    xs, ys = rng.integers(0, V, n), rng.integers(0, V, n)
    xenc = F.one_hot(xs, V, W.dtype)
    logits = xenc @ W
    counts = F.exp(logits)
    probs = F.normalize(counts)
    logp = np.log(probs)
    loss = F.nll(logp, ys) + F.l2(W, 0.1)
    dlogp = F.nll_backward(logp, ys)
    dprobs = dlogp / probs
    dcounts = F.normalize_backward(counts, dprobs)
    dlogits = F.exp_backward(counts, dcounts)
    dW = xenc.T @ dlogits + F.l2_backward(W, 0.1)
    ref_loss, ref_dW = loss_and_grad(W, xs, ys, reg=0.1)
    assert np.isclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(dW, ref_dW, rtol=1e-10, atol=1e-15)
    # the same through softmax_backward and log_softmax_backward
    dlogits2 = F.softmax_backward(probs, dprobs)
    dlogits3 = F.log_softmax_backward(F.log_softmax(logits), dlogp)
    np.testing.assert_allclose(dlogits2, dlogits, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(dlogits3, dlogits, rtol=1e-10, atol=1e-15)


def test_weighted_nll_and_l2():
    logp = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    ys = np.array([0, 1])
    assert np.isclose(F.nll(logp, ys), -(np.log(0.5) + np.log(0.75)) / 2)
    w = np.array([1.0, 3.0])
    assert np.isclose(F.nll(logp, ys, w), -(np.log(0.5) + 3 * np.log(0.75)) / 4)
    W = np.arange(4.0).reshape(2, 2)
    assert np.isclose(F.l2(W, 0.5), 0.5 * (0 + 1 + 4 + 9) / 4)
    np.testing.assert_allclose(F.l2_backward(W, 0.5), 2 * 0.5 * W / 4)
