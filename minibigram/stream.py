"""Streaming counts: the counts of a corpus of any size, read in pieces.

:func:`count_bigrams` and :func:`count_contexts` read a file (or lines) in pieces
of ``chunk_bytes`` and count each with array operations only, carrying from one
piece to the next just what a count needs: the last K ids, whether the line so far
is only white space, and a run of spaces not yet known to end its line. So memory
does not grow with the corpus, nor with the length of a line, and the time is
linear in both. The result equals ``context_counts(*ngrams(words, vocab, K), V)``
on the same words, read as :func:`minibigram.load_words` reads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError, check_size, check_whole
from .examples import (
    BigramCounts,
    ContextCounts,
    ascii_pair_table,
    context_codes,
    context_windows,
    pad_boundaries,
)
from .vocab import LINE_BREAKS, Vocabulary, code_points
from .words import (
    EMBEDDED_NAMES,
    STDIN,
    STDIN_NAME,
    HashedReader,
    PathLike,
    embedded_names_path,
    open_words,
)

# Line breaks as str.splitlines sees them, and the other white space str.strip removes.
_LINE_BREAKS = code_points(LINE_BREAKS)
_SPACES = np.array([ord(c) for c in "\t\x1f \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                    "\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"])
_PLAIN = bytes(range(33, 127)) + b"\n"   # ASCII that needs neither stripping nor mapping
_NO_SLOT = -1


class _Counter:
    """Counts (context, target) examples of a text given in pieces cut anywhere.

    Characters get "slots" in order of discovery (slot 0 is the boundary, which
    every line break maps to); a dense table maps every code point to its slot, so
    mapping a piece is one gather. The counts are kept in slot order and put into
    the vocabulary's order once, at the end.
    """

    def __init__(self, K: int, vocab: Vocabulary | None, source: str) -> None:
        self.K, self.source = K, source
        self.fixed = vocab is not None
        self.slot = np.full(0x110000, _NO_SLOT, dtype=np.int64)    # code point -> slot
        self.slot[_LINE_BREAKS] = 0
        chars = vocab.itos[1:] if vocab is not None else []
        self.codes = [ord(c) for c in chars]                       # slot s+1 -> code point
        self.slot[self.codes] = np.arange(1, len(chars) + 1)
        self.is_space = np.zeros(0x110000, dtype=bool)
        self.is_space[_SPACES] = True
        self.tail = np.zeros(K, dtype=np.int64)   # the last K ids, boundaries repeated K times
        self.at_start = True                      # only white space since the last break
        self.pending = np.zeros(0, np.uint32)     # trailing spaces, unless a character follows
        self.lines_before = 0

    @property
    def S(self) -> int:
        """Slots so far: the boundary and every character discovered."""
        return len(self.codes) + 1

    def line_of(self, part: bytes, offset: int) -> int:
        return self.lines_before + part[:offset].count(b"\n") + 1

    def add(self, part: bytes) -> None:
        """Count one piece of UTF-8 (cut at a character boundary, anywhere in a line)."""
        if self.fast and not self.pending.size and not part.translate(None, _PLAIN):
            self.lines_before += self.add_plain(part)
            return
        else:
            try:
                text = part.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{self.source} is not UTF-8 text (undecodable byte at line "
                                f"{self.line_of(part, e.start)}): save it as UTF-8 and try "
                                "again.") from None
            nul = part.find(b"\x00")   # ('.' is an ordinary character: the boundary is a break)
            if nul >= 0:
                raise DataError(f"{self.source} line {self.line_of(part, nul)} holds a NUL "
                                "character (U+0000), which is not text: give a text file with "
                                "one word per line.")
            self.add_ids(self.to_ids(code_points(text)))
        self.lines_before += part.count(b"\n")

    def to_ids(self, codes: np.ndarray) -> np.ndarray:
        """Slot ids of a piece's code points, white space at line ends dropped (str.strip).

        A space is dropped if only white space lies between it and the line's start
        (leading) or end (trailing). A run of spaces at the end of the piece waits in
        ``pending`` until the next piece tells which it is.
        """
        codes = np.concatenate((self.pending, codes))              # (L,)
        sp = self.is_space[codes]                                   # (L,)
        br = self.slot[codes] == 0                                  # (L,) line breaks
        L = len(codes)
        pos = np.arange(L)
        real = ~sp & ~br                                            # characters of words
        # the last non-space at or before each position, -1 if none in this piece
        prev = np.maximum.accumulate(np.where(sp, -1, pos))
        leading = np.where(prev < 0, self.at_start, br[np.maximum(prev, 0)])
        nxt = np.minimum.accumulate(np.where(sp, L, pos)[::-1])[::-1]   # first after, or L
        unknown = nxt == L                                          # no break or char follows
        trailing = ~unknown & br[np.minimum(nxt, L - 1)]
        last_real = np.flatnonzero(real | br)
        if last_real.size:
            self.at_start = bool(br[last_real[-1]])
        wait = sp & unknown & ~leading                              # spaces of unknown fate
        self.pending = codes[wait]
        keep = ~(sp & (leading | trailing | wait))
        return self.slots(codes[keep])

    def slots(self, codes: np.ndarray) -> np.ndarray:
        """The slot of every code point, discovering the characters not seen yet."""
        ids = self.slot[codes]
        unknown = ids == _NO_SLOT
        if unknown.any():
            new = np.unique(codes[unknown])
            if self.fixed:
                ch = chr(int(new[0]))
                raise DataError(f"{self.source}: the character {ch!r} (U+{ord(ch):04X}) is "
                                "not in the given vocabulary: remove it, or pass vocab=None "
                                "to discover the alphabet.")
            S = self.S
            self.slot[new] = np.arange(S, S + len(new))
            self.codes.extend(int(c) for c in new)
            self.grow(S, len(new))
            ids = self.slot[codes]
        return ids

    def add_ids(self, ids: np.ndarray) -> None:
        """Count the examples whose targets are ``ids`` (one piece, slot ids, 0 = break)."""
        if not ids.size:
            return
        K = self.K
        z = ids == 0                                    # a run of breaks (blank lines) is one
        keep = ~(z & np.concatenate(([self.tail[-1] == 0], z[:-1])))
        ids = ids[keep]
        if not ids.size:
            return
        seq = np.concatenate((self.tail, pad_boundaries(ids, K)))   # (T,) K-padded, after
        X, ys = context_windows(seq, K)                                 # the last K ids
        self.tail = seq[-K:].copy()
        self.count(X, ys)

    def add_plain(self, part: bytes) -> int:
        """The fast path of bigrams: printable ASCII and "\\n" only. Count byte pairs.

        The bytes are the code points: :func:`~minibigram.examples.ascii_pair_table`
        counts their adjacent pairs, as training counts a list of ASCII words. The
        previous piece's last id leads as its own byte (a break as ``"\\n"``). Returns
        the number of line feeds: the pairs that end in one.
        """
        last = int(self.tail[-1])
        lead = 10 if last == 0 else self.codes[last - 1]
        if lead >= 128:                                   # a non-ASCII character leads
            self.add_ids(self.to_ids(code_points(part.decode("ascii"))))
            return part.count(b"\n")
        data = bytes([lead]) + part                                       # (L+1,)
        pairs = ascii_pair_table(np.frombuffer(data, dtype=np.uint8))    # (128, 128)
        self.byte_pairs += pairs
        self.tail[-1] = self.slots(np.array([data[-1]]))[0]
        self.at_start = data[-1] == 10
        return int(pairs[:, 10].sum())

    # --- the counts, in slot order: subclasses keep them

    fast = False   # whether add_plain counts byte pairs (bigrams only)
    byte_pairs: np.ndarray

    def grow(self, S: int, new: int) -> None:
        raise NotImplementedError

    def count(self, X: np.ndarray, ys: np.ndarray) -> None:
        raise NotImplementedError

    def order(self) -> tuple[Vocabulary, np.ndarray]:
        """The vocabulary of every slot, and each slot's id in it."""
        vocab = Vocabulary(chr(c) for c in self.codes)
        return vocab, np.array([0] + [vocab.stoi[chr(c)] for c in self.codes])   # (S,)

    def finish(self) -> None:
        """The end of the text ends its last line."""
        self.add_ids(self.to_ids(np.array([10], np.uint32)))


