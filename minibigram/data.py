"""Words in, integer pairs out: loading, the vocabulary, bigram pairs and their counts.

This is the first stage of the pipeline::

    words -> Vocabulary -> pairs -> counts -> engine -> optimizer -> model -> sampler

Everything here is vectorized: a word list becomes one string, the string one array
of code points, and the array one array of token ids, so no Python loop runs per
character.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Union

import numpy as np

from .errors import DataError

#: The boundary token: it starts every word as a context and ends every word as a target.
BOUNDARY = "."

PathLike = Union[str, "os.PathLike[str]"]


def _default_names_text() -> str:
    return resources.files(__package__).joinpath("datasets/names.txt").read_text(encoding="utf-8")


def load_words(path: PathLike | None = None) -> list[str]:
    """Read one word per line.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A UTF-8 text file. ``None`` (the default) reads the embedded ``names.txt``:
        32,033 names from the makemore repository.

    Returns
    -------
    list of str
        The words in file order, each stripped of surrounding white space; blank
        lines are skipped. A UTF-8 byte-order mark and Windows line endings are
        read transparently.

    Raises
    ------
    DataError
        If the file cannot be read, is not UTF-8, holds no words, or a word
        contains the boundary character ``"."``.
    """
    if path is None:
        return parse_words(_default_names_text(), source="the embedded names.txt")
    source = os.fspath(path)
    if os.path.isdir(source):
        raise DataError(f"{source} is a folder, not a file: give the path of a text file "
                        "with one word per line.")
    try:
        with open(source, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{source} does not exist: check the path, or leave out --data "
                        "to use the embedded names.") from None
    except OSError as e:
        raise DataError(f"{source} cannot be read ({e.strerror}): check its permissions.") from None
    return parse_words(_decode_utf8(raw, source), source=source)


def _decode_utf8(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{source} is not UTF-8 text (undecodable byte at line {line}): "
                        "save it as UTF-8 and try again.") from None


def parse_words(text: str, source: str = "the input") -> list[str]:
    """Split text into words, one per line, skipping blank lines.

    Raises
    ------
    DataError
        If no word remains, or a word contains the boundary character (the message
        names the word and its line).
    """
    words = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        word = line.strip()
        if not word:
            continue
        if BOUNDARY in word:
            raise DataError(f"{source} line {lineno}: the word {word!r} contains {BOUNDARY!r}, "
                            "which is the boundary token: remove or replace that character.")
        words.append(word)
    if not words:
        raise DataError(f"{source} holds no words: give a file with one word per line.")
    return words


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of ``text`` as a uint32 array, with no Python loop."""
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
        self.itos: list[str] = [BOUNDARY, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        # Sorted code points and their ids: encoding is one np.searchsorted call.
        codes = _code_points("".join(self.itos))
        order = np.argsort(codes)
        self._codes = codes[order]
        self._ids = order.astype(np.int64)

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
        for i, w in enumerate(words, start=1):
            if BOUNDARY in w:
                raise DataError(f"word {i} ({w!r}) contains {BOUNDARY!r}, which is the boundary "
                                "token: remove or replace that character.")
        return cls(set("".join(words)))

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __hash__(self) -> int:
        return hash(tuple(self.itos))

    def __repr__(self) -> str:
        return f"Vocabulary({''.join(self.itos[1:])!r}, size={len(self)})"

    def encode_text(self, text: str) -> np.ndarray:
        """Token ids of every character of ``text`` (boundaries included), shape ``(len(text),)``.

        Raises
        ------
        DataError
            If a character is not in the vocabulary (the message names it).
        """
        codes = _code_points(text)
        pos = np.searchsorted(self._codes, codes)
        pos = np.minimum(pos, len(self._codes) - 1)
        known = self._codes[pos] == codes
        if not known.all():
            ch = chr(int(codes[np.argmin(known)]))
            raise DataError(f"the character {ch!r} (U+{ord(ch):04X}) is not in the model's "
                            "vocabulary: remove it, or train on data that contains it.")
        return self._ids[pos]

    def encode(self, word: str) -> np.ndarray:
        """Token ids of ``word``, without boundary tokens. Shape ``(len(word),)``."""
        return self.encode_text(word)

    def decode(self, ids: Iterable[int]) -> str:
        """The characters of ``ids``; the boundary decodes to ``"."``."""
        return "".join(self.itos[int(i)] for i in ids)


def bigrams(words: Sequence[str], vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Every (previous character, next character) pair of every word.

    Each word ``w`` is read as ``"." + w + "."``, which gives ``len(w) + 1`` pairs:
    the first predicts ``w[0]`` from the boundary, the last predicts the boundary
    (the end of the word) from ``w[-1]``.

    Parameters
    ----------
    words : sequence of str
    vocab : Vocabulary

    Returns
    -------
    xs, ys : ndarray of int64, shape (n,)
        Context ids and target ids, ``n = sum(len(w) + 1 for w in words)``.

    Notes
    -----
    Joining the words with single boundaries, ``".emma.olivia."``, and taking each
    adjacent pair of that one string yields exactly these pairs: the boundary after
    ``emma`` is both the target that ends it and the context that starts ``olivia``.
    """
    ids = vocab.encode_text(BOUNDARY + BOUNDARY.join(words) + BOUNDARY)
    return ids[:-1], ids[1:]


def bigram_counts(xs: np.ndarray, ys: np.ndarray, V: int,
                  weights: np.ndarray | None = None) -> np.ndarray:
    """The count matrix ``N[i, j]``: how often (or with what total weight) ``j`` follows ``i``.

    Parameters
    ----------
    xs, ys : ndarray of int, shape (n,)
    V : int
        Vocabulary size.
    weights : ndarray, shape (n,), optional
        A weight per pair; ``None`` counts each pair once.

    Returns
    -------
    N : ndarray, shape (V, V)
        int64 without weights, float64 with them.
    """
    flat = np.bincount(np.asarray(xs) * V + np.asarray(ys), weights=weights, minlength=V * V)
    return flat.reshape(V, V)
