import numpy as np
import pytest

from minibigram import BOUNDARY, DataError, Vocabulary, bigram_counts, bigrams, load_words
from minibigram.words import parse_words


def test_embedded_names(names):
    assert len(names) == 32033
    assert names[:3] == ["emma", "olivia", "ava"]
    assert all(w.isalpha() and w.islower() for w in names)


def test_vocabulary_of_names(names):
    vocab = Vocabulary.from_words(names)
    assert len(vocab) == 27
    assert vocab.itos[0] == BOUNDARY and vocab.stoi["."] == 0
    assert vocab.itos[1:] == list("abcdefghijklmnopqrstuvwxyz")
    assert all(vocab.stoi[c] == i for i, c in enumerate(vocab.itos))


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


@pytest.mark.parametrize("words", [
    ["ирина", "олег", "ёж"],
    ["αλέξης", "ζωή"],
    ["josé", "zoë", "anne marie"],
    ["देवनागरी", "अनु"],
])
def test_vocabulary_round_trip_any_alphabet(words):
    vocab = Vocabulary.from_words(words)
    assert sorted(vocab.itos[1:]) == vocab.itos[1:]
    assert set(vocab.itos[1:]) == set("".join(words))
    for w in words:
        ids = vocab.encode(w)
        assert ids.dtype == np.int64 and len(ids) == len(w) and (ids > 0).all()
        assert vocab.decode(ids) == w


def test_a_dot_is_an_ordinary_character_and_a_line_break_is_refused():
    # The boundary is the line break, not '.': '.' gets an id, and the boundary shows as '⏎'.
    vocab = Vocabulary.from_words(["ann", "j.r."])
    assert vocab.itos == ["\u23ce", ".", "a", "j", "n", "r"] and vocab.stoi["."] == 1
    assert parse_words("x\n\na.b\n") == ["x", "a.b"]
    with pytest.raises(DataError, match=r"word 2 \('a\\nb'\) contains a line break"):
        Vocabulary.from_words(["ann", "a\nb"])


def test_blank_lines_skipped_and_whitespace_stripped():
    assert parse_words("\n ann \r\n\nbob\n  \n") == ["ann", "bob"]


@pytest.mark.parametrize("word,unknown", [("abz", "z"), ("amc", "m"), ("a\U0001F600", "\U0001F600"),
                                          ("\x00a", "\x00")])
def test_unknown_character_named(word, unknown):
    """Unknown below, between and beyond the vocabulary's code points."""
    vocab = Vocabulary.from_words(["acz" if unknown == "m" else "abc"])
    with pytest.raises(DataError, match=f"U\\+{ord(unknown):04X}"):
        vocab.encode(word)


def test_astral_plane_characters_round_trip():
    words = ["a\U0001F600b", "\U00010400"]
    vocab = Vocabulary.from_words(words)
    for w in words:
        assert vocab.decode(vocab.encode(w)) == w
    assert vocab.decode_words(np.concatenate([vocab.encode(w).tolist() + [0] for w in words])) \
        == words


def test_load_words_from_file(tmp_path):
    p = tmp_path / "w.txt"
    p.write_bytes("\ufeffanna\r\nbob\r\n".encode())
    assert load_words(p) == ["anna", "bob"]


def test_bigram_counts_weighted():
    xs, ys = np.array([0, 1, 1]), np.array([1, 0, 0])
    N = bigram_counts(xs, ys, 2)
    assert N.tolist() == [[0, 1], [2, 0]]
    Nw = bigram_counts(xs, ys, 2, weights=np.array([0.5, 1.0, 2.0]))
    assert Nw.tolist() == [[0, 0.5], [3.0, 0]]


def test_nul_is_refused_not_lost():
    """numpy's fixed-width strings drop NUL, so a model file could not hold it."""
    with pytest.raises(DataError, match=r"line 2 holds a NUL character"):
        parse_words("ab\na\x00b\ncd\n")
    with pytest.raises(DataError, match="NUL"):
        Vocabulary.from_words(["a\x00b"])
