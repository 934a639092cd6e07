"""Tests of minibigram.optim: gradient descent, Newton, the closed form, and concat_newton by
conjugate gradients (issue 15)."""

import numpy as np
import pytest

import minibigram as mb
from minibigram import (
    ENGINES,
    Vocabulary,
    bigrams,
    concat_loss_and_grad,
    concat_newton,
    context_counts,
    loss_and_grad,
    ngrams,
)
from minibigram.engines import counts_loss_and_grad
from minibigram.examples import weighted_examples
from minibigram.optim import closed_form, newton

# The optimum of the concat network on names.txt at reg 0.01, recorded from the dense
# solver before conjugate gradients replaced it (issue 15): the final loss.
PINNED_CONCAT_NEWTON = {
    2: 2.351320714805169,
    3: 2.281330543247827,
}


def _problem(words, K):
    vocab = mb.Vocabulary.from_words(words)
    contexts, N = context_counts(*ngrams(words, vocab, K), len(vocab))
    return contexts, N


def _loss_and_grad(W, contexts, N, reg):
    Xc, tc, wc = weighted_examples(contexts, N)
    return concat_loss_and_grad(W, Xc, tc, reg, wc)


@pytest.mark.parametrize("K", [2, 3])
def test_cg_reaches_the_pinned_optimum_on_names(names, K):
    contexts, N = _problem(names, K)
    W, history = concat_newton(contexts, N, 0.01, solve="cg")
    loss, dW = _loss_and_grad(W, contexts, N, 0.01)
    assert np.abs(dW).max() < 1e-10                      # its own stopping rule
    assert loss == pytest.approx(PINNED_CONCAT_NEWTON[K], rel=1e-12, abs=0)
    assert history[0] == pytest.approx(np.log(len(N[0])), rel=1e-15)   # W = 0: uniform
    assert all(b < a for a, b in zip(history, history[1:]))   # a descent method


def test_cg_and_dense_agree_at_K2(names):
    """The same optimum either way: max |dW| < 1e-8 and the same loss to 1e-10."""
    contexts, N = _problem(names[:3000], 2)
    W_cg, _ = concat_newton(contexts, N, 0.01, solve="cg")
    W_dense, _ = concat_newton(contexts, N, 0.01, solve="dense")
    loss_cg, dW_cg = _loss_and_grad(W_cg, contexts, N, 0.01)
    loss_dense, dW_dense = _loss_and_grad(W_dense, contexts, N, 0.01)
    assert np.abs(dW_cg).max() < 1e-8 and np.abs(dW_dense).max() < 1e-8
    assert loss_cg == pytest.approx(loss_dense, rel=1e-10, abs=0)


def test_cg_and_dense_agree_on_a_random_weighted_problem():
    rng = np.random.default_rng(7)
    X, ys = rng.integers(0, 6, (400, 3)), rng.integers(0, 6, 400)
    contexts, N = context_counts(X, ys, 6)
    W_cg, _ = concat_newton(contexts, N, 0.05, solve="cg")
    W_dense, _ = concat_newton(contexts, N, 0.05, solve="dense")
    loss_cg, dW_cg = _loss_and_grad(W_cg, contexts, N, 0.05)
    assert np.abs(dW_cg).max() < 1e-10
    assert loss_cg == pytest.approx(_loss_and_grad(W_dense, contexts, N, 0.05)[0], rel=1e-12)
    # Strictly convex, with H >= lam I (lam = 2 reg / W.size): |W - W*| <= |dW| / lam, so
    # two points whose gradients are below 1e-10 lie within 2e-10 / lam of each other.
    lam = 2 * 0.05 / W_cg.size
    assert np.linalg.norm(W_cg - W_dense) <= 2 * np.sqrt(W_cg.size) * 1e-10 / lam


def test_solve_is_checked():
    contexts, N = context_counts(np.array([[0, 1]]), np.array([1]), 2)
    with pytest.raises(mb.SettingsError, match="unknown solve"):
        concat_newton(contexts, N, 0.1, solve="lu")


