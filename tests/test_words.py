"""Tests of minibigram.words."""

from __future__ import annotations

import pytest
from conftest import PROPS
from hypothesis import given
from hypothesis import strategies as st

import minibigram as mb
from minibigram import DataError, Vocabulary, load_words
from minibigram.words import parse_split, parse_words, split_words


def test_embedded_names(names):
    assert len(names) == 32033
    assert names[:3] == ["emma", "olivia", "ava"]
    assert all(w.isalpha() and w.islower() for w in names)


def test_blank_lines_skipped_and_whitespace_stripped():
    assert parse_words("\n ann \r\n\nbob\n  \n") == ["ann", "bob"]


@PROPS
@given(st.text(st.sampled_from(["a", "b", "\n", "\r", " ", "\t", "\x1f", "\x0b", "\x1c",
                                "\xa0", "\u3000", "\u2028", "é"]), max_size=30))
def test_words_are_the_stripped_lines_that_are_not_blank(text):
    """Whichever way parse_words goes (ASCII with nothing to strip, or not), the words are
    every line of str.splitlines stripped by str.strip, blank ones left out."""
    expected = [w.strip() for w in text.splitlines() if w.strip()]
    if expected:
        assert parse_words(text) == expected
    else:
        with pytest.raises(DataError):
            parse_words(text)


def test_load_words_from_file(tmp_path):
    p = tmp_path / "w.txt"
    p.write_bytes("\ufeffanna\r\nbob\r\n".encode())
    assert load_words(p) == ["anna", "bob"]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "byte-order mark"])
def test_undecodable_bytes_name_their_line(tmp_path, bom):
    p = tmp_path / "w.txt"
    p.write_bytes(bom + b"ab\ncd\n\xffx\n")
    with pytest.raises(DataError, match=r"undecodable byte at line 3\)"):
        load_words(p)


def test_nul_is_refused_not_lost():
    """numpy's fixed-width strings drop NUL, so a model file could not hold it."""
    with pytest.raises(DataError, match=r"line 2 holds a NUL character"):
        parse_words("ab\na\x00b\ncd\n")
    with pytest.raises(DataError, match="NUL"):
        Vocabulary.from_words(["a\x00b"])


def test_split_is_a_seeded_partition(names):
    a = split_words(names, parse_split("80/10/10"), seed=7)
    assert [len(p) for p in a] == [25626, 3203, 3204]
    assert sorted(a[0] + a[1] + a[2]) == sorted(names)
    assert a == split_words(names, (0.8, 0.1, 0.1), seed=7)
    assert a[0] != split_words(names, (0.8, 0.1, 0.1), seed=8)[0]


@pytest.mark.parametrize("text,sizes", [("80/10/10", (80, 10, 10)), ("58/21/21", (58, 21, 21)),
                                        ("29/31/40", (29, 31, 40)), ("70/20/10", (70, 20, 10)),
                                        ("57/43/0", (57, 43, 0))])
def test_split_sizes_are_not_lost_to_float_noise(text, sizes):
    parts = split_words([f"w{i}" for i in range(100)], parse_split(text), seed=0)
    assert tuple(map(len, parts)) == sizes


@pytest.mark.parametrize("fractions, hint", [
    ((80, 10, 10), "percentages? divide them by 100"), ((0.5, 0.5, 0.5), "sum to 1"),
    ((0.9, 0.2, -0.1), ">= 0"), ((0, 0.5, 0.5), "train > 0"), ((0.5, 0.5), "three numbers"),
])
def test_split_fractions_are_checked(fractions, hint):
    with pytest.raises(mb.DataError, match="the split fractions .* are not .*"):
        mb.split_words(["a"] * 10, fractions)
    try:
        mb.split_words(["a"] * 10, fractions)
    except mb.DataError as e:
        assert hint in str(e) and repr(tuple(fractions)) in str(e)


@pytest.mark.parametrize("annas", [0, 200, (1 << 20) // 5], ids=["one word", "1 KB", "1 MiB+"])
def test_the_recorded_sha256_is_hashlibs(annas, tmp_path):
    """Small data is hashed by CPython's own module (no OpenSSL to load), large by hashlib's:
    the digest is the same, whichever does it."""
    import hashlib

    text = "anna\n" * annas + "bob\n"
    path = tmp_path / "w.txt"
    path.write_text(text)
    expected = hashlib.sha256(text.encode()).hexdigest()
    assert load_words(path).sha256 == expected
    assert mb.words.file_sha256(path) == expected
    assert mb.words.data_record(text.split())["sha256"] == expected

