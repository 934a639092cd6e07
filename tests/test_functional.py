"""Tests of minibigram.functional: the forward functions and their backwards."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROPS, dtypes, problems, rel_err, richardson_grad
from hypothesis import given

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


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_equals_the_explicit_path(weighted):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((50, 9)) * 3
    ys = rng.integers(0, 9, 50)
    w = rng.random(50) if weighted else None
    loss, dlogits = F.cross_entropy(logits, ys, w)
    probs = F.softmax(logits)                              # explicit: softmax -> log -> mean
    logp = np.log(probs)
    assert loss == pytest.approx(F.nll(logp, ys, w), rel=1e-14)
    ref = F.softmax_backward(probs, F.nll_backward(logp, ys, w) / probs)   # chain rule
    assert rel_err(dlogits, ref) < 1e-13
    assert rel_err(dlogits, richardson_grad(lambda z: F.cross_entropy(z, ys, w)[0], logits)) \
        < 1e-10


def test_cross_entropy_is_finite_where_the_explicit_path_overflows():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]])
    ys = np.array([1, 2])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        counts = np.exp(logits)                            # the notebook's path
        explicit = -np.log((counts / counts.sum(1, keepdims=True))[[0, 1], ys]).mean()
    assert not np.isfinite(explicit)
    loss, dlogits = F.cross_entropy(logits, ys)
    # row 0: -log p_1 = 1000 + log(1 + e^-1000 + e^-2000) ; row 1: log(1 + e^1) ... shifted
    assert loss == pytest.approx((1000.0 + np.log1p(np.exp(-1.0)) + 1.0) / 2, rel=1e-15)
    assert np.isfinite(dlogits).all()
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-15)


def test_cross_entropy_of_integer_logits_computes_in_float64():
    ints = np.array([[1, 2, 3], [0, 0, 5]])
    loss, dlogits = F.cross_entropy(ints, np.array([2, 0]))
    ref_loss, ref_d = F.cross_entropy(ints.astype(np.float64), np.array([2, 0]))
    assert loss == ref_loss and dlogits.dtype == np.float64
    np.testing.assert_array_equal(dlogits, ref_d)


@PROPS
@given(problems(max_abs=100.0, weighted=False), dtypes)
def test_softmax_rows_sum_to_one(problem, dtype):
    W, xs, _, _ = problem
    probs = F.softmax(W.astype(dtype)[xs])  # (n, V)
    assert probs.dtype == dtype and (probs >= 0).all() and (probs <= 1).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=10 * np.finfo(dtype).eps)
