import json
import subprocess
import sys

import numpy as np
import pytest

import minibigram as mb
from minibigram.engines import counts_loss_and_grad
from minibigram.optim import closed_form, newton


@pytest.fixture(scope="module")
def N(names):
    vocab = mb.Vocabulary.from_words(names)
    return mb.bigram_counts(*mb.bigrams(names, vocab), len(vocab))


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


def test_fit_from_precomputed_counts(names):
    counts = mb.count_bigrams(names)
    a = mb.BigramModel.fit(counts=counts, steps=5)
    b = mb.BigramModel.fit(names, steps=5)
    np.testing.assert_array_equal(a.W, b.W)
    # the same settings, but only the words can be recorded as the training data
    assert a.vocab == b.vocab and "data" not in a.settings
    assert a.settings == {k: v for k, v in b.settings.items() if k != "data"}
    c = mb.BigramModel.fit(counts=counts, solver="newton", dtype="float64")
    d = mb.BigramModel.fit(names, solver="newton", dtype="float64")
    np.testing.assert_array_equal(c.W, d.W)
    with pytest.raises(mb.SettingsError, match="not both"):
        mb.BigramModel.fit(names, counts=counts)
    with pytest.raises(mb.SettingsError, match="needs the words"):
        mb.BigramModel.fit(counts=counts, engine="index")
    with pytest.raises(mb.SettingsError, match="unknown solver"):
        mb.BigramModel.fit(names, solver="lbfgs")


def test_cli_solver_newton():
    out = subprocess.run([sys.executable, "-m", "minibigram", "train", "--solver", "newton",
                          "--dtype", "float64", "--samples", "2", "--json"],
                         capture_output=True, text=True, check=True).stdout
    res = json.loads(out)
    assert round(res["final_loss"], 7) == 2.4803990
    assert res["settings"]["solver"] == "newton" and res["settings"]["steps"] <= 10
    assert len(res["losses"]) == res["settings"]["steps"]   # the loss before each step
    assert res["final_loss"] < res["losses"][-1]


def test_reg0_closed_form_flows_through_the_engines(names, N):
    """W = -inf (probability 0) must give the count model's loss, not NaN, and dW = 0."""
    W, _ = newton(N, 0.0)
    assert np.isneginf(W).any()
    vocab = mb.Vocabulary.from_words(names)
    xs, ys = mb.bigrams(names, vocab)
    P = N / N.sum(1, keepdims=True)
    nll = -np.log(P[xs, ys]).mean()
    for engine in ("index", "counts"):
        loss, dW = mb.loss_and_grad(W, xs, ys, 0.0, engine=engine)
        assert loss == pytest.approx(nll, rel=1e-12)
        assert np.isfinite(dW).all() and np.abs(dW).max() < 1e-12   # it is the optimum
    with pytest.raises(mb.SettingsError, match="onehot"):
        mb.loss_and_grad(W, xs, ys, 0.0, engine="onehot")
    with pytest.raises(mb.SettingsError, match="finite starting W"):
        newton(N, 0.01, W=W)


def test_newton_refuses_empty_counts():
    with pytest.raises(mb.DataError, match="empty"):
        newton(np.zeros((3, 3)), 0.01)
