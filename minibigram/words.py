"""Words: the first stage. Read them, check them, split them.

A word is one line of a UTF-8 text file, stripped of surrounding white space;
blank lines are skipped. A word may hold any character but a line break (``"."``
included): the boundary between words is the line break, not a character.
Everything downstream (the vocabulary, the examples, the counts) starts from a
list of words.

:func:`load_words` returns a :class:`WordList`, a list that remembers where its
words came from and the sha256 of the bytes they were read from, so that a model
trained on it can record its data (:func:`data_record`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, Union

import numpy as np

from .errors import (
    DataError,
    FileAccessError,
    check_seed,
    check_size,
    check_words,
    memory_budget,
    read_error,
    word_list,
)

PathLike = Union[str, "os.PathLike[str]"]


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


#: The source name recorded for the embedded names (:func:`load_words` with no path).
EMBEDDED_NAMES = "embedded:names.txt"
#: The path that means standard input, as in Unix tools.
STDIN = "-"
#: The source name recorded for words read from standard input.
STDIN_NAME = "<stdin>"


def embedded_names_path() -> str:
    """The path of the embedded names.txt."""
    # A plain path beside this module: importlib.resources would cost the CLI ~20 ms of imports.
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets", "names.txt")


class WordList(list):  # type: ignore[type-arg]  # a list of str, with where it came from
    """A list of words that remembers its source and the sha256 of the bytes read.

    It is a plain ``list`` in every other way. Slicing it or splitting it gives
    ordinary lists: only the words exactly as read carry their source.

    Attributes
    ----------
    source : str
        The path read, :data:`EMBEDDED_NAMES` or :data:`STDIN_NAME`.
    sha256 : str
        Hex digest of the bytes read (the whole file, byte-order mark included).
    """

    def __init__(self, words: Sequence[str], source: str, sha256: str) -> None:
        super().__init__(words)
        self.source = source
        self.sha256 = sha256


def data_record(words: Sequence[str]) -> dict[str, Any]:
    """What a model records of its training words: ``{"source", "sha256", "num_words"}``.

    For a :class:`WordList` (from :func:`load_words`), the source read and the sha256
    of its bytes. For any other sequence, ``source`` is None and ``sha256`` is that
    of the words written one per line (UTF-8, each followed by ``"\\n"``), which is
    also the sha256 of a file written that way.
    """
    if isinstance(words, WordList):
        return {"source": words.source, "sha256": words.sha256, "num_words": len(words)}
    digest = sha256_hex(("\n".join(words) + "\n").encode("utf-8"))
    return {"source": None, "sha256": digest, "num_words": len(words)}


def file_sha256(path: PathLike | None = None) -> str:
    """The sha256 (hex) of a file's bytes, read in 1 MiB chunks; ``None``: the embedded names.

    Raises
    ------
    FileAccessError
    """
    source = embedded_names_path() if path is None else os.fspath(path)
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        raise read_error(source, e) from None
    return digest.hexdigest()


class WordText:
    """The text of a word file as read, not yet split into words (see :func:`load_text`).

    Attributes
    ----------
    text : str
        The decoded text, byte-order mark dropped.
    source : str
        The path read (absolute), :data:`EMBEDDED_NAMES` or :data:`STDIN_NAME`, as a
        :class:`WordList` records it.
    sha256 : str
        Hex digest of the bytes read.
    label : str
        How error messages name it.
    """

    def __init__(self, text: str, source: str, sha256: str) -> None:
        self.text, self.source, self.sha256 = text, source, sha256
        self.label = _label(source)

    def words(self) -> WordList:
        """The words of the text, as :func:`load_words` returns them."""
        return WordList(parse_words(self.text, source=self.label), self.source, self.sha256)


#: What avoids reading words whole, said when they would not fit (train's case).
STREAM_HINT = ("train without split and with the counts engine or Newton's method, which count "
               "it in a stream (count_bigrams or count_contexts from Python)")


def load_words(path: PathLike | None = None, *, hint: str = STREAM_HINT) -> WordList:
    """Read one word per line.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A UTF-8 text file; ``"-"`` reads standard input (name a file called ``-``
        as ``./-``). ``None`` (the default) reads the embedded ``names.txt``:
        32,033 names from the makemore repository.
    hint : str
        What avoids reading the words whole, for the error when they would not fit.

    Returns
    -------
    WordList
        The words in file order, each stripped of surrounding white space; blank
        lines are skipped. A UTF-8 byte-order mark and Windows line endings are
        read transparently. It records the source and the sha256 of the bytes read.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read (an ``OSError``).
    DataError
        If the file is not UTF-8, holds no words, holds a NUL character, or is larger
        than :func:`max_words_bytes`.
    """
    return load_text(path, hint=hint).words()


def load_text(path: PathLike | None = None, *, hint: str = STREAM_HINT) -> WordText:
    """Read a word file as :func:`load_words` does, without splitting it into words.

    For a caller that needs only the counts of the words (see
    :func:`~minibigram.examples.count_text`): making 32,033 Python strings costs more
    than counting them. The checks that need the words (NUL, no words at all) are made
    when they are split or counted.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read (an ``OSError``).
    DataError
        If the file is not UTF-8, or larger than :func:`max_words_bytes`.
    """
    if path is None:
        source, name = embedded_names_path(), EMBEDDED_NAMES
    else:
        source = os.fspath(path)
        name = source if source == STDIN else os.path.abspath(source)
    if source == STDIN:
        raw, name = _read_bounded(stdin_bytes(), STDIN_NAME, hint), STDIN_NAME
    else:
        with open_words(source, missing="check the path, or give no path to use the embedded "
                                        "names") as f:
            raw = _read_bounded(f, source, hint)
    return WordText(decode_utf8(raw, _label(name)), name, sha256_hex(raw))


def _label(source: str) -> str:
    """How error messages name a source of words (see :class:`WordText`)."""
    return "the embedded names.txt" if source == EMBEDDED_NAMES else source


#: Memory that words read whole take, per byte of their file: the str of each word and
#: the examples made from them (about 40 bytes a character).
WORD_BYTES = 40


def max_words_bytes() -> int:
    """The most bytes of words :func:`load_words` reads into memory: their examples
    (:data:`WORD_BYTES` a byte) stay within :func:`~minibigram.errors.memory_budget`."""
    return memory_budget() // WORD_BYTES


def check_words_memory(path: PathLike | None, hint: str) -> None:
    """Refuse, before reading it, a word file whose words would not fit in memory.

    Its size times :data:`WORD_BYTES` against :func:`~minibigram.errors.memory_budget`
    (:func:`~minibigram.errors.check_size`, whose error names both and ``hint``: what
    avoids reading it whole). ``None`` is the embedded names; standard input and other
    streams, whose size is not known before, are bounded as :func:`load_words` reads them.

    Raises
    ------
    SettingsError
    """
    if path is None or os.fspath(path) == STDIN or not os.path.isfile(path):
        return
    size = os.path.getsize(path)
    check_size(f"reading the {size / 1e6:,.1f} MB of words of {os.fspath(path)} into memory",
               float(size) * WORD_BYTES, hint)


def _read_bounded(f: BinaryIO, source: str, hint: str) -> bytes:
    """All of ``f``, unless it holds more than :func:`max_words_bytes` (then refused at once,
    saying ``hint``: what avoids it)."""
    limit = max_words_bytes()
    try:
        raw = f.read(limit + 1)
    except OSError as e:
        raise read_error(source, e) from None
    if len(raw) > limit:
        raise DataError(f"{source} holds more than {limit / 1e6:,.0f} MB of words, more than "
                        f"fits in the memory this machine has free (the words and their "
                        f"examples take about {WORD_BYTES} bytes a character): {hint}.")
    return raw


def stdin_bytes() -> BinaryIO:
    """Standard input as a binary stream, or the one-sentence error if there is none.

    Raises
    ------
    FileAccessError
        If standard input is closed (``<&-``).
    """
    if sys.stdin is None:
        raise FileAccessError("standard input is closed, so '-' has nothing to read: give the "
                              "words on standard input or as a file.")
    return sys.stdin.buffer


#: A piece at least this large is hashed in a second thread while the caller counts.
HASH_THREAD_BYTES = 1 << 20


class HashedReader:
    """A binary stream read once, with the sha256 and the number of the very bytes read.

    What is counted and what is recorded are the same bytes: a FIFO, a pipe or a file
    still being written are read once, and :meth:`hexdigest` is the sha256 of what
    :meth:`read` returned, nothing more. A large input is hashed in a second thread
    (``hashlib`` releases the GIL) while the caller counts the previous piece.

    Parameters
    ----------
    f : binary file
    source : str
        How errors name it.
    """

    def __init__(self, f: BinaryIO, source: str) -> None:
        self.f, self.source = f, source
        self.nbytes = 0
        self._digest: Any = None
        self._thread: threading.Thread | None = None

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (``-1``: all), hashed; fewer only at the end."""
        try:
            data = self.f.read(n)
        except OSError as e:
            raise read_error(self.source, e) from None
        if self._digest is None:
            self._digest = hashlib.sha256()
        self._wait()
        if len(data) > HASH_THREAD_BYTES:   # large: hashed beside the counting
            self._thread = threading.Thread(target=self._digest.update, args=(data,))
            self._thread.start()
        else:
            self._digest.update(data)
        self.nbytes += len(data)
        return data

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        """The sha256 (hex) of every byte read so far."""
        self._wait()
        if self._digest is None:
            return sha256_hex(b"")
        return str(self._digest.hexdigest())


