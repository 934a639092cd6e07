"""Issue 5: the count model, K-character contexts, fused cross-entropy, splits and sweeps."""

import numpy as np
import pytest

import minibigram as mb
from minibigram import CountModel, NGramModel, load_model
from minibigram import functional as F
from minibigram.engines import concat_loss_and_grad, counts_loss_and_grad, loss_and_grad
from minibigram.evaluate import sweep
from minibigram.examples import context_codes, context_counts, ngrams
from minibigram.io import model_kind, save_npz
from minibigram.sampling import SAMPLERS, adjust_probs
from minibigram.words import parse_split, split_words

WORDS = ["anna", "bob", "cara", "dan", "abba", "ada", "carol", "bonnie"]


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def richardson_grad(f, x, h=5e-3):
    """Central differences with one Richardson step: error O(h**4), float64."""
    def d(i, step):
        xp, xm = x.copy(), x.copy()
        xp[i] += step
        xm[i] -= step
        return (f(xp) - f(xm)) / (2 * step)

    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        g[i] = (4 * d(i, h / 2) - d(i, h)) / 3
    return g


# --- data -----------------------------------------------------------------------------------

def test_ngrams_k1_are_the_bigrams_and_padding_is_the_boundary(names):
    vocab = mb.Vocabulary.from_words(names)
    xs, ys = mb.bigrams(names, vocab)
    X, y = ngrams(names, vocab, 1)
    assert X.shape == (len(xs), 1)
    np.testing.assert_array_equal(X[:, 0], xs)
    np.testing.assert_array_equal(y, ys)
    X, y = ngrams(["emma", "bo"], vocab, 3)
    e, m, a, b, o = (vocab.stoi[c] for c in "emabo")
    np.testing.assert_array_equal(X, [[0, 0, 0], [0, 0, e], [0, e, m], [e, m, m], [m, m, a],
                                      [0, 0, 0], [0, 0, b], [0, b, o]])
    np.testing.assert_array_equal(y, [e, m, m, a, 0, b, o, 0])


def test_ngrams_match_a_plain_python_reference():
    vocab = mb.Vocabulary.from_words(WORDS)
    for K in (1, 2, 3, 5):
        ref_X, ref_y = [], []
        for w in WORDS:
            ids = [0] * K + [vocab.stoi[c] for c in w] + [0]
            for t in range(K, len(ids)):
                ref_X.append(ids[t - K:t])
                ref_y.append(ids[t])
        X, y = ngrams(WORDS, vocab, K)
        np.testing.assert_array_equal(X, ref_X)
        np.testing.assert_array_equal(y, ref_y)


def test_context_counts_are_sufficient_statistics():
    vocab = mb.Vocabulary.from_words(WORDS)
    X, y = ngrams(WORDS, vocab, 2)
    contexts, N = context_counts(X, y, len(vocab))
    assert N.sum() == len(y)
    codes = context_codes(contexts, len(vocab))
    assert (np.diff(codes) > 0).all()                     # distinct and sorted
    assert len(contexts) == len({tuple(r) for r in X.tolist()})
    for c, row in zip(contexts.tolist(), N):              # each row counts its context
        sel = (X == c).all(axis=1)
        np.testing.assert_array_equal(np.bincount(y[sel], minlength=len(vocab)), row)


def test_bad_context_and_split_are_clear_errors():
    vocab = mb.Vocabulary.from_words(WORDS)
    with pytest.raises(mb.DataError, match="context length"):
        ngrams(WORDS, vocab, 0)
    for bad in ("80/10", "80/10/20", "a/b/c", "0/50/50", "-10/60/50"):
        with pytest.raises(mb.DataError, match="sum to 100"):
            parse_split(bad)
    with pytest.raises(mb.SettingsError, match="context"):
        NGramModel.fit(WORDS, context=0)
    with pytest.raises(mb.SettingsError, match="encoding"):
        NGramModel.fit(WORDS, encoding="stacked")


def test_split_is_a_seeded_partition(names):
    a = split_words(names, parse_split("80/10/10"), seed=7)
    assert [len(p) for p in a] == [25626, 3203, 3204]
    assert sorted(a[0] + a[1] + a[2]) == sorted(names)
    assert a == split_words(names, (0.8, 0.1, 0.1), seed=7)
    assert a[0] != split_words(names, (0.8, 0.1, 0.1), seed=8)[0]


# --- fused cross-entropy --------------------------------------------------------------------

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


