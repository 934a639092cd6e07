"""Streaming counts: the bigram counts of a corpus of any size, read in chunks.

:func:`count_bigrams` reads a file (or lines) in chunks cut at line breaks and
counts each with array operations only, so memory does not grow with the corpus.
Its result equals ``bigram_counts(*bigrams(words, vocab), V)`` on the same words.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .errors import DataError, FileAccessError, check_whole, read_error
from .examples import BigramCounts
from .vocab import Vocabulary, code_points
from .words import PathLike

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
        codes = self._strip_lines(code_points(text))
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
    chunk_bytes = check_whole("chunk_bytes", chunk_bytes, 1)
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if os.path.isdir(name):
            raise FileAccessError(f"{name} is a folder, not a file: give the path of a text "
                                  "file with one word per line.")
        counter = _StreamCounter(vocab, name)
        try:
            with open(name, "rb") as f:
                _count_parts(counter, _byte_parts(f, chunk_bytes), progress)
        except OSError as e:
            raise read_error(name, e) from None
    else:
        counter = _StreamCounter(vocab, "the input")
        _count_parts(counter, _line_parts(source, chunk_bytes), progress)
    return counter.result()