class _BigramCounter(_Counter):
    """The (S, S) pair counts, ``M[i, j]``: ``j`` after ``i``, in slot order."""

    fast = True

    def __init__(self, vocab: Vocabulary | None, source: str) -> None:
        super().__init__(1, vocab, source)
        self.M = np.zeros((self.S, self.S), dtype=np.int64)
        self.byte_pairs = np.zeros((128, 128), dtype=np.int64)   # [prev byte, next byte]

    def grow(self, S: int, new: int) -> None:
        check_size(f"counting the {S + new} characters of {self.source} by pairs",
                   8.0 * (S + new) ** 2, "count a text with a smaller alphabet")
        self.M = np.pad(self.M, (0, new))

    def count(self, X: np.ndarray, ys: np.ndarray) -> None:
        S = self.S
        self.M += np.bincount(X[:, 0] * S + ys, minlength=S * S).reshape(S, S)

    def result(self) -> BigramCounts:
        # Fold the byte-pair table of the fast path into M, then drop boundary -> boundary
        # pairs (blank lines), which the general path never counts.
        pairs = self.byte_pairs                                    # (128, 128) [prev, next]
        seen = np.flatnonzero(pairs.sum(axis=0) + pairs.sum(axis=1))
        if len(seen):
            ids = self.slots(seen)
            M = np.zeros_like(self.M)
            np.add.at(M, (ids[:, None], ids[None, :]), pairs[np.ix_(seen, seen)])
            self.M += M
        self.M[0, 0] = 0
        vocab, order = self.order()
        N = np.zeros_like(self.M)                                  # (V, V)
        N[np.ix_(order, order)] = self.M
        return BigramCounts(N, vocab)


