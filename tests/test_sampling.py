"""Tests of minibigram.sampling: pinned names, bulk replay, frequencies, temperature and top-k."""

import math
from pathlib import Path

import numpy as np
import pytest

import minibigram as mb
from minibigram import BigramModel, CountModel, NGramModel
from minibigram.examples import context_codes, ngrams
from minibigram.sampling import (
    SAMPLERS,
    adjust_probs,
    id_lists,
    replay_bulk,
    sample_bulk,
    sample_one_at_a_time,
)
from minibigram.torchrng import TorchGenerator, draw_torch, draw_torch_cdf, draw_torch_mkl

DATA = Path(__file__).parent / "data"
SEED = 2147483647
N = 2000
DRAWS = {"torch-mkl": draw_torch_mkl, "torch": draw_torch, "torch-cdf": draw_torch_cdf}


@pytest.fixture(scope="module")
def models(names):
    return {"bigram": mb.BigramModel.fit(names),
            "counts": mb.CountModel.fit(names, smoothing=1),
            "counts2": mb.CountModel.fit(names, context=2, smoothing=1.0)}


def pinned(model: str, sampler: str) -> list[str]:
    text = (DATA / f"samples_{model}_{sampler}.txt").read_text(encoding="utf-8")
    return text.split("\n")[:-1]          # one name per line; a name may be empty


@pytest.mark.parametrize("sampler", sorted(mb.SAMPLERS))
@pytest.mark.parametrize("model", ["bigram", "counts", "counts2"])
def test_sampler_reproduces_the_pinned_names(models, model, sampler):
    expect = pinned(model, sampler)
    assert len(expect) == N
    assert models[model].sample(N, seed=SEED, sampler=sampler) == expect


