"""Tests of minibigram.examples."""


import numpy as np
import pytest
from conftest import PROPS
from hypothesis import given
from hypothesis import strategies as st

import minibigram as mb
from minibigram import (
    NGramModel,
    Vocabulary,
    bigram_counts,
    bigrams,
)
from minibigram.examples import context_codes, context_counts, ngrams
from minibigram.words import parse_split


def test_bigrams_count_matches_notebook(names):
    vocab = Vocabulary.from_words(names)
    xs, ys = bigrams(names, vocab)
    assert len(xs) == len(ys) == 228146 == sum(len(w) + 1 for w in names)
    assert xs.dtype == np.int64
    # emma: .e em mm ma a.
    assert vocab.decode(xs[:5]) == ".emma" and vocab.decode(ys[:5]) == "emma."


def test_bigrams_equal_a_python_loop():
    words = ["ab", "b", "cab", "a"]
    vocab = Vocabulary.from_words(words)
    expected = [(vocab.stoi[a], vocab.stoi[b]) for w in words
                for a, b in zip("." + w, w + ".")]
    xs, ys = bigrams(words, vocab)
    assert list(zip(xs.tolist(), ys.tolist())) == expected


def test_bigram_counts_weighted():
    xs, ys = np.array([0, 1, 1]), np.array([1, 0, 0])
    N = bigram_counts(xs, ys, 2)
    assert N.tolist() == [[0, 1], [2, 0]]
    Nw = bigram_counts(xs, ys, 2, weights=np.array([0.5, 1.0, 2.0]))
    assert Nw.tolist() == [[0, 0.5], [3.0, 0]]


WORDS = ["anna", "bob", "cara", "dan", "abba", "ada", "carol", "bonnie"]


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
    """Also for empty words: their one example is "." * K -> ".", for every K."""
    words = ["", *WORDS[:2], "", "", *WORDS[2:], ""]
    vocab = mb.Vocabulary.from_words(WORDS)
    for K in (1, 2, 3, 5):
        ref_X, ref_y = [], []
        for w in words:
            ids = [0] * K + [vocab.stoi[c] for c in w] + [0]
            for t in range(K, len(ids)):
                ref_X.append(ids[t - K:t])
                ref_y.append(ids[t])
        X, y = ngrams(words, vocab, K)
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


DOTTED = ["St. Louis", "a.b@example.org", "Jr.", "emma", "...", "x.y.z"]


@pytest.mark.parametrize("K", [1, 2, 3])
def test_examples_of_dotted_words_equal_a_loop(K):
    vocab = Vocabulary.from_words(DOTTED)
    X, ys = mb.ngrams(DOTTED, vocab, K)
    expected = []
    for w in DOTTED:
        ids = [0] * K + [vocab.stoi[c] for c in w] + [0]
        expected += [(tuple(ids[t:t + K]), ids[t + K]) for t in range(len(w) + 1)]
    assert [(tuple(x), y) for x, y in zip(X.tolist(), ys.tolist())] == expected


def test_names_give_the_counts_of_the_dot_boundary(names):
    """The counts of '.' + w + '.', by a Python loop over the old definition, are today's."""
    vocab = Vocabulary.from_words(names)
    assert vocab.itos == [".", *"abcdefghijklmnopqrstuvwxyz"]
    N = np.zeros((27, 27), dtype=np.int64)
    for w in names:
        s = "." + w + "."
        for a, b in zip(s, s[1:]):
            N[vocab.stoi[a], vocab.stoi[b]] += 1
    assert (mb.bigram_counts(*mb.bigrams(names, vocab), 27) == N).all()
    assert (mb.count_bigrams(names).N == N).all()
    assert N.sum() == 228146 and N[0, vocab.stoi["a"]] == 4410


def test_a_bare_string_is_refused_where_words_are_expected():
    """A str is a sequence of characters: taken as words it would be one-letter words."""
    import minibigram as mb

    vocab = mb.Vocabulary("an")
    for call in (lambda: mb.Vocabulary.from_words("anna"), lambda: mb.bigrams("anna", vocab),
                 lambda: mb.ngrams("anna", vocab, 2)):
        with pytest.raises(mb.DataError, match="single string 'anna'"):
            call()


@pytest.mark.parametrize("bad", [3, b"bob", None], ids=["int", "bytes", "None"])
def test_a_word_that_is_not_a_str_is_named_wherever_words_go(bad):
    """Training checks each word as it joins them, once: the same sentence as everywhere."""
    vocab = mb.Vocabulary("abnot")
    for call in (lambda w: mb.Vocabulary.from_words(w), lambda w: mb.bigrams(w, vocab),
                 lambda w: mb.ngrams(w, vocab, 2), lambda w: mb.CountModel.fit(w),
                 lambda w: mb.BigramModel.fit(w, steps=1),
                 lambda w: mb.NGramModel.fit(w, context=2, steps=1)):
        with pytest.raises(mb.DataError, match=f"must be a str, got {type(bad).__name__} "):
            call(["anna", bad])


