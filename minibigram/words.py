"""Words: the first stage. Read them, check them, split them.

A word is one line of a UTF-8 text file, stripped of surrounding white space;
blank lines are skipped. A word may hold any character but a line break (``"."``
included): the boundary between words is the line break, not a character.
Everything downstream (the vocabulary, the examples, the counts) starts from a
list of words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Union

import numpy as np

from .errors import DataError, FileAccessError, check_seed, check_words, read_error

PathLike = Union[str, "os.PathLike[str]"]


def _default_names_text() -> str:
    # A plain path beside this module: importlib.resources would cost the CLI ~20 ms of imports.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets", "names.txt")
    with open(path, encoding="utf-8") as f:
        return f.read()


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
    FileAccessError
        If the path does not exist, is a folder, or cannot be read (an ``OSError``).
    DataError
        If the file is not UTF-8, holds no words, or holds a NUL character.
    """
    if path is None:
        return parse_words(_default_names_text(), source="the embedded names.txt")
    source = os.fspath(path)
    if os.path.isdir(source):
        raise FileAccessError(f"{source} is a folder, not a file: give the path of a text "
                              "file with one word per line.")
    try:
        with open(source, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise read_error(source, e, "check the path, or give no path to use the embedded "
                                    "names") from None
    return parse_words(decode_utf8(raw, source), source=source)


def decode_utf8(raw: bytes, source: str) -> str:
    """``raw`` as text; a UTF-8 byte-order mark is dropped.

    Raises
    ------
    DataError
        If it is not UTF-8, naming ``source`` and the line of the first bad byte.
    """
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
        If no word remains, or the text holds a NUL character (the message names its
        line).
    """
    lines = text.splitlines()
    if "\x00" in text:
        lineno = text[: text.index("\x00")].count("\n") + 1
        raise DataError(f"{source} line {lineno} holds a NUL character (U+0000), which is not "
                        "text: give a text file with one word per line.")
    words = [word for word in map(str.strip, lines) if word]
    if not words:
        if not text:
            raise DataError(f"{source} is empty: give a file with one word per line.")
        raise DataError(f"{source} holds only blank lines: give a file with one word per line.")
    return words


def training_words(words: Sequence[str] | None) -> list[str]:
    """The words to train on: ``None`` means the embedded names; none at all is an error."""
    if words is None:
        return load_words()
    words = check_words(words)
    if not words:
        raise DataError("there are no words to train on: give at least one word.")
    return words


def parse_split(text: str) -> tuple[float, float, float]:
    """Read ``"80/10/10"`` (train/dev/test percentages) as fractions summing to 1.

    Raises
    ------
    DataError
        Unless it is three non-negative numbers summing to 100, with train > 0.
    """
    try:
        pct = [float(p) for p in text.split("/")]
        return check_fractions([p / 100 for p in pct])
    except (ValueError, DataError):
        raise DataError(f"the split {text!r} is not train/dev/test percentages: write three "
                        "numbers that sum to 100, such as 80/10/10.") from None


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Train/dev/test fractions as three floats, if they are >= 0, sum to 1 and train > 0.

    Raises
    ------
    DataError
        Naming what was given (percentages such as (80, 10, 10) are pointed to /100).
    """
    try:
        f = tuple(float(x) for x in fractions)
    except (TypeError, ValueError):
        f = ()
    if (len(f) != 3 or not all(np.isfinite(x) and x >= 0 for x in f) or f[0] <= 0
            or abs(sum(f) - 1) > 1e-9):
        hint = (" (percentages? divide them by 100)" if len(f) == 3 and abs(sum(f) - 100) < 1e-6
                else "")
        raise DataError(f"the split fractions {tuple(fractions)!r} are not three numbers >= 0 "
                        f"with train > 0 that sum to 1{hint}: give e.g. (0.8, 0.1, 0.1).")
    return f[0], f[1], f[2]


def split_words(words: Sequence[str], fractions: Sequence[float] = (0.8, 0.1, 0.1),
                seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """A random split of the words into train, dev and test sets.

    The words are shuffled by ``np.random.default_rng(seed).permutation``; the
    first ``int(f_train * n)`` go to train, up to ``int((f_train + f_dev) * n)`` to
    dev, and the rest to test (as makemore's ``n1 = int(0.8*n); n2 = int(0.9*n)``).

    Parameters
    ----------
    words : sequence of str
    fractions : three numbers >= 0 summing to 1, train > 0
    seed : int

    Returns
    -------
    train, dev, test : list of str

    Raises
    ------
    DataError
        If ``words`` is a single string or ``fractions`` are not as above.
    """
    words = check_words(words)
    fractions = check_fractions(fractions)
    seed = check_seed(seed)
    n = len(words)
    order = np.random.default_rng(seed).permutation(n)      # (n,)
    # The products are rounded before int(), so that float noise (0.58 * 100 =
    # 57.99999999999999, (0.7 + 0.2) * 100 = 89.99999999999999) does not lose a word.
    n1 = int(round(fractions[0] * n, 9))
    n2 = int(round((fractions[0] + fractions[1]) * n, 9))
    if n1 == 0:
        raise DataError(f"a {100 * fractions[0]:g}% share of {n} words leaves no training "
                        "words: give more words or a larger train share.")
    parts = np.split(order, [n1, n2])
    return tuple([words[i] for i in p] for p in parts)  # type: ignore[return-value]