class _ContextCounter(_Counter):
    """The sorted distinct contexts seen, ``ctx`` (C, K), and their counts ``N`` (C, S)."""

    def __init__(self, K: int, vocab: Vocabulary | None, source: str) -> None:
        # each piece of 1 MiB makes windows of K + 1 int64 ids per character
        check_size(f"counting contexts of {K:,} characters", 8.0 * (K + 2) * ((1 << 20) + K),
                   "use a shorter context")
        super().__init__(K, vocab, source)
        self.ctx = np.zeros((0, K), dtype=np.int64)              # (C, K) slot ids, sorted
        self.N = np.zeros((0, self.S), dtype=np.int64)           # (C, S)

    def grow(self, S: int, new: int) -> None:
        check_size(f"counting the {len(self.ctx)} contexts of {self.source} by their "
                   f"{S + new} next characters", 8.0 * len(self.ctx) * (S + new),
                   "count a text with a smaller alphabet, or use a shorter context")
        # new slots keep the old ids but change the base of the codes: sort again
        order = np.argsort(context_codes(self.ctx, S + new), kind="stable")
        self.ctx = self.ctx[order]
        self.N = np.pad(self.N[order], ((0, 0), (0, new)))       # (C, S + new)

    def count(self, X: np.ndarray, ys: np.ndarray) -> None:
        S = self.S
        codes, first, inv = np.unique(context_codes(X, S), return_index=True,
                                      return_inverse=True)       # (c,) this piece's contexts
        Nc = np.bincount(inv.ravel() * S + ys, minlength=len(codes) * S).reshape(-1, S)
        old = context_codes(self.ctx, S)                         # (C,) sorted
        pos = np.searchsorted(old, codes)                        # (c,)
        found = pos < len(old)
        found[found] = old[pos[found]] == codes[found]
        if found.all():                                          # the usual case, late on
            self.N[pos] += Nc
            return
        union = np.union1d(old, codes)                           # (C',) sorted
        ctx = np.zeros((len(union), self.K), dtype=np.int64)     # (C', K)
        N = np.zeros((len(union), S), dtype=np.int64)            # (C', S)
        at_old, at_new = np.searchsorted(union, old), np.searchsorted(union, codes)
        ctx[at_old], ctx[at_new] = self.ctx, X[first]
        N[at_old] = self.N
        N[at_new] += Nc
        self.ctx, self.N = ctx, N

    def result(self) -> ContextCounts:
        vocab, order = self.order()
        contexts = order[self.ctx]                               # (C, K) vocabulary ids
        N = np.zeros_like(self.N)                                # (C, V)
        N[:, order] = self.N
        sort = np.argsort(context_codes(contexts, len(vocab)), kind="stable")
        return ContextCounts(N[sort], vocab, contexts=contexts[sort])


