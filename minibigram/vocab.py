"""The vocabulary: characters to token ids and back.

The second stage of the pipeline: every character of the words gets an integer
id, the boundary token :data:`BOUNDARY` id 0. Encoding a text is one table
lookup over its code points, so no Python loop runs per character.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .errors import DataError

#: The boundary token: it starts every word as a context and ends every word as a target.
BOUNDARY = "."


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array, shape ``(len(text),)``, no Python loop."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class Vocabulary:
    """The mapping between characters and token ids.

    ``"."`` (the boundary) is id 0; every other character seen in the data gets
    ids 1..V-1 in code-point order. Characters are Unicode code points, so any
    alphabet works, spaces inside names included.

    Parameters
    ----------
    chars : iterable of str
        The characters other than the boundary, each a single code point.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = sorted(set(chars) - {BOUNDARY})
        if any(len(c) != 1 for c in chars):
            raise DataError("every vocabulary entry must be a single character.")
        if chars and chars[0] == "\x00":   # numpy's fixed-width strings drop it: no model file
            raise DataError("the NUL character (U+0000) cannot be part of a word: remove it.")
        self.itos: list[str] = [BOUNDARY, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        # A lookup table from code point to id (-1: unknown); its last entry also
        # stands for every code point beyond the largest, so encoding is one gather.
        codes = code_points("".join(self.itos))             # (V,) id -> code point
        self._codes = codes
        # (4 bytes per code point up to the largest: 4.5 MB at most, for U+10FFFF.)
        self._lut = np.full(int(codes.max()) + 2, -1, dtype=np.int32)
        self._lut[codes] = np.arange(len(codes))

    @classmethod
    def from_words(cls, words: Sequence[str]) -> Vocabulary:
        """Build the vocabulary of every character in ``words``.

        Raises
        ------
        DataError
            If a word contains the boundary character (the message names the word and
            its position), or there are no words.
        """
        if len(words) == 0:
            raise DataError("there are no words to build a vocabulary from: "
                            "give at least one word.")
        text = "".join(words)
        if BOUNDARY in text:                               # rare: find the word to name it
            i, w = next((i, w) for i, w in enumerate(words, start=1) if BOUNDARY in w)
            raise DataError(f"word {i} ({w!r}) contains {BOUNDARY!r}, which is the boundary "
                            "token: remove or replace that character.")
        codes = code_points(text)                          # (L,)
        # The distinct code points, sorted: one bincount when they are all below 2**16
        # (a 512 KB table; any alphabet of the Basic Multilingual Plane), else a sort.
        small = codes.size == 0 or int(codes.max()) < 2**16
        present = np.flatnonzero(np.bincount(codes)) if small else np.unique(codes)   # (V-1,)
        return cls(present.astype(np.uint32).tobytes().decode("utf-32-le"))

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __hash__(self) -> int:
        return hash(tuple(self.itos))

    def __repr__(self) -> str:
        return f"Vocabulary({''.join(self.itos[1:])!r}, size={len(self)})"

    def encode(self, text: str) -> np.ndarray:
        """Token ids of every character of ``text`` (boundaries included), shape ``(len(text),)``.

        Raises
        ------
        DataError
            If a character is not in the vocabulary (the message names it).
        """
        codes = code_points(text)                                     # (L,)
        # mode="clip": a code point beyond the table reads its last entry, -1 (unknown)
        ids = np.take(self._lut, codes, mode="clip")                  # (L,) -1: unknown
        if ids.size and ids.min() < 0:
            ch = chr(int(codes[np.argmax(ids < 0)]))
            raise DataError(f"the character {ch!r} (U+{ord(ch):04X}) is not in the model's "
                            "vocabulary: remove it, or train on data that contains it.")
        return ids.astype(np.int64)

    def encode_text(self, text: str) -> np.ndarray:
        """The former name of :meth:`encode`, kept importable; use :meth:`encode`."""
        import warnings

        warnings.warn("Vocabulary.encode_text is now Vocabulary.encode", DeprecationWarning,
                      stacklevel=2)
        return self.encode(text)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the vocabulary, in order."""
        return [c for c in dict.fromkeys(text) if c not in self.stoi]

    def drop_unknown(self, text: str) -> str:
        """``text`` with every character that is not in the vocabulary removed."""
        return text.translate(dict.fromkeys(map(ord, self.unknown(text))))

    def decode(self, ids: Iterable[int]) -> str:
        """The characters of ``ids``; the boundary decodes to ``"."``."""
        return "".join(self.itos[int(i)] for i in ids)

    def decode_words(self, ids: np.ndarray) -> list[str]:
        """Split a stream of ids, each word followed by the boundary 0, into words.

        One table lookup turns all the ids into code points, one ``bytes.decode``
        turns those into a single string, and ``str.split`` cuts it at the
        boundaries (which no word contains): no Python loop per character.
        """
        codes = self._codes                                   # (V,) id -> code point
        ascii_ = codes.max() < 128
        text = codes.astype(np.uint8 if ascii_ else np.uint32)[np.asarray(ids)].tobytes()
        return text.decode("ascii" if ascii_ else "utf-32-le").split(BOUNDARY)[:-1]