def decode_utf8(raw: bytes, source: str) -> str:
    """``raw`` as text; a UTF-8 byte-order mark is dropped.

    Raises
    ------
    DataError
        If it is not UTF-8, naming ``source`` and the line of the first bad byte.
    """
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0   # the byte-order mark is not text
    try:   # (the utf-8 codec is built into Python; utf-8-sig is a module to import)
        return str(memoryview(raw)[start:], "utf-8")
    except UnicodeDecodeError as e:
        line = raw[: start + e.start].count(b"\n") + 1
        raise DataError(f"{source} is not UTF-8 text (undecodable byte at line {line}): "
                        "save it as UTF-8 and try again.") from None


#: The ASCII white space that str.strip removes and str.splitlines leaves inside a line.
ASCII_INNER_SPACE = "\t\x1f "


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
    if text.isascii() and not any(c in text for c in ASCII_INNER_SPACE):
        words = list(filter(None, lines))   # nothing to strip, blank lines to drop: faster
    else:
        words = [word for word in map(str.strip, lines) if word]
    if not words:
        if not text:
            raise DataError(f"{source} is empty: give a file with one word per line.")
        raise DataError(f"{source} holds only blank lines: give a file with one word per line.")
    return words


def training_words(words: Sequence[str] | None) -> list[str]:
    """The words to train on, as a list: ``None`` means the embedded names; none at all is an
    error. Each word is checked to be a str where training first joins them
    (:func:`~minibigram.vocab.joined_codes`), not here: one pass over them, not two."""
    if words is None:
        return load_words()
    listed = word_list(words)
    if not listed:
        raise DataError("there are no words to train on: give at least one word.")
    if isinstance(words, WordList):   # keep where they came from
        return WordList(listed, words.source, words.sha256)
    return listed


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


