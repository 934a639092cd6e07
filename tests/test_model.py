import numpy as np
import pytest

from minibigram import (
    ENGINES,
    BigramModel,
    ModelFileError,
    SettingsError,
    TorchGenerator,
    Vocabulary,
    bigrams,
    loss_and_grad,
)

WORDS = ["anna", "bob", "cara", "dan", "abba", "ada"]


@pytest.fixture(scope="module")
def model():
    return BigramModel.fit(WORDS, steps=30, lr=5.0, reg=0.01, seed=1)


def test_history_is_the_loss_before_each_update(model):
    assert len(model.history) == 30
    vocab = Vocabulary.from_words(WORDS)
    xs, ys = bigrams(WORDS, vocab)
    # replay: the first loss is the loss of the initial W, the next after one update
    W0 = TorchGenerator(1).randn(len(vocab), len(vocab))  # init="torch", the default
    l0, dW0 = loss_and_grad(W0, xs, ys, 0.01)
    l1, _ = loss_and_grad(W0 - 5.0 * dW0, xs, ys, 0.01)
    assert model.history[0] == pytest.approx(l0, rel=1e-6)
    assert model.history[1] == pytest.approx(l1, rel=1e-6)
    assert model.history[-1] < model.history[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_engines_train_the_same_model(dtype):
    runs = [BigramModel.fit(WORDS, steps=10, lr=5.0, seed=3, dtype=dtype, engine=e)
            for e in ENGINES]
    tol = 1e-5 if dtype == "float32" else 1e-12
    for m in runs[1:]:
        assert m.W.dtype == np.dtype(dtype)
        np.testing.assert_allclose(m.history, runs[0].history, rtol=tol)
        np.testing.assert_allclose(m.W, runs[0].W, rtol=tol, atol=tol)


def test_notebook_defaults_on_names(names):
    m = BigramModel.fit(names)
    assert m.settings["num_examples"] == 228146
    assert len(m.history) == 100 and m.W.shape == (27, 27) and m.W.dtype == np.float32
    # the notebook's net ends near the count model's 2.454 (about 2.49 after 100 steps)
    assert 2.45 < m.history[-1] < 2.55
    assert m.history == sorted(m.history, reverse=True)


def test_sample_log_prob_nll(model):
    s = model.sample(20, seed=5)
    assert len(s) == 20 and all(isinstance(w, str) and "." not in w for w in s)
    assert set("".join(s)) <= set(model.vocab.itos[1:])
    assert s == model.sample(20, seed=5)
    P = model.probs()
    np.testing.assert_allclose(P.sum(1), 1, rtol=1e-6)
    st = model.vocab.stoi
    expected = np.log(P[0, st["a"]]) + np.log(P[st["a"], st["b"]]) + np.log(P[st["b"], 0])
    assert model.log_prob("ab") == pytest.approx(expected, rel=1e-5)
    assert model.nll(["ab"]) == pytest.approx(-expected / 3, rel=1e-5)
    assert model.nll(["ab", "abba"]) == pytest.approx(
        -(model.log_prob("ab") + model.log_prob("abba")) / 8, rel=1e-9)


def test_save_load_round_trip(model, tmp_path):
    p = tmp_path / "m.npz"
    model.save(p)
    m2 = BigramModel.load(p)
    np.testing.assert_array_equal(m2.W, model.W)
    assert m2.W.dtype == model.W.dtype
    assert m2.vocab == model.vocab and m2.history == model.history
    assert m2.settings == model.settings
    assert m2.sample(10, seed=9) == model.sample(10, seed=9)
    assert [f.name for f in tmp_path.iterdir()] == ["m.npz"]   # no temporary left behind


def test_unicode_model_round_trip(tmp_path):
    words = ["ирина", "олег", "zoë", "anne marie"]
    m = BigramModel.fit(words, steps=5, lr=1.0)
    m.save(tmp_path / "u.npz")
    m2 = BigramModel.load(tmp_path / "u.npz")
    assert m2.vocab.itos == m.vocab.itos
    assert set("".join(m2.sample(50, seed=0))) <= set(m.vocab.itos[1:])


def test_pickled_model_refused(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, meta=np.array([{"format": "x"}], dtype=object), itos=np.array(["."]),
             history=np.zeros(0), W=np.zeros((1, 1)))
    with pytest.raises(ModelFileError, match="pickled"):
        BigramModel.load(p)


def test_bad_settings():
    with pytest.raises(SettingsError, match="learning rate"):
        BigramModel.fit(WORDS, lr=float("nan"))
    with pytest.raises(SettingsError, match="steps"):
        BigramModel.fit(WORDS, steps=-1)
    with pytest.raises(SettingsError, match="dtype"):
        BigramModel.fit(WORDS, dtype="float16")


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


@pytest.mark.parametrize("engine", ENGINES)
def test_divergence_is_a_training_error_for_every_engine(engine):
    """An update that overflows W is divergence (name the step), not a bad W."""
    from minibigram import TrainingError

    with pytest.raises(TrainingError, match=r"diverged: .* at step \d+; try a learning rate"):
        BigramModel.fit(WORDS, steps=5, lr=1e300, reg=0, engine=engine)
