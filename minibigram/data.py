"""Words in, integer pairs out: loading, the vocabulary, bigram pairs and their counts.

This is the first stage of the pipeline::

    words -> Vocabulary -> pairs -> counts -> engine -> optimizer -> model -> sampler

Everything here is vectorized: a word list becomes one string, the string one array
of code points, and the array one array of token ids, so no Python loop runs per
character.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Union

import numpy as np

from .errors import DataError, FileAccessError, SettingsError

#: The boundary token: it starts every word as a context and ends every word as a target.
BOUNDARY = "."

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
        If the file is not UTF-8, holds no words, or a word contains the boundary
        character ``"."``.
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
    except FileNotFoundError:
        raise FileAccessError(f"{source} does not exist: check the path, or leave out --data "
                              "to use the embedded names.") from None
    except OSError as e:
        raise FileAccessError(f"{source} cannot be read ({e.strerror}): check that it is a "
                              "file you are allowed to read.") from None
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
    lines = text.splitlines()
    if BOUNDARY in text:                                   # rare: find the line to name it
        for lineno, line in enumerate(lines, start=1):
            if BOUNDARY in line:
                raise DataError(f"{source} line {lineno}: the word {line.strip()!r} contains "
                                f"{BOUNDARY!r}, which is the boundary token: remove or replace "
                                "that character.")
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
    words = list(words)
    if not words:
        raise DataError("there are no words to train on: give at least one word.")
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
        if chars and chars[0] == "\x00":   # numpy's fixed-width strings drop it: no model file
            raise DataError("the NUL character (U+0000) cannot be part of a word: remove it.")
        self.itos: list[str] = [BOUNDARY, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        # A lookup table from code point to id (-1: unknown); its last entry also
        # stands for every code point beyond the largest, so encoding is one gather.
        codes = _code_points("".join(self.itos))             # (V,) id -> code point
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
        ids = self._lut[np.minimum(codes, len(self._lut) - 1)]
        if (ids < 0).any():
            ch = chr(int(codes[np.argmax(ids < 0)]))
            raise DataError(f"the character {ch!r} (U+{ord(ch):04X}) is not in the model's "
                            "vocabulary: remove it, or train on data that contains it.")
        return ids.astype(np.int64)

    def encode(self, word: str) -> np.ndarray:
        """Token ids of ``word``, without boundary tokens. Shape ``(len(word),)``."""
        return self.encode_text(word)

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


def scorable_words(words: Sequence[str], vocab: Vocabulary,
                   skip_unknown: bool = False) -> list[str]:
    """The words a model can score: refuse, or with ``skip_unknown`` remove, what it cannot.

    A character outside ``vocab`` has no row in the model, and a ``"."`` inside a
    word would silently split it in two.

    Raises
    ------
    DataError
        Without ``skip_unknown``, naming the first such word and its characters.
    """
    if skip_unknown:
        return [vocab.drop_unknown(w).replace(BOUNDARY, "") for w in words]
    text = "".join(words)
    if BOUNDARY not in text and not vocab.unknown(text):   # the usual case: one pass
        return list(words)
    w = next(w for w in words if BOUNDARY in w or vocab.unknown(w))
    if BOUNDARY in w:
        raise DataError(f"the word {w!r} contains {BOUNDARY!r}, which is the boundary token "
                        "and cannot be part of a word: remove it, or leave it out with "
                        "--skip-unknown (skip_unknown=True).")
    chars = vocab.unknown(w)
    named = " and ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)
    which, it = ("which is", "it") if len(chars) == 1 else ("which are", "them")
    raise DataError(f"the word {w!r} contains {named}, {which} not in the model's vocabulary: "
                    f"leave {it} out with --skip-unknown (skip_unknown=True), or train on data "
                    f"that contains {it}.")


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
    if len(words) == 0:   # no words, no pairs (the string "." + "" + "." would give one)
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids = vocab.encode_text(BOUNDARY + BOUNDARY.join(words) + BOUNDARY)
    return ids[:-1], ids[1:]


def bigram_counts(xs: np.ndarray, ys: np.ndarray, V: int,
                  weights: np.ndarray | None = None, rows: int | None = None) -> np.ndarray:
    """The count matrix ``N[i, j]``: how often (or with what total weight) ``j`` follows ``i``.

    Parameters
    ----------
    xs, ys : ndarray of int, shape (n,)
    V : int
        Vocabulary size.
    weights : ndarray, shape (n,), optional
        A weight per pair; ``None`` counts each pair once.
    rows : int, optional
        Number of distinct contexts ``C`` when ``xs`` are context ids rather than
        characters (n-gram models); default ``V``.

    Returns
    -------
    N : ndarray, shape (V, V), or (rows, V)
        int64 without weights, float64 with them.
    """
    C = V if rows is None else rows
    flat = np.bincount(np.asarray(xs) * V + np.asarray(ys), weights=weights, minlength=C * V)
    return flat.reshape(C, V)


class BigramCounts:
    """Bigram counts with the vocabulary they are indexed by: the sufficient statistics.

    The full-batch loss depends on the data only through ``N``, so a ``BigramCounts``
    is all that training with the ``"counts"`` engine or the Newton solver needs
    (``BigramModel.fit(counts=...)``).

    Parameters
    ----------
    N : ndarray, shape (V, V)
        ``N[i, j]``: how often ``vocab.itos[j]`` follows ``vocab.itos[i]``.
    vocab : Vocabulary

    Notes
    -----
    Counts add: the counts of two shards of a corpus, ``a + b``, are the counts of
    their concatenation (a word never spans two shards). ``+`` merges two
    vocabularies into their union first, so shards counted separately with
    ``vocab=None`` add up too.
    """

    def __init__(self, N: np.ndarray, vocab: Vocabulary) -> None:
        N = np.asarray(N)
        if N.shape != (len(vocab), len(vocab)):
            raise DataError(f"the count matrix has shape {N.shape} but the vocabulary has "
                            f"{len(vocab)} characters: they do not belong together.")
        self.N = N
        self.vocab = vocab

    @property
    def num_examples(self) -> int:
        """The number of (context, target) pairs counted, ``N.sum()``."""
        return int(self.N.sum())

    def reindex(self, vocab: Vocabulary) -> BigramCounts:
        """The same counts indexed by a larger ``vocab`` (one that holds every character)."""
        missing = set(self.vocab.itos) - set(vocab.stoi)
        if missing:
            raise DataError(f"the vocabulary lacks {''.join(sorted(missing))!r}, which the "
                            "counts hold: use a vocabulary with every counted character.")
        ids = np.array([vocab.stoi[c] for c in self.vocab.itos])   # (V_old,) once per char
        N = np.zeros((len(vocab), len(vocab)), dtype=self.N.dtype)
        N[np.ix_(ids, ids)] = self.N
        return BigramCounts(N, vocab)

    def __add__(self, other: BigramCounts) -> BigramCounts:
        if not isinstance(other, BigramCounts):
            return NotImplemented
        vocab = (self.vocab if self.vocab == other.vocab
                 else Vocabulary(self.vocab.itos[1:] + other.vocab.itos[1:]))
        return BigramCounts(self.reindex(vocab).N + other.reindex(vocab).N, vocab)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BigramCounts) and self.vocab == other.vocab
                and np.array_equal(self.N, other.N))

    __hash__ = None  # type: ignore[assignment]  # mutable array inside

    def __repr__(self) -> str:
        return f"BigramCounts({self.num_examples} pairs, {self.vocab!r})"


# Line breaks as str.splitlines sees them, and the other white space str.strip removes.
_LINE_BREAKS = np.array([ord(c) for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"])
_SPACES = np.array([ord(c) for c in "\t\x1f \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                    "\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"])
_ASCII_SPACES = b" \t\x1f"
_NO_SLOT = -1


class _StreamCounter:
    """Counts bigrams over parts of a text that each end with a line break.

    Characters get "slots" in order of discovery (slot 0 is the boundary); a dense
    table maps every code point to its slot, so mapping a part is one gather.
    Plain ASCII parts skip even that: their byte pairs are counted and mapped to
    slots once, at the end.
    The (S, S) matrix ``K`` is counted in slot order and reordered into the
    vocabulary's order at the end.
    """

    def __init__(self, vocab: Vocabulary | None, source: str) -> None:
        self.source = source
        self.fixed = vocab is not None
        self.slot = np.full(0x110000, _NO_SLOT, dtype=np.int64)    # code point -> slot
        self.slot[_LINE_BREAKS] = 0
        chars = vocab.itos[1:] if vocab is not None else []
        self.codes = [ord(c) for c in chars]                       # slot s+1 -> code point
        self.slot[self.codes] = np.arange(1, len(chars) + 1)
        self.K = np.zeros((len(chars) + 1,) * 2, dtype=np.int64)
        self.is_break = np.zeros(0x110000, dtype=bool)
        self.is_break[_LINE_BREAKS] = True
        self.is_space = np.zeros(0x110000, dtype=bool)
        self.is_space[_SPACES] = True
        self.byte_pairs = np.zeros(1 << 16, dtype=np.int64)   # [next byte * 256 + prev byte]
        self.lines_before = 0

    def _error_line(self, part: bytes, offset: int) -> int:
        return self.lines_before + part[:offset].count(b"\n") + 1

    def add(self, part: bytes) -> None:
        """Count one part: whole lines of UTF-8, ending with a line break."""
        if b"." in part:
            line = self._error_line(part, part.index(b"."))
            raise DataError(f"{self.source} line {line}: a word contains '.', which is the "
                            "boundary token: remove or replace that character.")
        if part.isascii() and not any(b in part for b in _ASCII_SPACES):
            self._add_plain_ascii(part)
            return
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{self.source} is not UTF-8 text (undecodable byte at line "
                            f"{self._error_line(part, e.start)}): save it as UTF-8 and "
                            "try again.") from None
        codes = self._strip_lines(_code_points(text))
        ids = np.concatenate(([0], self._slots(codes)))       # (L+1,) 0 at every line break
        z = ids == 0                                           # blank lines: one boundary
        ids = ids[np.concatenate(([True], ~(z[1:] & z[:-1])))]
        S = len(self.K)
        flat = ids[:-1] * S                                    # (L,) pair (i, j) -> i*S + j
        flat += ids[1:]
        self.K += np.bincount(flat, minlength=S * S).reshape(S, S)
        self.lines_before += part.count(b"\n")

    def _add_plain_ascii(self, part: bytes) -> None:
        """The fast path: ASCII without spaces. Count byte pairs; map them to ids at the end.

        Read as little-endian uint16, the bytes ``data[2k], data[2k+1]`` are the number
        ``data[2k] + 256 * data[2k+1]``: one bincount over that view, and one over the
        view shifted by a byte, count every adjacent pair with no arithmetic at all.
        """
        data = b"\n" + part                                   # the previous part ended a line
        L = len(data)
        for offset in (0, 1):
            pairs = np.frombuffer(data, dtype=np.uint16, count=(L - offset) // 2, offset=offset)
            self.byte_pairs += np.bincount(pairs, minlength=1 << 16)
        self.lines_before += int(np.count_nonzero(np.frombuffer(part, dtype=np.uint8) == 10))

    def _strip_lines(self, codes: np.ndarray) -> np.ndarray:
        """Drop white space at the start and end of each line (str.strip), vectorized."""
        br = self.is_break[codes]
        sp = self.is_space[codes]
        if not sp.any():
            return codes
        L = len(codes)
        pos = np.arange(L)
        prev = np.maximum.accumulate(np.where(sp, -1, pos))    # last non-space at or before
        nxt = np.minimum.accumulate(np.where(sp, L, pos)[::-1])[::-1]   # first at or after
        leading = (prev < 0) | br[np.maximum(prev, 0)]
        trailing = (nxt == L) | br[np.minimum(nxt, L - 1)]
        return codes[~(sp & (leading | trailing))]

    def _slots(self, codes: np.ndarray) -> np.ndarray:
        ids = self.slot[codes]
        unknown = ids == _NO_SLOT
        if unknown.any():
            new = np.unique(codes[unknown])
            if self.fixed:
                ch = chr(int(new[0]))
                raise DataError(f"{self.source}: the character {ch!r} (U+{ord(ch):04X}) is "
                                "not in the given vocabulary: remove it, or pass vocab=None "
                                "to discover the alphabet.")
            S = len(self.K)
            self.slot[new] = np.arange(S, S + len(new))
            self.codes.extend(int(c) for c in new)
            self.K = np.pad(self.K, (0, len(new)))
            ids = self.slot[codes]
        return ids

    def result(self) -> BigramCounts:
        # Fold the byte-pair table of the fast path into K, then drop boundary -> boundary
        # pairs (blank lines and "\r\n"), which the general path never counts.
        pairs = self.byte_pairs.reshape(256, 256).T[:128, :128]   # [prev byte, next byte]
        seen = np.flatnonzero(pairs.sum(axis=0) + pairs.sum(axis=1))
        if len(seen):
            ids = self._slots(seen)
            K = np.zeros_like(self.K)
            np.add.at(K, (ids[:, None], ids[None, :]), pairs[np.ix_(seen, seen)])
            self.K += K
        self.K[0, 0] = 0
        vocab = Vocabulary(chr(c) for c in self.codes)
        order = np.array([0] + [vocab.stoi[chr(c)] for c in self.codes])   # slot -> id
        N = np.zeros_like(self.K)
        N[np.ix_(order, order)] = self.K
        return BigramCounts(N, vocab)


def _byte_parts(f: Any, chunk_bytes: int) -> Iterator[bytes]:
    """Read a binary stream in chunks; yield parts that end with a whole line.

    Cutting after the last ``b"\\n"`` of each chunk keeps every word, and every
    multi-byte UTF-8 character (whose bytes are all >= 0x80), whole.
    """
    carry = f.read(3)
    if carry == b"\xef\xbb\xbf":                              # UTF-8 byte-order mark
        carry = b""
    while True:
        chunk = f.read(chunk_bytes)
        if not chunk:
            break
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"\n") + 1
        if cut:
            yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry + b"\n"


def _line_parts(lines: Iterable[str], chunk_bytes: int) -> Iterator[bytes]:
    """Join lines (of str) into parts of about ``chunk_bytes`` characters."""
    batch: list[str] = []
    size = 0
    for line in lines:
        if not isinstance(line, str):
            raise DataError(f"count_bigrams reads lines of str, got {type(line).__name__}: "
                            "decode them first, or pass a file path.")
        batch.append(line)
        size += len(line) + 1
        if size >= chunk_bytes:
            yield ("\n".join(batch) + "\n").encode("utf-8")
            batch, size = [], 0
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8")


def _count_parts(counter: _StreamCounter, parts: Iterable[bytes],
                 progress: Callable[[int], None] | None) -> None:
    done = 0
    for part in parts:
        counter.add(part)
        if progress is not None:
            done += len(part)
            progress(done)


def count_bigrams(source: PathLike | Iterable[str], vocab: Vocabulary | None = None,
                  chunk_bytes: int = 1 << 20,
                  progress: Callable[[int], None] | None = None) -> BigramCounts:
    """Count the bigrams of a corpus in a stream, in memory independent of its size.

    Parameters
    ----------
    source : str, os.PathLike, or iterable of str
        A UTF-8 text file with one word per line, or the lines themselves (e.g. a
        list of words or an open text file). Lines are read as :func:`load_words`
        reads them: surrounding white space stripped, blank lines skipped.
    vocab : Vocabulary, optional
        Index the counts by this vocabulary (a character outside it is an error).
        ``None`` discovers the alphabet in the same pass.
    chunk_bytes : int, default 1 MiB
        How much to read at a time. Memory use is a small multiple of it (plus the
        longest line, which is never cut), whatever the size of the input.
    progress : callable, optional
        ``progress(n)`` after each chunk, with ``n`` the bytes counted so far (of
        the file, whose size is ``os.path.getsize``; or of the lines, UTF-8 encoded).
        E.g. ``minibigram.progress.Progress(total, unit="byte").update``.

    Returns
    -------
    BigramCounts
        ``N`` (int64) and ``vocab``; equal to
        ``bigram_counts(*bigrams(words, vocab), len(vocab))`` on the same words.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read.
    DataError
        If the file is not UTF-8, a word contains ``"."``, or a character is missing
        from the given ``vocab``.

    Notes
    -----
    Each chunk is cut after its last line break; the rest waits for the next chunk.
    So no word and no multi-byte character is ever split, and each chunk is counted
    with array operations only: bytes -> code points (an ASCII chunk is its own
    array of code points) -> ids, by one table lookup -> pair index ``i * S + j`` ->
    ``np.bincount``. A new character gets the next free id as soon as it is seen;
    the ids are put into the vocabulary's sorted order once, at the end.

    Counts of separate shards add up, ``count_bigrams(a) + count_bigrams(b)``,
    which is how a cluster counts a corpus too large for one machine.
    """
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int) or chunk_bytes < 1:
        raise SettingsError(f"chunk_bytes must be a whole number >= 1, got {chunk_bytes!r}.")
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if os.path.isdir(name):
            raise FileAccessError(f"{name} is a folder, not a file: give the path of a text "
                                  "file with one word per line.")
        counter = _StreamCounter(vocab, name)
        try:
            with open(name, "rb") as f:
                _count_parts(counter, _byte_parts(f, chunk_bytes), progress)
        except FileNotFoundError:
            raise FileAccessError(f"{name} does not exist: check the path.") from None
        except OSError as e:
            raise FileAccessError(f"{name} cannot be read ({e.strerror}): check that it is a "
                                  "file you are allowed to read.") from None
    else:
        counter = _StreamCounter(vocab, "the input")
        _count_parts(counter, _line_parts(source, chunk_bytes), progress)
    return counter.result()


def ngrams(words: Sequence[str], vocab: Vocabulary, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (K previous characters, next character) example of every word.

    Each word ``w`` is read as ``"." * K + w + "."``: ``len(w) + 1`` examples, the
    first ones padded with the boundary token on the left, as makemore does. With
    ``K = 1`` these are exactly the pairs of :func:`bigrams`.

    Parameters
    ----------
    words : sequence of str
    vocab : Vocabulary
    K : int
        Context length, at least 1.

    Returns
    -------
    X : ndarray of int64, shape (n, K)
        The contexts, oldest character first: ``X[k] = (c_1, ..., c_K)``.
    ys : ndarray of int64, shape (n,)
        The targets.

    Notes
    -----
    One encoded string holds every word as a block ``"." * K + w + "."``; a sliding
    window of width ``K + 1`` over it gives every (context, target) row, and the
    rows whose target is one of a block's ``K`` padding tokens are dropped. No
    Python loop runs per character.
    """
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise DataError(f"the context length must be a whole number >= 1, got {K!r}.")
    if len(words) == 0:
        return np.zeros((0, K), np.int64), np.zeros(0, np.int64)
    if K == 1:   # the same pairs, without the padding bookkeeping
        xs, ys = bigrams(words, vocab)
        return xs[:, None], ys
    pad = BOUNDARY * K
    ids = vocab.encode_text(pad + (BOUNDARY + pad).join(words) + BOUNDARY)   # (total,)
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    starts = np.concatenate(([0], np.cumsum(lengths + K + 1)[:-1]))        # block starts
    windows = np.lib.stride_tricks.sliding_window_view(ids, K + 1)          # (total-K, K+1)
    # Window t ends at position t + K; it is an example unless that position pads a block.
    is_pad = np.zeros(len(ids), dtype=bool)
    is_pad[(starts[:, None] + np.arange(K)).ravel()] = True
    keep = ~is_pad[K:]
    rows = windows[keep]
    return np.ascontiguousarray(rows[:, :K]), rows[:, K].copy()


