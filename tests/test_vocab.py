"""Tests of minibigram.vocab."""

import numpy as np
import pytest

from minibigram import BOUNDARY, DataError, Vocabulary
from minibigram.words import parse_words


def test_vocabulary_of_names(names):
    vocab = Vocabulary.from_words(names)
    assert len(vocab) == 27
    assert vocab.itos[0] == BOUNDARY and vocab.stoi["."] == 0
    assert vocab.itos[1:] == list("abcdefghijklmnopqrstuvwxyz")
    assert all(vocab.stoi[c] == i for i, c in enumerate(vocab.itos))


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