@pytest.mark.parametrize("engine", ENGINES)
def test_training_matches_the_torch_notebook_loop(names, engine):
    """The notebook's training loop in torch and ours from the same W give the same losses.

    15 steps keep the test short (each torch step takes about 0.3 s); float32 rounding
    differences would compound and show within them.
    """
    torch = pytest.importorskip("torch")
    from minibigram import gradient_descent

    vocab = Vocabulary.from_words(names)
    xs, ys = bigrams(names, vocab)
    g = torch.Generator().manual_seed(2147483647)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    xenc = torch.nn.functional.one_hot(torch.tensor(xs), num_classes=27).float()
    num = xenc.shape[0]
    W0 = W.detach().numpy().copy()
    torch_losses = []
    for _ in range(15):
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), torch.tensor(ys)].log().mean() + 0.01 * (W**2).mean()
        torch_losses.append(loss.item())
        W.grad = None
        loss.backward()
        W.data += -50 * W.grad
    _, ours = gradient_descent(lambda w: loss_and_grad(w, xs, ys, 0.01, engine=engine), W0,
                               15, 50.0)
    np.testing.assert_allclose(ours, torch_losses, rtol=0, atol=1e-6)
    assert torch_losses[0] == pytest.approx(3.768618583679199, abs=1e-6)


def test_newton_reaches_the_optimum_on_names(N):
    W, history = newton(N, 0.01, max_iter=30)
    loss, dW = counts_loss_and_grad(W, N, 0.01)
    assert np.abs(dW).max() < 1e-10                      # the optimality condition
    assert len(history) <= 10   # quadratic convergence: 7 iterations here (README)
    assert round(loss, 7) == 2.4803990
    assert loss < history[-1]
    assert all(b <= a for a, b in zip(history, history[1:]))   # a descent method


def test_newton_beats_gradient_descent(names, N):
    gd = mb.BigramModel.fit(names, dtype="float64")             # the notebook's 100 steps
    nt = mb.BigramModel.fit(names, dtype="float64", solver="newton")
    gd_loss = counts_loss_and_grad(gd.W, N, 0.01)[0]
    nt_loss = counts_loss_and_grad(nt.W, N, 0.01)[0]
    assert nt_loss < gd_loss
    # Gradient descent run much longer creeps towards Newton's optimum, never below it.
    long = mb.gradient_descent(lambda W: counts_loss_and_grad(W, N, 0.01), gd.W, 2000, 50.0)[0]
    assert nt_loss <= counts_loss_and_grad(long, N, 0.01)[0] < gd_loss


@pytest.mark.parametrize("reg", [1e-4, 0.01, 1.0, 30.0])
def test_newton_optimality_on_random_weighted_counts(reg):
    rng = np.random.default_rng(7)
    V = 12
    Nw = rng.random((V, V)) * (rng.random((V, V)) < 0.5)       # float weights, many zeros
    Nw[3] = 0                                                   # a context never seen
    W, _ = newton(Nw, reg)
    loss, dW = counts_loss_and_grad(W, Nw, reg)
    assert np.abs(dW).max() < 1e-10
    for _ in range(20):                                         # convex: nothing nearby is lower
        assert counts_loss_and_grad(W + 1e-3 * rng.standard_normal((V, V)), Nw, reg)[0] > loss


def test_reg0_closed_form_is_the_count_model(names, N, tmp_path):
    P = N / N.sum(axis=1, keepdims=True)                        # the notebook's count model
    W = closed_form(N)
    assert np.isneginf(W[N == 0]).all() and np.isfinite(W[N > 0]).all()
    model = mb.BigramModel.fit(names, reg=0.0, solver="newton", dtype="float64")
    probs = model.probs()
    assert (probs[N == 0] == 0).all()
    np.testing.assert_allclose(probs, P, rtol=1e-12, atol=0)
    assert model.history == [] and model.settings["steps"] == 0   # solved, not iterated
    assert model.final_loss == pytest.approx(model.nll(names), rel=1e-13)
    assert model.log_prob("qxq") == -np.inf                     # an unseen bigram: honestly 0
    model.save(tmp_path / "m.npz")
    loaded = mb.BigramModel.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.W, model.W)


def test_closed_form_leaves_an_empty_row_uniform():
    Nz = np.array([[0, 2, 1], [0, 0, 0], [3, 0, 0]])
    P = mb.BigramModel(closed_form(Nz), mb.Vocabulary("ab")).probs()
    np.testing.assert_allclose(P, [[0, 2 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]],
                               rtol=1e-15)


def test_newton_refuses_empty_counts():
    with pytest.raises(mb.DataError, match="empty"):
        newton(np.zeros((3, 3)), 0.01)
