"""Tests of minibigram.vocab."""


import numpy as np
import pytest

import minibigram as mb
from minibigram import BOUNDARY, CountModel, DataError, Vocabulary
from minibigram.vocab import BOUNDARY_TEXT, boundary_symbol
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


DOTTED = ["St. Louis", "a.b@example.org", "Jr.", "emma", "...", "x.y.z"]


def test_a_dot_is_a_character_and_the_boundary_shows_as_return_symbol():
    vocab = Vocabulary.from_words(DOTTED)
    assert vocab.itos[0] == vocab.boundary == "\u23ce" and "." in vocab.itos[1:]
    assert vocab.itos[1:] == sorted(set("".join(DOTTED)))
    assert vocab.stoi["."] == vocab.itos.index(".") > 0
    assert "boundary='⏎'" in repr(vocab)
    # the names keep the notebook's '.': id 0, shown as '.'
    names = Vocabulary.from_words(["emma", "ava"])
    assert names.itos[0] == mb.BOUNDARY == "." and names.stoi["."] == 0


def test_the_display_symbol_is_never_a_character_of_the_data():
    assert boundary_symbol("ab") == "."
    assert boundary_symbol("a.") == "\u23ce"
    assert boundary_symbol(".\u23ce") == "\u21b5"
    assert boundary_symbol(".\u23ce\u21b5\u00b6\ue000") == "\ue001"
    for chars in ("ab", "a.", ".\u23ce", ".\u23ce\u21b5\u00b6"):
        vocab = Vocabulary(chars)
        assert vocab.itos[0] not in vocab.itos[1:]


def test_encoding_maps_every_line_break_to_the_boundary():
    vocab = Vocabulary.from_words(DOTTED)
    text = BOUNDARY_TEXT + "Jr." + "\r\n"[1] + "x.y.z" + "\u2028"
    ids = vocab.encode(text)
    assert ids[0] == ids[4] == ids[-1] == 0 and vocab.decode(ids[1:4]) == "Jr."
    assert vocab.encode(vocab.decode(ids)).tolist() == ids.tolist()   # '⏎' encodes to 0
    # the words of a stream of ids: split at the boundary, never at '.'
    stream = np.concatenate([vocab.encode(w).tolist() + [0] for w in DOTTED])
    assert vocab.decode_words(stream) == DOTTED


def test_a_line_break_cannot_be_part_of_a_word():
    with pytest.raises(DataError, match=r"word 2 \('a\\nb'\) contains a line break"):
        Vocabulary.from_words(["ab", "a\nb"])
    with pytest.raises(DataError, match="line break"):
        Vocabulary("a\u2028")
    m = CountModel.fit(DOTTED)
    with pytest.raises(DataError, match="contains the line break '\\\\r'"):
        m.nll(["St.\rLouis"])
    assert m.log_prob("St.\rLouis", skip_unknown=True) == m.log_prob("St.Louis")
    # a word holding the display symbol would be split by encoding: refused, named
    with pytest.raises(DataError, match="'⏎' shows the boundary"):
        mb.bigrams(["a\u23ceb"], m.vocab)
    with pytest.raises(DataError, match="'⏎' shows the boundary"):
        mb.ngrams(["a\u23ceb"], m.vocab, 3)
