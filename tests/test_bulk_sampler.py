import math

import numpy as np
import pytest

import minibigram as mb
from minibigram.sampling import sample_bulk, sample_numpy


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
    assert sample_numpy(P, 500, seed=9) == reference_inverse_cdf(P, 500, seed=9)


def test_strings_lists_and_edge_cases(model):
    P = model.probs()
    words = model.sample(1000, seed=3, sampler="numpy")
    assert words == [model.vocab.decode(w) for w in sample_numpy(P, 1000, seed=3)]
    assert all(isinstance(w, str) and "." not in w for w in words)
    assert model.sample(1000, seed=3, sampler="numpy") == words
    assert model.sample(1000, seed=4, sampler="numpy") != words
    assert model.sample(0, sampler="numpy") == [] and sample_numpy(P, 0, 1) == []
    never_ends = np.full((3, 3), 0.5)
    never_ends[:, 0] = 0
    assert sample_bulk(never_ends, 4, 0, max_len=7).tolist().count(0) == 4
    assert [len(w) for w in sample_numpy(never_ends, 4, 0)] == [1000] * 4


def test_unicode_vocabulary_decodes():
    model = mb.BigramModel.fit(["zoë", "åsa", "ñ ñ"], steps=5)
    assert set("".join(model.sample(500, seed=1, sampler="numpy"))) <= set("zoëåsañ ")
