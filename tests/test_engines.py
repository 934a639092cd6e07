import numpy as np
import pytest
from conftest import random_problem

from minibigram import (
    ENGINES,
    BigramModel,
    DataError,
    NGramModel,
    SettingsError,
    bigram_counts,
    loss_and_grad,
    objective,
)
from minibigram.engines import counts_loss_and_grad

SHAPES = [(2, 1), (5, 7), (27, 300), (40, 1000)]


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("V,n", SHAPES)
@pytest.mark.parametrize("reg", [0.0, 0.01, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_engines_agree_float64(V, n, reg, weighted):
    rng = np.random.default_rng(V * 1000 + n)
    W, xs, ys = random_problem(rng, V, n)
    w = rng.random(n) + 0.1 if weighted else None
    ref_loss, ref_dW = loss_and_grad(W, xs, ys, reg, engine="onehot", weights=w)
    for engine in ENGINES[1:]:
        loss, dW = loss_and_grad(W, xs, ys, reg, engine=engine, weights=w)
        assert abs(loss - ref_loss) <= 1e-12 * abs(ref_loss)
        assert rel_err(dW, ref_dW) <= 1e-12
        assert dW.dtype == np.float64


def test_weights_equal_repeated_examples():
    rng = np.random.default_rng(1)
    W, xs, ys = random_problem(rng, 6, 50)
    reps = rng.integers(1, 4, 50)
    a = loss_and_grad(W, xs, ys, 0.1, weights=reps.astype(float))
    b = loss_and_grad(W, np.repeat(xs, reps), np.repeat(ys, reps), 0.1)
    assert np.isclose(a[0], b[0], rtol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-11, atol=1e-16)


@pytest.mark.parametrize("engine", ENGINES)
def test_float32_in_float32_out(engine):
    rng = np.random.default_rng(2)
    W, xs, ys = random_problem(rng, 27, 500, np.float32)
    loss, dW = loss_and_grad(W, xs, ys, 0.01, engine=engine)
    assert dW.dtype == np.float32
    ref_loss, ref_dW = loss_and_grad(W.astype(np.float64), xs, ys, 0.01, engine=engine)
    assert abs(loss - ref_loss) < 1e-5 * ref_loss
    assert rel_err(dW, ref_dW) < 1e-5


def test_counts_engine_from_the_matrix():
    rng = np.random.default_rng(3)
    W, xs, ys = random_problem(rng, 8, 200)
    N = bigram_counts(xs, ys, 8)
    np.testing.assert_allclose(counts_loss_and_grad(W, N, 0.5)[1],
                               loss_and_grad(W, xs, ys, 0.5)[1], rtol=1e-12, atol=1e-17)


def test_bad_arguments():
    W = np.zeros((3, 3))
    with pytest.raises(SettingsError, match="unknown engine"):
        loss_and_grad(W, np.array([0]), np.array([1]), engine="magic")
    with pytest.raises(DataError, match="ids in"):
        loss_and_grad(W, np.array([0]), np.array([3]))
    with pytest.raises(SettingsError, match="matrix"):
        loss_and_grad(np.zeros(3), np.array([0]), np.array([1]))
    with pytest.raises(DataError, match=r"xs must hold integer ids in \[0, 3\)"):
        loss_and_grad(np.zeros((3, 2)), np.array([3]), np.array([1]))


def _torch_loss_and_grad(torch, W, xs, ys, reg, weights=None):
    """The notebook's torch code, verbatim in spirit, with autograd doing the backward."""
    Wt = torch.tensor(W, requires_grad=True)
    xenc = torch.nn.functional.one_hot(torch.tensor(xs), num_classes=W.shape[0]).to(Wt.dtype)
    logits = xenc @ Wt
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    nll = -probs[torch.arange(len(ys)), torch.tensor(ys)].log()
    if weights is None:
        data = nll.mean()
    else:
        wt = torch.tensor(weights, dtype=Wt.dtype)
        data = (wt * nll).sum() / wt.sum()
    loss = data + reg * (Wt**2).mean()
    loss.backward()
    return loss.item(), Wt.grad.numpy()


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("engine", ENGINES)
def test_against_torch_autograd(dtype, tol, engine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for trial in range(12):
        V = int(rng.integers(2, 40))
        n = int(rng.integers(1, 600))
        reg = float(rng.choice([0.0, rng.random(), 10 * rng.random()]))
        W, xs, ys = random_problem(rng, V, n, dtype)
        w = rng.random(n) + 0.01 if trial % 3 == 0 else None
        ref_loss, ref_dW = _torch_loss_and_grad(torch, W, xs, ys, reg, w)
        loss, dW = loss_and_grad(W, xs, ys, reg, engine=engine, weights=w)
        assert abs(loss - ref_loss) <= tol * abs(ref_loss), (trial, V, n, reg)
        assert rel_err(dW, ref_dW) <= tol, (trial, V, n, reg)


# The notebook's 100 steps on names.txt in float64, recorded before the speed work of
# issue 15 (steps 1, 2, 50, 100 of ``history`` and ``final_loss``): a faster engine must
# give the same losses to 1e-12 relative.
PINNED_GD = {
    "onehot": ([3.768618711886925, 3.3788068603636385, 2.5107579947821823, 2.490130469547639],
               2.4899588909731865),
    "index": ([3.7686187118869254, 3.378806860363631, 2.5107579947821828, 2.490130469547639],
              2.4899588909731865),
    "counts": ([3.768618711886925, 3.3788068603636385, 2.5107579947821823, 2.490130469547639],
               2.4899588909731865),
}
PINNED_CONCAT_GD = ([4.242241351364114, 3.5121320774658145, 2.455306168409753, 2.455709649903373],
                    2.3940035364858754)


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_losses_are_pinned(names, engine):
    model = BigramModel.fit(names, engine=engine, dtype="float64")
    steps, final = PINNED_GD[engine]
    got = [model.history[k] for k in (0, 1, 49, 99)]
    np.testing.assert_allclose(got, steps, rtol=1e-12, atol=0)
    assert model.final_loss == pytest.approx(final, rel=1e-12, abs=0)


def test_concat_engine_losses_are_pinned(names):
    model = NGramModel.fit(names, context=2, encoding="concat", solver="gd", steps=100, lr=50.0,
                           dtype="float64", init="torch")
    steps, final = PINNED_CONCAT_GD
    got = [model.history[k] for k in (0, 1, 49, 99)]
    np.testing.assert_allclose(got, steps, rtol=1e-12, atol=0)
    assert model.final_loss == pytest.approx(final, rel=1e-12, abs=0)


CHAIN = ("one_hot", "linear", "log_softmax", "nll", "l2",
         "nll_backward", "log_softmax_backward", "linear_backward", "l2_backward")


def test_onehot_engine_runs_through_each_forward_and_backward_once(monkeypatch):
    """The literal engine stays the notebook's chain: every step a call of functional."""
    from minibigram import functional as F

    calls = dict.fromkeys(CHAIN, 0)

    def counting(name, f):
        def counted(*args, **kwargs):
            calls[name] += 1
            return f(*args, **kwargs)
        return counted

    for name in CHAIN:   # engines calls them as F.<name>: the module's attributes
        monkeypatch.setattr(F, name, counting(name, getattr(F, name)))
    rng = np.random.default_rng(5)
    W, xs, ys = random_problem(rng, 7, 300)
    for k in range(1, 4):
        loss_and_grad(W, xs, ys, 0.1, engine="onehot")
        assert calls == dict.fromkeys(CHAIN, k)


@pytest.mark.parametrize("engine", ["onehot", "index"])
def test_reused_buffers_give_the_same_numbers_at_every_step(engine):
    """The per-step function keeps its (n, V) buffers: a second call must not see the first."""
    rng = np.random.default_rng(6)
    W, xs, ys = random_problem(rng, 9, 500)
    w = rng.random(500) + 0.1
    f = objective(engine, W.shape, xs=xs, ys=ys, weights=w, reg=0.3)
    W2 = W + rng.standard_normal(W.shape)
    for Wk in (W, W2, W):
        loss, dW = f(Wk)
        ref_loss, ref_dW = loss_and_grad(Wk, xs, ys, 0.3, engine="onehot", weights=w)
        assert abs(loss - ref_loss) <= 1e-12 * abs(ref_loss)
        assert rel_err(dW, ref_dW) <= 1e-12