# --- engines on (C, V) and the concat loss --------------------------------------------------

def _joint_problem(K, seed=0, dtype=np.float64):
    vocab = mb.Vocabulary.from_words(WORDS)
    X, y = ngrams(WORDS, vocab, K)
    contexts, N = context_counts(X, y, len(vocab))
    ids = np.searchsorted(context_codes(contexts, len(vocab)), context_codes(X, len(vocab)))
    W = np.random.default_rng(seed).standard_normal(N.shape).astype(dtype)
    return W, ids, y, N


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_joint_gradient_finite_differences_and_engines(K, reg):
    W, ids, y, N = _joint_problem(K)
    assert W.shape[0] != W.shape[1] or K == 1
    ref_loss, ref = counts_loss_and_grad(W, N, reg)        # on the (C, V) counts
    for engine in mb.ENGINES:                              # on the raw examples
        loss, dW = loss_and_grad(W, ids, y, reg, engine=engine)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        assert rel_err(dW, ref) < 1e-12
    num = richardson_grad(lambda W: counts_loss_and_grad(W, N, reg)[0], W)
    assert rel_err(ref, num) < 1e-10
    assert mb.gradcheck(lambda W: counts_loss_and_grad(W, N, reg), W).ok


def _concat_problem(K, seed=0):
    vocab = mb.Vocabulary.from_words(WORDS)
    X, y = ngrams(WORDS, vocab, K)
    contexts, N = context_counts(X, y, len(vocab))
    ci, tj = np.nonzero(N)
    W = np.random.default_rng(seed).standard_normal((K, len(vocab), len(vocab)))
    return W, X, y, contexts[ci], tj, N[ci, tj].astype(float)


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_concat_gradient_finite_differences(K, reg):
    W, X, y, Xc, tc, wc = _concat_problem(K)
    loss, dW = concat_loss_and_grad(W, Xc, tc, reg, wc)   # on the sufficient statistics
    raw_loss, raw_dW = concat_loss_and_grad(W, X, y, reg)  # on the raw examples
    assert loss == pytest.approx(raw_loss, rel=1e-12)
    assert rel_err(dW, raw_dW) < 1e-12
    num = richardson_grad(lambda W: concat_loss_and_grad(W, Xc, tc, reg, wc)[0], W)
    assert rel_err(dW, num) < 1e-10
    assert mb.gradcheck(lambda W: concat_loss_and_grad(W, Xc, tc, reg, wc), W).ok
    if K == 1:   # one position: the bigram network
        ref = loss_and_grad(W[0], X[:, 0], y, reg * 1.0)
        assert loss == pytest.approx(ref[0], rel=1e-12)
        assert rel_err(dW[0], ref[1]) < 1e-12


@pytest.mark.parametrize("K", [1, 2, 3])
def test_joint_and_concat_match_torch_autograd(K):
    torch = pytest.importorskip("torch")
    reg = 0.05
    W, ids, y, N = _joint_problem(K)
    Wt = torch.tensor(W, requires_grad=True)
    xenc = torch.nn.functional.one_hot(torch.tensor(ids), num_classes=W.shape[0]).double()
    loss = torch.nn.functional.cross_entropy(xenc @ Wt, torch.tensor(y)) + reg * (Wt**2).mean()
    loss.backward()
    ours = counts_loss_and_grad(W, N, reg)
    assert ours[0] == pytest.approx(loss.item(), rel=1e-12)
    assert rel_err(ours[1], Wt.grad.numpy()) < 1e-10

    Wc, X, y, Xc, tc, wc = _concat_problem(K)
    K_, V, _ = Wc.shape
    Wt = torch.tensor(Wc, requires_grad=True)
    xenc = torch.cat([torch.nn.functional.one_hot(torch.tensor(X[:, p]), V)
                      for p in range(K_)], dim=1).double()            # (n, K V)
    logits = xenc @ Wt.reshape(K_ * V, V)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y)) + reg * (Wt**2).mean()
    loss.backward()
    ours = concat_loss_and_grad(Wc, Xc, tc, reg, wc)
    assert ours[0] == pytest.approx(loss.item(), rel=1e-12)
    assert rel_err(ours[1], Wt.grad.numpy()) < 1e-10


def test_concat_rejects_mismatched_shapes():
    W, X, y, *_ = _concat_problem(2)
    with pytest.raises(mb.SettingsError, match="concat"):
        concat_loss_and_grad(W, X[:, :1], y)
    with pytest.raises(mb.DataError, match="ids"):
        concat_loss_and_grad(W, X + 100, y)


