"""Smoothing: every distribution sums to 1, a Kneser-Ney table computed by hand, nltk.lm's
KneserNeyInterpolated and WittenBellInterpolated to 1e-12 where the definitions agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minibigram as mb

BackoffModel = mb.BackoffModel
METHODS = mb.SMOOTHING_METHODS

#: The 5-word corpus of the hand-computed tables below.
FIVE = ["ab", "b", "ba", "a", "aab"]


def row(model: BackoffModel, context: str) -> dict[str, float]:
    """P(next | context) as a dict over the outcomes, "." the end ("." in context: the start)."""
    ids = [[0 if c == "." else model.vocab.stoi[c] for c in context]]
    p = np.exp(model.log_rows(np.array(ids)))[0]
    names = [".", *model.vocab.itos[1:]] + (["<unk>"] if model.unk else [])
    return dict(zip(names, p.tolist()))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("K", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("unk", [False, True])
def test_every_distribution_sums_to_one_seen_and_unseen(names, method, K, unk):
    model = BackoffModel.fit(names[:3000], context=K, method=method, unk=unk)
    rng = np.random.default_rng(K)
    seen = model.tables.log_probs                                   # every stored row
    unseen = model.log_rows(rng.integers(0, model.V, (500, K)))     # mostly never seen
    for L in (seen, unseen):
        assert L.shape[1] == model.V + unk
        assert np.abs(np.exp(L).sum(axis=1) - 1).max() < 1e-12


def test_kneser_ney_bigram_table_by_hand():
    # Pairs of ".w." for the five words: after "." a 3, b 2; after a: a 1, b 2, end 2;
    # after b: a 1, end 3. Continuation counts N1+(. w): end 2 (a, b), a 3 (., a, b),
    # b 2 (., a); 7 in all. D = 1/2 at every length, with the uniform floor 1/3:
    # P0 = (N1+ - 1/2) / 7 + (3/2 / 7) / 3 = end 2/7, a 3/7, b 2/7.
    model = BackoffModel.fit(FIVE, context=1, method="kneser-ney", discount=0.5)
    expected = {
        ".": {"a": 2.5 / 5 + 0.2 * 3 / 7, "b": 1.5 / 5 + 0.2 * 2 / 7, ".": 0.2 * 2 / 7},
        "a": {"a": 0.5 / 5 + 0.3 * 3 / 7, "b": 1.5 / 5 + 0.3 * 2 / 7,
              ".": 1.5 / 5 + 0.3 * 2 / 7},
        "b": {"a": 0.5 / 4 + 0.25 * 3 / 7, "b": 0.25 * 2 / 7, ".": 2.5 / 4 + 0.25 * 2 / 7},
    }
    for context, want in expected.items():
        got = row(model, context)
        for c, p in want.items():
            assert got[c] == pytest.approx(p, abs=1e-15), (context, c)
    assert model.log_prob("ab") == pytest.approx(math.log(4.1 / 7 * 2.7 / 7 * 4.875 / 7),
                                                 abs=1e-14)


def test_kneser_ney_trigram_uses_continuation_counts_by_hand():
    # K = 2: the history "b" counts the characters x before "b w": end after ".b" and
    # "ab" (2), a after ".b" (1): 3 in all, so with D = 1/2 and P0 (2/7, 3/7, 2/7 as
    # above) P(w | b) = (N1+ - 1/2)+ / 3 + (1/3) P0(w). "bb" was never seen: its row is
    # that of "b". "ab" was seen twice, both times before the end.
    model = BackoffModel.fit(FIVE, context=2, method="kneser-ney", discount=0.5)
    b = {".": 1.5 / 3 + 2 / 21, "a": 0.5 / 3 + 3 / 21, "b": 2 / 21}
    got = row(model, "bb")
    for c, p in b.items():
        assert got[c] == pytest.approx(p, abs=1e-15)
    ab = {".": 1.5 / 2 + 0.25 * b["."], "a": 0.25 * b["a"], "b": 0.25 * b["b"]}
    got = row(model, "ab")
    for c, p in ab.items():
        assert got[c] == pytest.approx(p, abs=1e-15)


def test_a_word_start_is_one_history_as_lmplz_reads_one_start_symbol(names):
    # ".." and "." are both <s>: a K = 2 model's start row is the K = 1 model's
    words = names[:500]
    two = BackoffModel.fit(words, context=2, method="kneser-ney", discount=0.3)
    one = BackoffModel.fit(words, context=1, method="kneser-ney", discount=0.3)
    assert np.allclose(two.log_rows(np.zeros((1, 2), int)), one.log_rows(np.zeros((1, 1), int)),
                       rtol=0, atol=1e-15)


def test_modified_kneser_ney_discounts_from_count_of_counts(names):
    # Chen & Goodman: Y = n1 / (n1 + 2 n2), D_r = r - (r + 1) Y n_{r+1} / n_r, from the
    # counts of the highest order (raw: every count of each context's next character; the
    # start "..", which is the history "." one order down, left out)
    counts = mb.count_contexts(names, context=2)
    model = BackoffModel.fit(counts=counts, context=2, method="modified-kneser-ney")
    N = counts.N[counts.contexts.any(axis=1)]
    n = [int((N == r).sum()) for r in (1, 2, 3, 4)]
    Y = n[0] / (n[0] + 2 * n[1])
    want = [r - (r + 1) * Y * n[r] / n[r - 1] for r in (1, 2, 3)]
    assert model.settings["discounts"][2] == pytest.approx(want, abs=1e-15)


def test_add_k_is_the_count_model(names):
    for K in (1, 2, 3):
        for k in (0.1, 1.0):
            ours = BackoffModel.fit(names, context=K, method="add-k", smoothing=k)
            counts = mb.CountModel.fit(names, context=K, smoothing=k)
            assert np.abs(ours.score(names) - counts.score(names)).max() < 1e-12


def test_witten_bell_interpolates_by_distinct_followers(names):
    # the highest order: P(w | h) = (c(hw) + N1+(h.) P(w | h')) / (c(h) + N1+(h.))
    words = names[:300]
    model = BackoffModel.fit(words, context=1, method="witten-bell")
    counts = mb.count_contexts(words, context=1).N[model.vocab.stoi["q"]]
    unigram = np.exp(model.tables.log_probs[0])
    n = (counts > 0).sum()
    want = (counts + n * unigram) / (counts.sum() + n)
    assert np.abs(np.exp(model.log_rows(np.array([[model.vocab.stoi["q"]]])))[0]
                  - want).max() < 1e-15


#: nltk.lm 3.10.4 on names[:200], fed the n-grams of "." * K + w + "." (every order), its
#: vocabulary the characters and "."; KneserNeyInterpolated(K + 1, discount=0.1) and
#: WittenBellInterpolated(K + 1): lm.score(w, tuple(context)) for w in "a", ".", "n".
NLTK = {
    ("kneser-ney", 1, "m"): (0.3328059071729958, 0.0010314111579934366, 0.02593764650726676),
    ("kneser-ney", 1, "a"): (0.005225268462415261, 0.3269802227688124, 0.13262743215949768),
    ("kneser-ney", 1, "."): (0.19071518987341773, 0.0005569620253164558, 0.03500632911392405),
    ("witten-bell", 1, "m"): (0.300327011118378, 0.026160889470241987, 0.03502289077828646),
    ("witten-bell", 1, "a"): (0.01747173689619733, 0.3111588651156996, 0.12706717742688967),
    ("witten-bell", 1, "."): (0.1859069886947585, 0.01541623843782117, 0.038495632065775956),
    ("kneser-ney", 2, "em"): (0.006387884267631104, 7.956600361663655e-05,
                              0.0020009041591320074),
    ("kneser-ney", 2, "ma"): (0.0006336388767641497, 0.08189242931276977,
                              0.08131286677336437),
    ("kneser-ney", 2, "an"): (0.2870583828468096, 0.1798617928183932, 0.24965357788685097),
    ("kneser-ney", 2, ".e"): (0.000997451915173434, 0.003889254205709902,
                              0.0029128993369499697),
    ("kneser-ney", 2, "zz"): (0.23512658227848102, 0.004641350210970465,
                              0.004219409282700422),
    ("witten-bell", 2, "em"): (0.0900981033355134, 0.007848266841072597,
                               0.010506867233485937),
    ("witten-bell", 2, "ma"): (0.005823912298732443, 0.15927517726078877,
                               0.09791128136451878),
    ("witten-bell", 2, "an"): (0.2784519554167986, 0.1949195360692578, 0.22130295763389288),
    ("witten-bell", 2, ".e"): (0.00802177305774428, 0.044916447794145636,
                               0.014973164325682306),
    ("witten-bell", 2, "zz"): (0.2607194244604316, 0.05755395683453238, 0.027050359712230215),
}


@pytest.mark.parametrize("key", sorted(NLTK))
def test_agrees_with_nltk_where_the_definitions_agree(names, key):
    method, K, context = key
    options = {"discount": 0.1} if method == "kneser-ney" else {}
    # nltk's unigram has no uniform floor
    model = BackoffModel.fit(names[:200], context=K, method=method, floor=False, **options)
    got = row(model, context)
    for c, want in zip("a.n", NLTK[key]):
        assert abs(got[c] - want) < 1e-12, (key, c)


def test_nltk_differs_at_the_padded_start(names):
    # nltk reads ".." as its own history above "."; here (as in lmplz) it is "." itself:
    # nltk's KneserNeyInterpolated(3, 0.1) gives P(a | ..) = 0.1900715189873418
    model = BackoffModel.fit(names[:200], context=2, method="kneser-ney", floor=False,
                             discount=0.1)
    assert row(model, "..")["a"] == pytest.approx(0.19071518987341773, abs=1e-15)
    assert abs(row(model, "..")["a"] - 0.1900715189873418) > 1e-4


def test_refusals():
    with pytest.raises(mb.SettingsError, match="smoothing method"):
        BackoffModel.fit(FIVE, method="good-turing")
    with pytest.raises(mb.SettingsError, match="witten-bell does not take it"):
        BackoffModel.fit(FIVE, method="witten-bell", discount=0.5)
    with pytest.raises(mb.SettingsError, match="uniform floor"):
        BackoffModel.fit(FIVE, method="kneser-ney", unk=True, floor=False)