# --- the counts training starts from (one join of the words; for ASCII bigrams, one table
# of code point pairs): equal to counting the examples of ngrams

#: ASCII with the characters that matter to the boundary ('.', spaces, '~' at the top of
#: the 128 x 128 table), then any other code point (the general path).
_ASCII_WORD = st.text(st.sampled_from(list("ab.~ Z\t!")), max_size=6)
_ANY_WORD = st.text(st.characters(blacklist_categories=("Cs",),
                                  blacklist_characters="\x00" + mb.vocab.LINE_BREAKS),
                    max_size=6)


def _counted_examples(words, vocab, K):
    """The gold reference: every example of ngrams, counted one by one."""
    X, ys = ngrams(words, vocab, K)
    N = np.zeros((len(vocab) ** K, len(vocab)), dtype=np.int64)
    np.add.at(N, (context_codes(X, len(vocab)), ys), 1)
    return N


def _model_counts(model):
    """A count model's N with a row for every possible context, as _counted_examples."""
    V, K = len(model.vocab), model.contexts.shape[1]
    N = np.zeros((V ** K, V), dtype=np.int64)
    N[context_codes(model.contexts, V)] = model.N
    return N


@PROPS
@given(st.lists(st.one_of(_ASCII_WORD, _ANY_WORD), min_size=1, max_size=8),
       st.integers(1, 3))
def test_training_counts_equal_the_counted_examples(words, K):
    vocab = Vocabulary.from_words(words)
    model = mb.CountModel.fit(words, context=K, smoothing=0)
    assert model.vocab == vocab
    assert (_model_counts(model) == _counted_examples(words, vocab, K)).all()   # counts went well


@PROPS
@given(st.lists(_ASCII_WORD, min_size=1, max_size=8))
def test_ascii_bigram_counts_in_a_larger_vocabulary_equal_the_counted_examples(words):
    vocab = Vocabulary.from_words([*words, "xyz~é"])   # more characters than the words have
    model = mb.CountModel.fit(words, vocab=vocab, smoothing=0)
    assert model.vocab == vocab
    assert (_model_counts(model) == _counted_examples(words, vocab, 1)).all()


@pytest.mark.parametrize("words", [["anna", "bob"], ["zoë", "anna"]], ids=["ascii", "utf8"])
def test_training_counts_refuse_what_would_split_a_word(words):
    with pytest.raises(mb.DataError, match=r"word 2 \('bo\\nb'\).*line break"):
        mb.CountModel.fit([words[0], "bo\nb"])
    with pytest.raises(mb.DataError, match="'.'"):   # '.' shows the boundary of this vocabulary
        mb.CountModel.fit([*words, "a.b"], vocab=Vocabulary.from_words(words))
    with pytest.raises(mb.DataError, match=r"'q' \(U\+0071\) is not in"):
        mb.CountModel.fit([*words, "q"], vocab=Vocabulary.from_words(words))


# --- counting a word file's text without making its words (train's default path)

_TEXT = st.text(st.sampled_from(["a", "b", ".", "\n", "\n", "\r", " ", "\t", "é", "~"]),
                max_size=40)


@PROPS
@given(_TEXT)
def test_counts_of_a_text_are_the_counts_of_its_words(tmp_path_factory, text):
    """count_text skips making the words of a plain text: the counts and vocabulary are
    those of load_words' words, and a text without words is refused the same way."""
    path = tmp_path_factory.mktemp("t") / "w.txt"
    path.write_bytes(text.encode("utf-8"))
    try:
        words = mb.load_words(path)
    except mb.DataError as e:
        with pytest.raises(mb.DataError) as got:
            mb.count_text(mb.load_text(path))
        assert str(got.value) == str(e)
        return
    counts = mb.count_text(mb.load_text(path))
    assert counts.vocab == Vocabulary.from_words(words)
    assert (counts.N == _counted_examples(words, counts.vocab, 1)).all()   # counts went well


def test_a_text_and_its_words_record_the_same_source(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"anna\nbob\n\ncara\n")
    text, words = mb.load_text(path), mb.load_words(path)
    assert (text.source, text.sha256) == (words.source, words.sha256)
    assert text.words() == words == ["anna", "bob", "cara"]
    with pytest.raises(mb.DataError, match=r"line 2 holds a NUL"):
        (tmp_path / "nul.txt").write_bytes(b"anna\nb\x00b\n")
        mb.count_text(mb.load_text(tmp_path / "nul.txt"))