# --- the count model ------------------------------------------------------------------------

def test_count_model_nll_on_names(names):
    assert round(CountModel.fit(names, smoothing=0).nll(names), 6) == 2.454014
    assert round(CountModel.fit(names, smoothing=1).nll(names), 6) == 2.454577


def test_count_model_is_add_k(names):
    vocab = mb.Vocabulary.from_words(names)
    N = mb.bigram_counts(*mb.bigrams(names, vocab), len(vocab))
    m = CountModel.fit(names, smoothing=0.5)
    np.testing.assert_allclose(m.probs(), (N + 0.5) / (N + 0.5).sum(1, keepdims=True),
                               rtol=1e-15)
    assert m.log_prob("anna") == pytest.approx(
        sum(np.log(m.probs()[a, b]) for a, b in zip(*mb.bigrams(["anna"], vocab))), rel=1e-12)


def test_network_approaches_the_count_model_as_reg_goes_to_0(names):
    count = CountModel.fit(names, smoothing=0)
    target = count.nll(names)
    gaps, diffs = [], []
    for reg in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5):
        net = mb.BigramModel.fit(names, reg=reg, solver="newton", dtype="float64")
        gaps.append(net.nll(names) - target)
        diffs.append(np.abs(net.probs() - count.probs()).max())
    assert all(g > 0 for g in gaps)                       # the count model is the optimum
    assert all(a > b for a, b in zip(gaps, gaps[1:]))     # strictly closer as reg -> 0
    assert all(a > b for a, b in zip(diffs, diffs[1:]))
    assert gaps[-1] < 1e-4 and diffs[-1] < 1e-3
    exact = mb.BigramModel.fit(names, reg=0, solver="newton", dtype="float64")   # closed form
    np.testing.assert_allclose(exact.probs(), count.probs(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("K", [2, 3])
def test_joint_network_at_reg_0_is_the_count_model(K):
    net = NGramModel.fit(WORDS, context=K, reg=0)
    count = CountModel.fit(WORDS, context=K, smoothing=0)
    assert net.nll(WORDS) == pytest.approx(count.nll(WORDS), rel=1e-13)
    np.testing.assert_array_equal(net.contexts, count.contexts)
    np.testing.assert_allclose(F.softmax(net.W), count.probs(), rtol=1e-12)


def test_newton_reaches_the_optimum_for_joint_contexts(names):
    net = NGramModel.fit(names, context=2, reg=0.01)
    _, N = context_counts(*ngrams(names, net.vocab, 2), net.V)
    assert np.abs(counts_loss_and_grad(net.W, N, 0.01)[1]).max() < 1e-10
    assert net.W.shape == (len(net.contexts), net.V) and len(net.contexts) < net.V**2


@pytest.mark.parametrize("K", [1, 2])
def test_concat_newton_reaches_the_optimum(names, K):
    net = NGramModel.fit(names, context=K, encoding="concat", reg=0.01)
    X, y = ngrams(names, net.vocab, K)
    loss, dW = concat_loss_and_grad(net.W, X, y, 0.01)   # on the raw examples
    assert np.abs(dW).max() < 1e-10 and loss == pytest.approx(net.final_loss, rel=1e-12)
    if K == 1:   # one position: the bigram network's optimum, 2.4803990 (#4)
        assert round(loss, 7) == 2.4803990
        np.testing.assert_allclose(net.W[0], mb.newton(
            mb.bigram_counts(*mb.bigrams(names, net.vocab), net.V), 0.01)[0], atol=1e-8)
    gd = NGramModel.fit(names, context=K, encoding="concat", reg=0.01, solver="gd", steps=20,
                        lr=10.0)
    assert gd.history[-1] < gd.history[0] and gd.history[-1] > loss
    with pytest.raises(mb.SettingsError, match="reg > 0"):
        NGramModel.fit(WORDS, context=2, encoding="concat", reg=0)


# --- unseen contexts ------------------------------------------------------------------------

def test_a_boundary_inside_a_scored_word_is_refused_or_skipped():
    m = CountModel.fit(WORDS, context=2)
    with pytest.raises(mb.DataError, match="'.' .* not in the model's vocabulary"):
        m.nll(["an.na"])
    with pytest.raises(mb.DataError, match="line break"):
        m.nll(["an\nna"])
    assert m.log_prob("an\nna", skip_unknown=True) == m.log_prob("anna")
    assert m.log_prob("an.na", skip_unknown=True) == m.log_prob("anna")


def test_unseen_joint_context_backs_off_to_uniform():
    # "dd" never occurs in training: the row after it is uniform, for both kinds.
    for m in (CountModel.fit(WORDS, context=2, smoothing=0), NGramModel.fit(WORDS, context=2)):
        d = m.vocab.stoi["d"]
        row = m.table()[context_codes(np.array([[d, d]]), m.V)[0]]   # the row after "dd"
        np.testing.assert_allclose(row, 1 / m.V, rtol=1e-15)
        if m.kind == "ngram":   # the network gives every pair some probability
            assert np.isfinite(m.log_prob("dda"))
    concat = NGramModel.fit(WORDS, context=2, encoding="concat", steps=50, lr=1.0)
    assert np.isfinite(concat.log_prob("dda"))           # just works: one row per position


# --- sampling -------------------------------------------------------------------------------

@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_every_kind_samples_with_every_sampler(sampler):
    models = [CountModel.fit(WORDS, smoothing=0), CountModel.fit(WORDS, context=3, smoothing=0),
              NGramModel.fit(WORDS, context=2),
              NGramModel.fit(WORDS, context=2, encoding="concat", steps=30, lr=1.0)]
    for m in models:
        a = m.sample(20, seed=5, sampler=sampler)
        assert a == m.sample(20, seed=5, sampler=sampler) and len(a) == 20
        assert all(set(w) <= set("".join(WORDS)) for w in a)


def test_context_sampler_only_draws_seen_transitions(names):
    # with k = 0 a (context, next) pair of count 0 has probability 0: never sampled
    m = CountModel.fit(names, context=2, smoothing=0)
    samples = m.sample(500, seed=1)
    X, y = ngrams(samples, m.vocab, 2)
    codes = context_codes(X, m.V)
    pos = np.searchsorted(context_codes(m.contexts, m.V), codes)
    assert (context_codes(m.contexts, m.V)[pos] == codes).all()   # every context is seen
    assert (m.N[pos, y] > 0).all()
    # the first characters follow P(c | "..") (a loose check of the table's rows)
    first = np.bincount(y[(X == 0).all(axis=1)], minlength=m.V) / 500
    np.testing.assert_allclose(first, m.probs()[0], atol=0.06)


def test_temperature_and_top_k():
    P = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    assert adjust_probs(P) is P
    np.testing.assert_allclose(adjust_probs(P, 2.0), np.sqrt(P) / np.sqrt(P).sum(1, keepdims=True))
    top1 = adjust_probs(P, top_k=1)
    np.testing.assert_array_equal(top1, np.eye(3)[[0, 1, 2]])
    top2 = adjust_probs(P, top_k=2)
    np.testing.assert_allclose(top2[0], [0.625, 0.375, 0], rtol=1e-15)
    for bad in ({"temperature": -1}, {"temperature": float("nan")}, {"top_k": 0}):
        with pytest.raises(mb.SettingsError):
            adjust_probs(P, **bad)
    # a temperature so small that log(p) / T overflows: the likeliest character, not NaN
    np.testing.assert_array_equal(adjust_probs(P, 1e-320), np.eye(3)[[0, 1, 2]])
    m = CountModel.fit(WORDS, context=2, smoothing=0)
    for kw in ({"top_k": 1}, {"temperature": 1e-3}):      # only the likeliest (ties kept)
        X, y = ngrams(m.sample(30, seed=1, **kw), m.vocab, 2)
        pos = np.searchsorted(context_codes(m.contexts, m.V), context_codes(X, m.V))
        assert (m.N[pos, y] == m.N[pos].max(axis=1)).all()
    assert len(set(m.sample(30, seed=1))) > len(set(m.sample(30, seed=1, top_k=1)))
    net = mb.BigramModel.fit(WORDS, steps=5, lr=1.0)
    assert len(set(net.sample(5, seed=2, top_k=1))) == 1


# --- save / load ----------------------------------------------------------------------------

def test_every_kind_round_trips_and_is_detected(tmp_path):
    models = {"counts": CountModel.fit(WORDS, context=2, smoothing=0.3),
              "joint": NGramModel.fit(WORDS, context=3, reg=0),   # -inf logits survive
              "concat": NGramModel.fit(WORDS, context=2, encoding="concat", steps=5, lr=1.0),
              "bigram": mb.BigramModel.fit(WORDS, steps=3, lr=1.0)}
    for name, m in models.items():
        path = tmp_path / f"{name}.npz"
        m.save(path)
        back = load_model(path)
        assert type(back) is type(m) and model_kind(path) == (m.kind if name != "bigram"
                                                              else "bigram")
        assert back.nll(WORDS) == m.nll(WORDS)
        assert back.sample(4, seed=3) == m.sample(4, seed=3)
    with pytest.raises(mb.ModelFileError, match="counts model"):
        mb.BigramModel.load(tmp_path / "counts.npz")
    with pytest.raises(mb.MinibigramError, match="does not exist"):
        load_model(tmp_path / "missing.npz")


# --- sweep ----------------------------------------------------------------------------------

def test_sweep_chooses_on_dev_and_reports_test_only_for_the_chosen(names):
    r = sweep(names, kinds=("network", "counts"), contexts=(1, 2), regs=(0.01, 1.0),
              smoothings=(0.1, 1.0))
    assert len(r["rows"]) == 8 and all("test" not in row for row in r["rows"])
    for g in r["groups"]:
        group = [row for row in r["rows"]
                 if (row["kind"], row["context"]) == (g["kind"], g["context"])]
        assert g["dev"] == min(row["dev"] for row in group)
        assert np.isfinite(g["test"])
    dev = {(g["kind"], g["context"]): g["dev"] for g in r["groups"]}
    assert dev["network", 2] < dev["network", 1] and dev["counts", 2] < dev["counts", 1]
    assert r["best"]["dev"] == min(dev.values())
    with pytest.raises(mb.SettingsError, match="dev"):
        sweep(WORDS, fractions=(0.9, 0.0, 0.1))
    with pytest.raises(mb.SettingsError, match="dev part"):
        sweep(WORDS[:5], fractions=(0.8, 0.1, 0.1))


@pytest.mark.parametrize("contexts", [[[0], [1], [-1]], [[1], [0], [2]], [[0], [0], [1]]])
def test_model_file_contexts_must_be_sorted_distinct_ids(tmp_path, contexts):
    """Scoring looks contexts up by searchsorted: a file whose contexts are negative,
    unsorted or repeated is refused in one sentence, not scored wrongly or crashed on."""
    m = CountModel.fit(["ab", "ba"])
    path = tmp_path / "bad.npz"
    save_npz(path, kind="counts", arrays={"N": np.ones((3, m.V)), "contexts": np.array(contexts)},
             vocab=m.vocab, history=[], settings=m.settings)
    with pytest.raises(mb.ModelFileError, match="not sorted, distinct character ids"):
        CountModel.load(path)
    with pytest.raises(mb.ModelFileError, match="not sorted, distinct character ids"):
        load_model(path)


def test_scoring_equals_the_sampling_table():
    """Scoring gathers one log-probability per example; it must equal the log of the
    (V**K, V) table the samplers walk, which is built another way (every context,
    uniform rows for unseen ones), unseen contexts and zero counts (-inf) included."""
    words = ["dda", "anna", "bob", "zz"] + WORDS
    for m in (CountModel.fit(WORDS + ["zz"], context=2, smoothing=0),
              CountModel.fit(WORDS + ["zz"], context=3, smoothing=0.5),
              NGramModel.fit(WORDS + ["zz"], context=2),
              NGramModel.fit(WORDS + ["zz"], context=2, encoding="concat"),
              mb.BigramModel.fit(WORDS + ["zz"], steps=5, dtype="float64")):
        table = m.table()
        with np.errstate(divide="ignore"):
            expected = [np.log(table[context_codes(X, m.V), ys]).sum()
                        for X, ys in (ngrams([w], m.vocab, m.K) for w in words)]
        assert np.isneginf(expected).any() == (m.kind == "counts" and m.smoothing == 0)
        np.testing.assert_allclose([m.log_prob(w) for w in words], expected, rtol=1e-12)


@pytest.mark.parametrize("text,sizes", [("80/10/10", (80, 10, 10)), ("58/21/21", (58, 21, 21)),
                                        ("29/31/40", (29, 31, 40)), ("70/20/10", (70, 20, 10)),
                                        ("57/43/0", (57, 43, 0))])
def test_split_sizes_are_not_lost_to_float_noise(text, sizes):
    parts = split_words([f"w{i}" for i in range(100)], parse_split(text), seed=0)
    assert tuple(map(len, parts)) == sizes
