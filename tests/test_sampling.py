"""Every sampler gives exactly the names it gave before it was vectorized.

The gold lists in tests/data were written by tests/data/make_samples.py with the
one-draw-at-a-time samplers (2,000 names per sampler, seed 2147483647).
"""

from pathlib import Path

import numpy as np
import pytest

import minibigram as mb
from minibigram.sampling import replay_bulk, sample_one_at_a_time
from minibigram.torchrng import TorchGenerator, draw_torch, draw_torch_cdf, draw_torch_mkl

DATA = Path(__file__).parent / "data"
SEED = 2147483647
N = 2000
DRAWS = {"torch-mkl": draw_torch_mkl, "torch": draw_torch, "torch-cdf": draw_torch_cdf}


@pytest.fixture(scope="module")
def models(names):
    return {"bigram": mb.BigramModel.fit(names),
            "counts": mb.CountModel.fit(names, smoothing=1),
            "counts2": mb.CountModel.fit(names, context=2)}


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