def random_table(rng, S, V, dtype):
    """Rows of weights with exact zeros, repeated values (ties), and an end token."""
    P = np.round(rng.random((S, V)) ** 3 * 8) * (rng.random((S, V)) < 0.8)
    P[:, 0] += rng.integers(1, 4, S)                        # every row can end a word
    return (P / P.sum(axis=1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("era", ["torch-mkl", "torch", "torch-cdf"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("S, V", [(2, 2), (5, 5), (27, 27), (9, 3), (25, 5)])
def test_bulk_replay_equals_one_draw_at_a_time(era, dtype, S, V):
    """replay_bulk gives exactly the per-draw loop's words, for bigram and context tables."""
    rng = np.random.default_rng([S, V, np.dtype(dtype).itemsize])
    P = random_table(rng, S, V, dtype)
    for seed, n, max_len in [(3, 700, 1000), (2**32 + 5, 50, 3), (0, 1, 1000)]:
        expect = sample_one_at_a_time(P, n, TorchGenerator(seed), DRAWS[era], max_len=max_len)
        ids = replay_bulk(P, n, seed, era, max_len=max_len)
        assert np.count_nonzero(ids == 0) == n
        assert ids.tolist() == [i for w in expect for i in (*w, 0)]


@pytest.mark.parametrize("era", ["torch-mkl", "torch", "torch-cdf"])
def test_bulk_replay_equals_one_draw_at_a_time_when_words_are_cut(era):
    """Walkers that couple mid-word may stand at other lengths into it: where max_len cuts
    a word, the replay still gives the per-draw loop's words (contexts up to K = 3)."""
    rng = np.random.default_rng(sum(map(ord, era)))
    for _ in range(100):
        V, K = int(rng.integers(2, 7)), int(rng.integers(1, 4))
        P = np.round(rng.random((V**K, V)) ** 3 * 8) * (rng.random((V**K, V)) < 0.8)
        P[:, 0] = rng.integers(0, 3, V**K) * (rng.random(V**K) < 0.9)   # 0: never ends
        P[P.sum(axis=1) == 0, 0] = 1
        P = (P / P.sum(axis=1, keepdims=True)).astype(rng.choice([np.float32, np.float64]))
        n, max_len = int(rng.integers(1, 300)), int(rng.choice([1, 2, 3, 5, 8, 20, 1000]))
        seed = int(rng.integers(2**32))
        expect = sample_one_at_a_time(P, n, TorchGenerator(seed), DRAWS[era], max_len=max_len)
        assert replay_bulk(P, n, seed, era, max_len=max_len).tolist() == [
            i for w in expect for i in (*w, 0)]


@pytest.mark.parametrize("era", ["torch-mkl", "torch", "torch-cdf"])
def test_bulk_replay_of_many_words_that_max_len_cuts(era):
    """Blocks after many cut words (speculating from every position) keep the loop's words."""
    rng = np.random.default_rng(7)
    P = random_table(rng, 9, 3, np.float32)                 # contexts of 2 characters
    P[:, 0] = np.where(rng.random(9) < 0.5, 0, 0.02)        # words end rarely, or never
    P[P.sum(axis=1) == 0, 1] = 1
    P /= P.sum(axis=1, keepdims=True)
    for n, max_len in ((1500, 30), (300, 200)):
        expect = sample_one_at_a_time(P, n, TorchGenerator(5), DRAWS[era], max_len=max_len)
        assert sum(len(w) == max_len for w in expect) > n // 10    # many cut
        assert replay_bulk(P, n, 5, era, max_len=max_len).tolist() == [
            i for w in expect for i in (*w, 0)]


@pytest.mark.parametrize("era", ["torch-mkl", "torch", "torch-cdf"])
def test_bulk_replay_of_words_that_never_end(era):
    """Words cut at max_len spend one more draw, also across the bulk walk's blocks."""
    P = np.full((3, 3), 0.5)
    P[:, 0] = 0
    for max_len in (40, 78):     # 78: the first block (80 draws) ends inside a cut word's draws
        expect = sample_one_at_a_time(P, 5, TorchGenerator(1), DRAWS[era], max_len=max_len)
        assert replay_bulk(P, 5, 1, era, max_len=max_len).tolist() == [i for w in expect
                                                                       for i in (*w, 0)]
        assert [len(w) for w in expect] == [max_len] * 5
    assert replay_bulk(P, 0, 1, era).tolist() == []


WORDS = ["anna", "bob", "cara", "dan", "abba", "ada", "carol", "bonnie"]


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


@pytest.fixture(scope="module")
def model(names):
    return mb.BigramModel.fit(names, steps=100)


def transitions(ids, V):
    """Counts obs[i, j] of every drawn (previous, next) pair, word starts included."""
    prev = np.concatenate(([0], ids[:-1]))                 # each word starts after a 0
    return np.bincount(prev * V + ids, minlength=V * V).reshape(V, V)


def chi_square(obs, P, min_expected=5.0):
    """Pearson's statistic of observed transitions obs against rows of P, and its dof.

    Each row is a multinomial with obs[i].sum() trials and probabilities P[i]. Cells
    expected below ``min_expected`` are pooled into one cell per row, so the
    chi-square approximation holds; a row with k cells adds k - 1 degrees of freedom.
    """
    stat, dof = 0.0, 0
    for o, p in zip(obs, P):
        E = o.sum() * p.astype(np.float64)
        small = E < min_expected
        cells_o = np.append(o[~small], o[small].sum())
        cells_e = np.append(E[~small], E[small].sum())
        keep = cells_e > 0
        if keep.sum() < 2:
            continue
        stat += float((((cells_o - cells_e) ** 2)[keep] / cells_e[keep]).sum())
        dof += int(keep.sum()) - 1
    return stat, dof


def wilson_hilferty(dof, z):
    """Upper quantile of chi-square(dof) at the standard normal quantile z.

    (X / dof)**(1/3) is nearly normal with mean 1 - 2/(9 dof) and variance 2/(9 dof)
    (Wilson and Hilferty, 1931); for hundreds of degrees of freedom the quantile is
    accurate to well under 1%.
    """
    h = 2 / (9 * dof)
    return dof * (1 - h + z * math.sqrt(h)) ** 3


# z = 3.719 is the upper 1e-4 quantile of the standard normal: a correct sampler
# exceeds the threshold with probability 1e-4 over seeds; the seed here is fixed.
Z = 3.719


def test_next_character_frequencies_match_the_model(model):
    P = model.probs()
    V = model.V
    ids = sample_bulk(P, 200_000, seed=12345)
    obs = transitions(ids, V)
    stat, dof = chi_square(obs, P)
    assert dof > 300
    assert stat < wilson_hilferty(dof, Z), (stat, dof)
    # The same test rejects a sampler of a slightly different model: it has the power
    # to fail. Swap the probabilities of two frequent next characters in one row.
    Q = P.copy()
    a = model.vocab.stoi["a"]
    Q[a, [model.vocab.stoi["n"], model.vocab.stoi["r"]]] = Q[a, [model.vocab.stoi["r"],
                                                                model.vocab.stoi["n"]]]
    stat_q, dof_q = chi_square(transitions(sample_bulk(Q, 200_000, seed=12345), V), P)
    assert stat_q > wilson_hilferty(dof_q, Z)


def test_zero_probabilities_are_never_drawn(names):
    model = mb.BigramModel.fit(names, reg=0.0, solver="newton")   # exact zeros
    P = model.probs()
    assert (P == 0).sum() > 100
    obs = transitions(sample_bulk(P, 100_000, seed=1), model.V)
    assert (obs[P == 0] == 0).all()


def reference_inverse_cdf(P, n, seed, max_len=1000):
    """Step-synchronous inverse CDF without the guide table: the draws it must equal."""
    C = np.cumsum(P, axis=1, dtype=np.float64)
    C /= C[:, -1:]
    rng = np.random.default_rng(seed)
    words = [[] for _ in range(n)]
    active = np.arange(n)
    cur = np.zeros(n, dtype=np.int64)
    for _ in range(max_len):
        if not len(active):
            break
        u = rng.random(len(active))
        nxt = (C[cur] <= u[:, None]).sum(axis=1)
        for w, c in zip(active, nxt):
            if c:
                words[w].append(int(c))
        active, cur = active[nxt != 0], nxt[nxt != 0]
    return words


@pytest.mark.parametrize("V", [2, 5, 27, 300])
def test_guide_table_gives_exactly_the_inverse_cdf_draws(V):
    rng = np.random.default_rng(V)
    P = rng.random((V, V)) ** 4 * (rng.random((V, V)) < 0.7)
    P[:, 0] += 0.2                                          # words end
    P /= P.sum(axis=1, keepdims=True)
    assert id_lists(sample_bulk(P, 500, seed=9)) == reference_inverse_cdf(P, 500, seed=9)


def test_strings_lists_and_edge_cases(model):
    P = model.probs()
    words = model.sample(1000, seed=3, sampler="numpy")
    assert words == [model.vocab.decode(w) for w in id_lists(sample_bulk(P, 1000, seed=3))]
    assert all(isinstance(w, str) and "." not in w for w in words)
    assert model.sample(1000, seed=3, sampler="numpy") == words
    assert model.sample(1000, seed=4, sampler="numpy") != words
    assert model.sample(0, sampler="numpy") == [] and id_lists(sample_bulk(P, 0, 1)) == []
    never_ends = np.full((3, 3), 0.5)
    never_ends[:, 0] = 0
    assert sample_bulk(never_ends, 4, 0, max_len=7).tolist().count(0) == 4
    assert [len(w) for w in id_lists(sample_bulk(never_ends, 4, 0))] == [1000] * 4


def test_unicode_vocabulary_decodes():
    model = mb.BigramModel.fit(["zoë", "åsa", "ñ ñ"], steps=5)
    assert set("".join(model.sample(500, seed=1, sampler="numpy"))) <= set("zoëåsañ ")


def test_temperature_zero_is_greedy_with_ties_to_the_lowest_id():
    P = np.array([[0.2, 0.5, 0.3], [0.4, 0.2, 0.4], [0.1, 0.45, 0.45]])
    np.testing.assert_array_equal(adjust_probs(P, 0), np.eye(3)[[1, 0, 1]])
    np.testing.assert_array_equal(adjust_probs(P, 0, top_k=2), np.eye(3)[[1, 0, 1]])
    with pytest.raises(mb.SettingsError, match=">= 0"):
        adjust_probs(P, -0.5)


@pytest.mark.parametrize("kind", ["bigram", "counts3"])
def test_greedy_words_follow_the_likeliest_character(names, kind):
    m = BigramModel.fit(names, steps=20) if kind == "bigram" else CountModel.fit(names, context=3)
    T, V, K = m.table(), m.V, m.K
    # by hand: from the all-boundary context, take the argmax until it is the boundary
    code, word = 0, ""
    while len(word) < 1000:
        t = int(np.argmax(T[code]))
        if t == 0:
            break
        word += m.vocab.itos[t]
        code = (code * V + t) % V**K
    for sampler in mb.SAMPLERS:
        assert m.sample(4, seed=1, sampler=sampler, temperature=0) == [word] * 4
    assert m.sample(3, seed=99, temperature=0) == [word] * 3
