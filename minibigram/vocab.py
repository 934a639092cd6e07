"""The vocabulary: characters to token ids and back.

The second stage of the pipeline: every character of the words gets an integer
id, the boundary token id 0. Encoding a text is one table lookup over its code
points, so no Python loop runs per character.

**The boundary is not a character of the data.** A word is a line of text, so it
may hold any character but a line break, ``"."`` included; the boundary between
words is the line break itself. Its text form is :data:`BOUNDARY_TEXT` (``"\\n"``):
``"\\n".join(words)`` is the text of many words, and :meth:`Vocabulary.encode`
maps every line break (:data:`LINE_BREAKS`, those of ``str.splitlines``) to id 0.

The notebook *shows* the boundary as ``"."``, and so does minibigram: ``itos[0]``,
the boundary's display symbol, is :data:`BOUNDARY` (``"."``) whenever the data has
no ``"."``. When it has one, ``"."`` is an ordinary character with its own id and
the boundary is shown by the first of :data:`BOUNDARY_SYMBOLS` the data does not
contain: ``"⏎"`` (U+23CE RETURN SYMBOL), then ``"↵"``, ``"¶"``, then the first
private-use code point from U+E000 the data does not contain. So ``itos[0]`` is
never a character of the data, and ``itos`` alone says which symbol shows the
boundary (see ``docs/boundary.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

from .errors import DataError, join_words, word_list

#: How the notebook shows the boundary token (id 0): ``vocab.itos[0]`` unless the data has ``"."``.
BOUNDARY = "."
#: The boundary's display symbols, in order of preference: the first the data lacks is ``itos[0]``.
BOUNDARY_SYMBOLS = (BOUNDARY, "\u23ce", "\u21b5", "\u00b6")
#: The boundary's text form: words are lines, so ``BOUNDARY_TEXT.join(words)`` is their text.
BOUNDARY_TEXT = "\n"
#: The code point of :data:`BOUNDARY_TEXT`, the line feed: a text of words' boundary.
BOUNDARY_CODE = ord(BOUNDARY_TEXT)
#: Every character ``str.splitlines`` breaks lines at: none is part of a word, all encode to 0.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def code_points(text: str) -> np.ndarray:
    """The code points of ``text``, shape ``(len(text),)``, no Python loop.

    uint8 when ``text`` is ASCII (a quarter of the memory, and what a table of
    character pairs needs), else uint32.
    """
    if text.isascii():   # (free: Python knows it of every str)
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def text_of(codes: np.ndarray) -> str:
    """The text of code points: the inverse of :func:`code_points`, no Python loop."""
    if codes.size == 0 or codes.max() < 128:   # ASCII: a codec built into Python
        return codes.astype(np.uint8, copy=False).tobytes().decode("ascii")
    return codes.astype(np.uint32, copy=False).tobytes().decode("utf-32-le")


def joined_codes(words: list[str]) -> np.ndarray:
    """The code points of ``"\\n" + "\\n".join(words) + "\\n"``: every word between boundaries.

    The one text a list of words is read as (``".w1.w2."`` as the notebook shows it),
    made by one ``str.join``, which also checks that every word is a str.

    Raises
    ------
    DataError
        If a word is not a str.
    """
    B = BOUNDARY_TEXT
    return code_points(B + join_words(words, B) + B)         # (L,) L = len(words) + 1 + chars


def boundary_symbol(chars: Iterable[str]) -> str:
    """The symbol that shows the boundary beside ``chars``: the first of
    :data:`BOUNDARY_SYMBOLS` (``"."`` first) not among them, else the first private-use
    code point from U+E000 not among them."""
    taken = set(chars)
    # lazily: the private-use candidates are looked at only if all four are taken
    return next(s for s in chain(BOUNDARY_SYMBOLS, map(chr, range(0xE000, 0xF900)))
                if s not in taken)


class Vocabulary:
    """The mapping between characters and token ids.

    The boundary is id 0; every character seen in the data gets ids 1..V-1 in
    code-point order. Characters are Unicode code points, so any alphabet works,
    spaces and ``"."`` inside words included; only line breaks cannot be part of a
    word (a word is a line).

    ``itos[0]`` is the boundary's display symbol: ``"."`` (:data:`BOUNDARY`), as in the
    notebook, unless ``"."`` is one of the characters; then ``"⏎"`` (see
    :func:`boundary_symbol`). ``stoi`` is the inverse of ``itos``, so ``stoi[itos[0]]``
    is 0 (the notebook's ``stoi['.'] = 0``).

    Parameters
    ----------
    chars : iterable of str
        The characters of the words, each a single code point, none a line break.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = sorted(set(chars))
        if any(len(c) != 1 for c in chars):
            raise DataError("every vocabulary entry must be a single character.")
        if chars and chars[0] == "\x00":   # numpy's fixed-width strings drop it: no model file
            raise DataError("the NUL character (U+0000) cannot be part of a word: remove it.")
        breaks = [c for c in chars if c in LINE_BREAKS]
        if breaks:
            raise DataError(f"the line break {breaks[0]!r} cannot be part of a word (a word is "
                            "one line): split the text into lines first.")
        self.itos: list[str] = [boundary_symbol(chars), *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        # A lookup table from code point to id (-1: unknown); its last entry also
        # stands for every code point beyond the largest, so encoding is one gather.
        codes = code_points("".join(self.itos))             # (V,) id -> code point
        breaks_cp = np.array([ord(c) for c in LINE_BREAKS])  # (10,) (no codec module needed)
        # id -> code point of its text form: the boundary is written as a line break
        self._text_codes = np.concatenate((code_points(BOUNDARY_TEXT), codes[1:]))   # (V,)
        # (4 bytes per code point up to the largest: 4.5 MB at most, for U+10FFFF.)
        self._lut = np.full(int(max(codes.max(), breaks_cp.max())) + 2, -1, dtype=np.int32)
        self._lut[codes] = np.arange(len(codes))
        self._lut[breaks_cp] = 0
        self._known = dict.fromkeys(map(ord, chars))   # str.translate deletes these

    @classmethod
    def from_words(cls, words: Sequence[str]) -> Vocabulary:
        """Build the vocabulary of every character in ``words``.

        Raises
        ------
        DataError
            If a word contains a line break (the message names the word and its
            position), or there are no words.
        """
        words = word_list(words)   # each checked to be a str as they are joined, below
        if len(words) == 0:
            raise DataError("there are no words to build a vocabulary from: "
                            "give at least one word.")
        return cls.from_codes(joined_codes(words), words)

    @classmethod
    def from_codes(cls, codes: np.ndarray, words: Sequence[str]) -> Vocabulary:
        """The vocabulary of ``codes = joined_codes(words)``, which it trusts to be that.

        :meth:`from_words` without the checks of ``words``, for a caller that has
        checked them and joined them once already (training does).

        Raises
        ------
        DataError
            If a word contains a line break (the message names the word).
        """
        # Each distinct code point and the number of line feeds: one bincount when they are
        # all below 2**16 (a 512 KB table; any alphabet of the Basic Multilingual Plane),
        # else a sort.
        if int(codes.max()) < 2**16:
            freq = np.bincount(codes)                              # (max + 1,) by code point
            present = np.flatnonzero(freq)                         # (D,) sorted
            line_feeds = int(freq[BOUNDARY_CODE])
        else:
            present, freq = np.unique(codes, return_counts=True)   # (D,), (D,)
            line_feeds = int(freq[np.searchsorted(present, BOUNDARY_CODE)])
        return cls.from_present(present, line_feeds, words)

    @classmethod
    def from_present(cls, present: np.ndarray, line_feeds: int,
                     words: Sequence[str]) -> Vocabulary:
        """The vocabulary of ``joined_codes(words)``, from its distinct code points (sorted)
        and its number of line feeds, which it trusts.

        Raises
        ------
        DataError
            If a word contains a line break (the message names the word).
        """
        chars = text_of(present)
        # joined_codes put len(words) + 1 line feeds around the words: any other line
        # break, or one line feed more, is inside a word
        if (line_feeds != len(words) + 1
                or not set(chars.replace(BOUNDARY_TEXT, "")).isdisjoint(LINE_BREAKS)):
            i, w = next((i, w) for i, w in enumerate(words, start=1)
                        if not set(w).isdisjoint(LINE_BREAKS))   # rare: find it to name it
            raise DataError(f"word {i} ({w!r}) contains a line break, which ends a word: "
                            "give one word per line.")
        return cls(chars.replace(BOUNDARY_TEXT, ""))

    @property
    def boundary(self) -> str:
        """The boundary's display symbol, ``itos[0]``: ``"."`` unless the data has ``"."``."""
        return self.itos[0]

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __hash__(self) -> int:
        return hash(tuple(self.itos))

    def __repr__(self) -> str:
        shown = "" if self.itos[0] == BOUNDARY else f", boundary={self.itos[0]!r}"
        return f"Vocabulary({''.join(self.itos[1:])!r}, size={len(self)}{shown})"

    def encode(self, text: str) -> np.ndarray:
        """Token ids of every character of ``text`` (boundaries included), shape ``(len(text),)``.

        Every line break, and the boundary's display symbol ``itos[0]`` (``"."`` for
        the names, as in the notebook), encode to the boundary 0.

        Raises
        ------
        DataError
            If a character is not in the vocabulary (the message names it).
        """
        return self.lookup(code_points(text))

    def lookup(self, codes: np.ndarray, unknown: int | None = None) -> np.ndarray:
        """Token ids of code points (:func:`code_points`, :func:`joined_codes`), shape (L,), int64.

        Every line break, and the boundary's display symbol ``itos[0]``, is id 0. A code
        point outside the vocabulary is the id ``unknown`` when one is given (a model's
        ``<unk>``), else an error.

        Raises
        ------
        DataError
            If a code point is not in the vocabulary and ``unknown`` is None (the message
            names its character).
        """
        # mode="clip": a code point beyond the table reads its last entry, -1 (unknown)
        ids = np.take(self._lut, codes, mode="clip")                  # (L,) -1: unknown
        if unknown is not None:
            return np.where(ids < 0, unknown, ids).astype(np.int64)   # (L,)
        if ids.size and ids.min() < 0:
            ch = chr(int(codes[np.argmax(ids < 0)]))
            raise DataError(f"the character {ch!r} (U+{ord(ch):04X}) is not in the model's "
                            "vocabulary: remove it, or train on data that contains it.")
        return ids.astype(np.int64)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not characters of the vocabulary, in order.

        Line breaks and the boundary's display symbol ``itos[0]`` are not characters of
        any word, so they are unknown too.
        """
        if text.isascii():   # drop the known characters first: translate is fast on ASCII
            text = text.translate(self._known)
        return [c for c in dict.fromkeys(text) if not self.stoi.get(c, 0)]

    def drop_unknown(self, text: str) -> str:
        """``text`` with every character that is not in the vocabulary removed."""
        return text.translate(dict.fromkeys(map(ord, self.unknown(text))))

    def decode(self, ids: Iterable[int]) -> str:
        """The characters of ``ids`` for display; the boundary decodes to ``itos[0]``."""
        return "".join(self.itos[int(i)] for i in ids)

    def decode_words(self, ids: np.ndarray) -> list[str]:
        """Split a stream of ids, each word followed by the boundary 0, into words.

        One table lookup turns all the ids into code points (the boundary into a line
        break), one ``bytes.decode`` turns those into a single string, and
        ``str.split`` cuts it at the line breaks (which no word contains): no Python
        loop per character.
        """
        codes = self._text_codes[np.asarray(ids)]            # (L,) id -> code point
        return text_of(codes).split(BOUNDARY_TEXT)[:-1]
