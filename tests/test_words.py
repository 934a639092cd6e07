"""Tests of minibigram.words."""

import pytest

from minibigram import DataError, Vocabulary, load_words
from minibigram.words import parse_words


def test_embedded_names(names):
    assert len(names) == 32033
    assert names[:3] == ["emma", "olivia", "ava"]
    assert all(w.isalpha() and w.islower() for w in names)


def test_blank_lines_skipped_and_whitespace_stripped():
    assert parse_words("\n ann \r\n\nbob\n  \n") == ["ann", "bob"]


def test_load_words_from_file(tmp_path):
    p = tmp_path / "w.txt"
    p.write_bytes("\ufeffanna\r\nbob\r\n".encode())
    assert load_words(p) == ["anna", "bob"]


def test_nul_is_refused_not_lost():
    """numpy's fixed-width strings drop NUL, so a model file could not hold it."""
    with pytest.raises(DataError, match=r"line 2 holds a NUL character"):
        parse_words("ab\na\x00b\ncd\n")
    with pytest.raises(DataError, match="NUL"):
        Vocabulary.from_words(["a\x00b"])