def context_codes(X: np.ndarray, V: int) -> np.ndarray:
    """One integer per context: ``(c_1, ..., c_K)`` read as a base-``V`` number.

    ``code = c_1 V^(K-1) + ... + c_K``; the all-boundary context (a word's start)
    is code 0. Sorting codes sorts contexts lexicographically.

    Raises
    ------
    SettingsError
        If ``V**K`` does not fit in an int64.
    """
    K = X.shape[1]
    if K * np.log2(max(V, 2)) >= 62:
        raise SettingsError(f"{V} characters and a context of {K} give more than 2**62 "
                            "possible contexts: use a shorter context.")
    return (X * (V ** np.arange(K - 1, -1, -1, dtype=np.int64))).sum(axis=1)


def context_counts(X: np.ndarray, ys: np.ndarray, V: int,
                   weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The sufficient statistics of n-gram data: distinct contexts and their target counts.

    Parameters
    ----------
    X : ndarray of int, shape (n, K)
    ys : ndarray of int, shape (n,)
    V : int
    weights : ndarray, shape (n,), optional

    Returns
    -------
    contexts : ndarray of int64, shape (C, K)
        Every context that occurs, once, sorted (by :func:`context_codes`).
    N : ndarray, shape (C, V)
        ``N[c, j]`` = count (or total weight) of target ``j`` after ``contexts[c]``.
    """
    codes, first, cid = np.unique(context_codes(X, V), return_index=True, return_inverse=True)
    cid = cid.ravel()
    N = bigram_counts(cid, ys, V, weights, rows=len(codes))
    return X[first], N


def parse_split(text: str) -> tuple[float, float, float]:
    """Read ``"80/10/10"`` (train/dev/test percentages) as fractions summing to 1.

    Raises
    ------
    DataError
        Unless it is three non-negative numbers summing to 100, with train > 0.
    """
    parts = text.split("/")
    try:
        pct = [float(p) for p in parts]
    except ValueError:
        pct = []
    if (len(pct) != 3 or not all(np.isfinite(p) and p >= 0 for p in pct) or pct[0] <= 0
            or abs(sum(pct) - 100) > 1e-9):
        raise DataError(f"the split {text!r} is not train/dev/test percentages: write three "
                        "numbers that sum to 100, such as 80/10/10.")
    return pct[0] / 100, pct[1] / 100, pct[2] / 100


def split_words(words: Sequence[str], fractions: Sequence[float] = (0.8, 0.1, 0.1),
                seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """A random split of the words into train, dev and test sets.

    The words are shuffled by ``np.random.default_rng(seed).permutation``; the
    first ``int(f_train * n)`` go to train, up to ``int((f_train + f_dev) * n)`` to
    dev, and the rest to test (as makemore's ``n1 = int(0.8*n); n2 = int(0.9*n)``).

    Returns
    -------
    train, dev, test : list of str
    """
    n = len(words)
    order = np.random.default_rng(seed).permutation(n)
    # The products are rounded before int(), so that float noise (0.58 * 100 =
    # 57.99999999999999, (0.7 + 0.2) * 100 = 89.99999999999999) does not lose a word.
    n1 = int(round(fractions[0] * n, 9))
    n2 = int(round((fractions[0] + fractions[1]) * n, 9))
    if n1 == 0:
        raise DataError(f"a {100 * fractions[0]:g}% share of {n} words leaves no training "
                        "words: give more words or a larger train share.")
    parts = np.split(order, [n1, n2])
    return tuple([words[i] for i in p] for p in parts)  # type: ignore[return-value]
