"""Every sampler gives exactly the names it gave before it was vectorized.

The gold lists in tests/data were written by tests/data/make_samples.py with the
one-draw-at-a-time samplers (2,000 names per sampler, seed 2147483647).
"""

from pathlib import Path

import pytest

import minibigram as mb

DATA = Path(__file__).parent / "data"
SEED = 2147483647
N = 2000


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