def _byte_pieces(f: Any, chunk_bytes: int) -> Iterator[bytes]:
    """Read a binary stream in pieces of about ``chunk_bytes``, each cut between characters.

    A UTF-8 character's continuation bytes are ``0b10xxxxxx``; the few bytes of a
    character cut by a read wait for the next piece, so memory stays one piece
    whatever the length of a line. A UTF-8 byte-order mark at the start is dropped.
    """
    carry, first = b"", True
    while True:
        chunk = f.read(chunk_bytes)
        if not chunk:
            break
        if first:                                             # a UTF-8 byte-order mark?
            while len(chunk) < 3 and (more := f.read(chunk_bytes)):
                chunk += more
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        first = False
        buf = carry + chunk if carry else chunk
        cut = len(buf)
        lead = next((i for i in range(cut - 1, max(cut - 5, -1), -1) if buf[i] & 0xC0 != 0x80),
                    None)
        if lead is not None and buf[lead] >= 0xC0:           # a multi-byte character starts
            size = 2 if buf[lead] < 0xE0 else 3 if buf[lead] < 0xF0 else 4
            if lead + size > cut:
                cut = lead                                     # ... and is not complete yet
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry                                            # undecodable: reported


def _line_pieces(lines: Iterable[str], chunk_bytes: int) -> Iterator[bytes]:
    """Join lines (of str) into UTF-8 pieces of about ``chunk_bytes`` characters."""
    batch: list[str] = []
    size = 0
    for line in lines:
        if not isinstance(line, str):
            raise DataError(f"counting reads lines of str, got {type(line).__name__}: "
                            "decode them first, or pass a file path.")
        batch.append(line)
        size += len(line) + 1
        if size >= chunk_bytes:
            yield ("\n".join(batch) + "\n").encode("utf-8")
            batch, size = [], 0
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8")


def _count(counter: _Counter, source: PathLike | Iterable[str], chunk_bytes: int,
           progress: Callable[[int], None] | None, missing: str = "check the path"
           ) -> HashedReader | None:
    """Feed ``source`` (a path, ``"-"`` for standard input, or lines of str) to ``counter``
    piece by piece; for a path, the reader that read it once, with the sha256 of its bytes."""
    chunk_bytes = check_whole("chunk_bytes", chunk_bytes, 1)
    done = 0
    reader = None
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        f = open_words(name, missing)
        try:
            reader = HashedReader(f, counter.source)
            for piece in _byte_pieces(reader, chunk_bytes):
                counter.add(piece)
                done += len(piece)
                if progress is not None:
                    progress(done)
        finally:
            if name != STDIN:
                f.close()
    else:
        for piece in _line_pieces(source, chunk_bytes):
            counter.add(piece)
            done += len(piece)
            if progress is not None:
                progress(done)
    counter.finish()
    return reader


@dataclass
class StreamCount:
    """What :func:`count_stream` read: the counts, and the record of exactly those bytes.

    Attributes
    ----------
    counts : ContextCounts
    record : dict
        ``{"source", "sha256", "num_words"}`` as :func:`~minibigram.words.data_record`
        gives for words read whole: the sha256 is of the bytes counted, read once.
    nbytes : int
        The bytes read.
    """

    counts: ContextCounts
    record: dict[str, Any]
    nbytes: int