def open_words(path: PathLike, missing: str = "check the path") -> BinaryIO:
    """Open a word file for reading in binary, or raise the one-sentence error.

    ``"-"`` is standard input (:func:`stdin_bytes`). The file is opened once: a FIFO
    or a process substitution (``<(cat words.txt)``) can only be read once.

    Raises
    ------
    FileAccessError
    """
    source = os.fspath(path)
    if source == STDIN:
        return stdin_bytes()
    if os.path.isdir(source):
        raise FileAccessError(f"{source} is a folder, not a file: give the path of a text "
                              "file with one word per line.")
    try:
        return open(source, "rb")
    except OSError as e:
        raise read_error(source, e, missing) from None


#: The longest line :func:`read_word_lines` reads, in bytes: a word longer than this is
#: not a word (a binary file, or a file without line breaks), and holding it would cost
#: memory in proportion.
MAX_LINE_BYTES = 1 << 20


def read_word_lines(f: BinaryIO, source: str, chunk_bytes: int = 1 << 20,
                    max_line_bytes: int = MAX_LINE_BYTES
                    ) -> Iterator[tuple[list[str], list[int]]]:
    """The words of a binary stream and their line numbers (from 1), a chunk at a time.

    Lines are read as :func:`load_words` reads them (UTF-8, a leading byte-order mark
    dropped, white space stripped, blank lines skipped), but only about
    ``chunk_bytes`` are held at a time, and no line may be longer than
    ``max_line_bytes``: memory does not grow with the number of words nor with the
    length of a line. Each byte is read once. Unlike :func:`load_words`, a ``"."``
    inside a word is left for the scorer.

    Raises
    ------
    DataError
        If a line is not UTF-8, holds a NUL character or is longer than
        ``max_line_bytes``, naming ``source`` and the line.
    FileAccessError
        If the stream cannot be read.
    """
    lineno, carry, first = 0, b"", True
    while True:
        try:
            block = f.read(chunk_bytes)
        except OSError as e:
            raise read_error(source, e) from None
        ended = not block
        if first and not ended:                   # a UTF-8 byte-order mark?
            while len(block) < 3 and (more := f.read(chunk_bytes)):
                block += more
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
        first = False
        buf = carry + block if carry else block
        if ended:
            if not buf:
                return
            end = len(buf)              # the last line, without its line feed
        else:
            end = buf.rfind(b"\n") + 1
        if len(buf) - end > max_line_bytes or (end == 0 and len(buf) > max_line_bytes):
            raise DataError(f"{source} line {lineno + 1} is longer than "
                            f"{max_line_bytes:,} bytes, which is not a word: give one word per "
                            "line (is it a binary file, or a file without line breaks?).")
        raw, carry = buf[:end], buf[end:]
        if not raw:
            continue
        words, numbers = _numbered_words(raw, source, lineno, max_line_bytes)
        lineno += raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        if words:
            yield words, numbers


