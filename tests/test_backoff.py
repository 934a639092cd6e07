"""The backoff model: scoring is each token's longest-seen-history row, whichever path;
unknown characters; the perplexity record; sampling; arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minibigram as mb
from minibigram.perplexity import perplexity

BackoffModel = mb.BackoffModel


def reference_score(model: BackoffModel, word: str) -> float:
    """A plain loop: each character's probability from the row of its padded context."""
    ids = [0] * model.K + [model.vocab.stoi[c] for c in word] + [0]
    return sum(float(model.log_rows(np.array([ids[t - model.K:t]]))[0, ids[t]])
               for t in range(model.K, len(ids)))


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_score_is_the_sum_of_each_characters_row(names, K):
    model = BackoffModel.fit(names, context=K, method="kneser-ney")
    words = names[::997]
    want = [reference_score(model, w) for w in words]
    assert np.abs(model.score(words) - want).max() < 1e-12
    for w, s in zip(words, want):   # one word at a time takes another path
        assert model.log_prob(w) == pytest.approx(s, abs=1e-12)


def test_unknown_characters_error_skip_or_unk(names):
    model = BackoffModel.fit(names, context=2, unk=True)
    with pytest.raises(mb.DataError, match="'zoë'"):
        model.score(["zoë"])
    skipped = model.score(["zoë"], unknown="skip")[0]
    assert skipped == pytest.approx(model.log_prob("zo"), abs=1e-12)
    unk = model.score(["zoë"], unknown="unk")[0]
    z, o = model.vocab.stoi["z"], model.vocab.stoi["o"]
    rows = model.log_rows(np.array([[0, 0], [0, z], [z, o], [o, model.V]]))
    assert unk == pytest.approx(rows[0, z] + rows[1, o] + rows[2, model.V] + rows[3, 0],
                                abs=1e-12)
    plain = BackoffModel.fit(names, context=2)
    with pytest.raises(mb.SettingsError, match="reserves no <unk>"):
        plain.score(["zoë"], unknown="unk")


def test_perplexity_record_by_hand():
    # two words: "ab" (tokens a, b, end) and "b" (b, end), log-probabilities given
    logp = np.log([0.5, 0.25, 0.5, 0.125, 0.25])
    r = perplexity(logp, np.array([2, 1]), unknown=np.array([0, 0, 0, 1, 0], bool))
    total = math.log(0.5 * 0.25 * 0.5 * 0.125 * 0.25)
    assert (r.words, r.characters, r.tokens, r.unknowns) == (2, 3, 5, 1)
    assert r.log_prob == pytest.approx(total) and r.log10_prob == pytest.approx(
        total / math.log(10))
    assert r.perplexity == pytest.approx(math.exp(-total / 5))
    no_end = math.log(0.5 * 0.25 * 0.125)
    assert r.log_prob_no_end == pytest.approx(no_end)
    assert r.perplexity_no_end == pytest.approx(math.exp(-no_end / 3))
    assert r.perplexity_known == pytest.approx(math.exp(-math.log(0.5 * 0.25 * 0.5 * 0.25) / 4))
    assert r.word_perplexity == pytest.approx(math.exp(-total / 2))
    assert r.bits_per_character == pytest.approx(-total / math.log(2) / 5)
    assert r.bits_per_character_no_end == pytest.approx(-no_end / math.log(2) / 3)


def test_model_perplexity_is_its_scores(names):
    model = BackoffModel.fit(names[:20000], context=3, method="witten-bell")
    dev = names[20000:]
    r = model.perplexity(dev)
    assert r.log_prob == pytest.approx(model.score(dev).sum(), abs=1e-8)
    assert r.perplexity == pytest.approx(math.exp(model.nll(dev)), rel=1e-12)
    assert r.tokens == sum(len(w) + 1 for w in dev)


def test_sampling_is_seeded_and_backs_off(names):
    model = BackoffModel.fit(names, context=3, method="kneser-ney")
    a, b = model.sample(200, seed=5), model.sample(200, seed=5)
    assert a == b and a != model.sample(200, seed=6)
    assert set("".join(a)) <= set(model.vocab.itos[1:])
    # a backed-off row still ends words: no runaway strings as with a uniform row
    assert max(map(len, a)) < 30 and np.mean([len(w) for w in a]) < 10
    greedy = model.sample(3, seed=1, temperature=0)
    assert greedy[0] == greedy[1] == greedy[2]


def test_arrays_round_trip(names):
    model = BackoffModel.fit(names, context=2, method="modified-kneser-ney", unk=True)
    back = BackoffModel.from_arrays(model.to_arrays(), model.vocab, settings=model.settings)
    assert back.unk and np.array_equal(back.score(names), model.score(names))
    assert set(model.to_arrays()) == set(BackoffModel.ARRAYS)