def count_stream(data: PathLike | None = None, context: int = 1, *,
                 vocab: Vocabulary | None = None, chunk_bytes: int = 1 << 20,
                 progress: Callable[[int], None] | None = None) -> StreamCount:
    """Count a word file (``"-"``: standard input; None: the embedded names) in one pass.

    :func:`count_bigrams` (``context=1``) or :func:`count_contexts`, which also hash
    the bytes as they count them: a FIFO, ``<(cat words.txt)``, standard input or a
    file still being appended to is read once, and the record says exactly what was
    counted. Memory does not grow with the size of the data.

    Raises
    ------
    FileAccessError, DataError
        As :func:`count_bigrams`; and if there are no words at all.
    """
    K = check_whole("the context length", context, 1)
    path = embedded_names_path() if data is None else os.fspath(data)
    name = (EMBEDDED_NAMES if data is None else STDIN_NAME if path == STDIN
            else os.path.abspath(path))
    label = "the embedded names.txt" if data is None else STDIN_NAME if path == STDIN else path
    counter: _BigramCounter | _ContextCounter = (
        _BigramCounter(vocab, label) if K == 1 else _ContextCounter(K, vocab, label))
    reader = _count(counter, path, chunk_bytes, progress,
                    "check the path, or give no path to use the embedded names")
    assert reader is not None
    counts = counter.result()
    if counts.num_examples == 0:   # as load_words says it
        what = "is empty" if reader.nbytes <= 3 else "holds only blank lines"
        raise DataError(f"{label} {what}: give a file with one word per line.")
    record = {"source": name, "sha256": reader.hexdigest(), "num_words": int(counts.N[0].sum())}
    return StreamCount(counts, record, reader.nbytes)


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
        How much to read at a time. Memory use is a small multiple of it, whatever
        the size of the input or the length of its lines.
    progress : callable, optional
        ``progress(n)`` after each piece, with ``n`` the bytes counted so far (of
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
        If the file is not UTF-8, holds a NUL character (the message names the line),
        or a character is missing from the given ``vocab``. A ``"."`` is an ordinary
        character: the boundary is the line break.

    Notes
    -----
    Each piece is counted with array operations only: bytes -> code points (a
    piece of printable ASCII is its own array of code points) -> ids, by one table
    lookup -> pair index ``i * S + j`` -> ``np.bincount``. A new character gets the
    next free id as soon as it is seen; the ids are put into the vocabulary's
    sorted order once, at the end.

    Counts of separate shards add up, ``count_bigrams(a) + count_bigrams(b)``,
    which is how a cluster counts a corpus too large for one machine
    (:func:`minibigram.count_files`).
    """
    counter = _BigramCounter(vocab, "the input")
    if isinstance(source, (str, os.PathLike)):
        counter.source = os.fspath(source)
    _count(counter, source, chunk_bytes, progress)
    return counter.result()


def count_contexts(source: PathLike | Iterable[str], context: int,
                   vocab: Vocabulary | None = None, chunk_bytes: int = 1 << 20,
                   progress: Callable[[int], None] | None = None) -> ContextCounts:
    """Count the (context, next character) examples of a corpus in a stream, for any K.

    :func:`count_bigrams` for contexts of ``context`` characters: each word ``w``
    gives ``len(w) + 1`` examples, read as ``"." * K + w + "."``. The parameters and
    errors are those of :func:`count_bigrams`; memory is a small multiple of
    ``chunk_bytes`` (about ``8 (K + 2)`` bytes per byte read) plus the counts.

    Returns
    -------
    ContextCounts
        Equal to ``ContextCounts(N, vocab, contexts=contexts)`` with
        ``contexts, N = context_counts(*ngrams(words, vocab, K), V)`` on the same words.
    """
    K = check_whole("the context length", context, 1)
    counter = _ContextCounter(K, vocab, "the input")
    if isinstance(source, (str, os.PathLike)):
        counter.source = os.fspath(source)
    _count(counter, source, chunk_bytes, progress)
    return counter.result()