def _numbered_words(raw: bytes, source: str, lineno: int, max_line_bytes: int
                    ) -> tuple[list[str], list[int]]:
    """The words of whole lines ``raw`` (line ``lineno + 1`` on) and their line numbers."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = lineno + raw[: e.start].count(b"\n") + 1
        raise DataError(f"{source} is not UTF-8 text (undecodable byte at line {line}): "
                        "save it as UTF-8 and try again.") from None
    if "\x00" in text:
        line = lineno + text[: text.index("\x00")].count("\n") + 1
        raise DataError(f"{source} line {line} holds a NUL character (U+0000), which is "
                        "not text: give a text file with one word per line.")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(raw) > max_line_bytes and max(map(len, lines), default=0) > max_line_bytes:
        i = next(i for i, w in enumerate(lines) if len(w) > max_line_bytes)
        raise DataError(f"{source} line {lineno + i + 1} is longer than {max_line_bytes:,} "
                        "bytes, which is not a word: give one word per line (is it a binary "
                        "file, or a file without line breaks?).")
    if text.isascii() and not any(c in text for c in "\r\v\f\x1c\x1d\x1e" + ASCII_INNER_SPACE):
        if all(lines):   # nothing to strip, no blank line: the usual chunk
            return lines, list(range(lineno + 1, lineno + 1 + len(lines)))
        numbers = [n for n, w in enumerate(lines, lineno + 1) if w]
        return list(filter(None, lines)), numbers
    words: list[str] = []
    numbers = []
    for n, text_line in enumerate(lines, lineno + 1):
        # a line of other breaks (U+2028, \r) is several lines to str.splitlines
        for w in map(str.strip, text_line.splitlines() or [text_line]):
            if w:
                words.append(w)
                numbers.append(n)
    return words, numbers


def recorded_source(record: Any) -> str | None:
    """The path of the words a model's ``settings["data"]`` record names, if they are there
    unchanged (their sha256 is read in 1 MiB chunks); ``None`` for the embedded names.

    Parameters
    ----------
    record : dict
        :func:`data_record`'s ``{"source", "sha256", "num_words"}``.

    Raises
    ------
    DataError
        Saying why not: no record, words read from standard input or given as a list
        (nothing to read again), a file that is missing or whose sha256 has changed.
    """
    if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
        raise DataError("the model does not record its training data")
    source = record.get("source")
    if not isinstance(source, str) or source == STDIN_NAME:
        raise DataError(f"the model was trained on {source or 'a list of words'}, which "
                        "cannot be read again")
    path = None if source == EMBEDDED_NAMES else source
    if path is not None and not os.path.isfile(path):
        raise DataError(f"the model's training data {source} is not there any more")
    if file_sha256(path) != record["sha256"]:
        raise DataError(f"the model's training data {source} has changed since training "
                        "(its sha256 differs)")
    return path


# --- writing words into tab-separated output, and reading them back

#: How a field of minibigram's TSV output writes the characters that would break it, as
#: PostgreSQL's text COPY format does: tab, line feed, carriage return, backslash, and the
#: other line breaks str.splitlines knows (each as ``\xNN`` or ``\uNNNN``).
_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\v": "\\v", "\f": "\\f",
                **{c: f"\\x{ord(c):02x}" for c in "\x1c\x1d\x1e\x85"},
                "\u2028": "\\u2028", "\u2029": "\\u2029"}
#: A byte that is not UTF-8 reaches Python as a lone surrogate U+DC80..U+DCFF (the
#: "surrogateescape" of command-line arguments and file names): written as ``\xNN``, the byte.
_BYTE_ESCAPES = {chr(0xDC00 + b): f"\\x{b:02x}" for b in range(0x80, 0x100)}
_TSV_TABLE = str.maketrans({**_TSV_ESCAPES, **_BYTE_ESCAPES})
_BYTES_TABLE = str.maketrans(_BYTE_ESCAPES)
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE = {"t": "\t", "n": "\n", "r": "\r", "v": "\v", "f": "\f", "\\": "\\"}


def escape_bytes(text: str) -> str:
    """``text`` with every byte that was not UTF-8 written as ``\\xNN``: always valid UTF-8.

    Such a byte reaches Python as a lone surrogate U+DC80..U+DCFF (how Python decodes
    command-line arguments and file names); another lone surrogate, which only Python
    code can make, is written ``\\uNNNN``. ``--json`` output escapes its strings so.
    """
    text = text.translate(_BYTES_TABLE)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    return text


def escape_tsv(field: str) -> str:
    """A word (or any text) as one field of minibigram's tab-separated output.

    Backslash, tab, line feed and carriage return become ``\\\\``, ``\\t``, ``\\n``,
    ``\\r`` (PostgreSQL's text ``COPY`` format, ``mlr --tsv``); vertical tab and form
    feed ``\\v``, ``\\f``; the other line breaks (U+001C..U+001E, U+0085, U+2028,
    U+2029) ``\\xNN`` or ``\\uNNNN``; a byte that was not UTF-8 ``\\xNN`` (see
    :func:`escape_bytes`). The field then holds no tab and no line break, whatever
    the word, and is valid UTF-8. :func:`unescape_tsv` undoes it.
    """
    if field.isascii() and field.isprintable() and "\\" not in field:
        return field   # the usual word: nothing to escape
    field = field.translate(_TSV_TABLE)
    if _SURROGATE.search(field):
        field = _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", field)
    return field


def unescape_tsv(field: str) -> str:
    """The text :func:`escape_tsv` wrote as ``field``.

    ``\\xNN`` of 0x80..0xFF gives back the byte that was not UTF-8, as the lone
    surrogate U+DC00 + NN (``text.encode("utf-8", "surrogateescape")`` restores the
    bytes); a backslash before any other character stands for that character.
    """
    if "\\" not in field:
        return field

    def one(m: re.Match[str]) -> str:
        e = m[1]
        if len(e) == 1:
            return _SIMPLE.get(e, e)
        code = int(e[1:], 16)
        return chr(0xDC00 + code) if e[0] == "x" and code >= 0x80 else chr(code)
    return _UNESCAPE.sub(one, field)
