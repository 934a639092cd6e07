"""ARPA files: character back-off models in the text format of SRILM and KenLM, in and out.

An ARPA file lists, per order n, n-grams with their log10 probability and, below the
highest order, a log10 backoff weight: ``P(w | h) = 10**p(h w)`` if ``h w`` is listed,
else ``10**bo(h) P(w | h[1:])`` (``bo = 0`` for an unlisted ``h``). A character model
has one character per token, ``<s>`` first in a history, ``</s>`` as the end of a word
and optionally ``<unk>``.

:func:`read_arpa` streams a file line by line into a
:class:`~minibigram.backoff.BackoffModel` whose row for each listed history holds every
outcome's probability, so a lookup needs no chain of backoffs; it refuses a malformed
file with one sentence naming the line. :func:`write_arpa` writes a backoff model with
its backoff weights and ``<unk>``; reading what it wrote gives the same numbers to the
17 significant digits Python's ``repr`` keeps.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import IO

import numpy as np

from .archive import open_regular
from .backoff import BackoffModel, longest_history
from .errors import FileAccessError, ModelFileError, SettingsError, read_error
from .smoothing import Tables
from .vocab import Vocabulary
from .words import PathLike

#: The log10 probability ARPA files use for "never" (and for <s> as a target).
ARPA_NEVER = -99.0
START, END, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10)


class _Reader:
    """The lines of an ARPA file, each with its number, for one-sentence errors."""

    def __init__(self, f: IO[str], source: str) -> None:
        self.f, self.source, self.number, self.line = f, source, 0, ""

    def next(self) -> str | None:
        """The next line stripped, or None at the end of the file."""
        line = self.f.readline()
        if not line:
            return None
        self.number += 1
        self.line = line.strip()
        return self.line

    def error(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.source}, line {self.number}: {what}")


def _number(r: _Reader, text: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise r.error(f"the {what} {text!r} is not a number: fix or regenerate the "
                      "file.") from None
    if math.isnan(x) or x == math.inf:
        raise r.error(f"the {what} is {text}, not a log10 probability: regenerate the "
                      "file.")
    return x


def is_arpa(path: PathLike) -> bool:
    """Whether ``path`` is named ``*.arpa`` or is a text file whose first line is ``\\data\\``
    (SRILM's may follow a blank line); False for what cannot be read (its reader says why)."""
    if os.fspath(path).endswith(".arpa"):
        return True
    try:
        with open_regular(os.fspath(path)) as f:   # never blocks on a FIFO
            return f.read(64).lstrip().startswith(b"\\data\\")
    except (OSError, FileAccessError):
        return False


def read_arpa(path: PathLike) -> BackoffModel:
    """Read an ARPA character model (SRILM, KenLM, or :func:`write_arpa`) as a BackoffModel.

    Raises
    ------
    ModelFileError
        Naming the line: no ``\\data\\``, counts that disagree with the n-grams listed,
        a token longer than one character (a word-level model), a value that is not a
        finite log10 probability, a history never listed, or no ``\\end\\``.
    FileAccessError
        If the file cannot be read.
    """
    source = os.fspath(path)
    try:
        with io.TextIOWrapper(open_regular(source), encoding="utf-8") as f:
            return _read(_Reader(f, source))
    except OSError as e:
        raise read_error(source, e) from None
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{source} is not UTF-8 text ({e.reason} at byte {e.start}): "
                             "give an ARPA text file.") from None


def _read(r: _Reader) -> BackoffModel:
    while (line := r.next()) is not None and line != "\\data\\":
        pass
    if line is None:
        raise r.error("the file ends without a \\data\\ line: is it an ARPA file?")
    declared: list[int] = []
    where: list[int] = []                                         # the line of each count
    while (line := r.next()) is not None and not line.startswith("\\"):
        if not line:
            continue
        head, _, count = line.partition("=")
        parts = head.split()
        if (len(parts) != 2 or parts[0] != "ngram" or not parts[1].isdigit()
                or int(parts[1]) != len(declared) + 1 or not count.strip().isdigit()):
            raise r.error(f"{line!r} is not 'ngram {len(declared) + 1}=<count>': fix the "
                          "\\data\\ section.")
        declared.append(int(count))
        where.append(r.number)
    if not declared:
        raise r.error("the \\data\\ section declares no n-gram counts: fix the file.")
    N = len(declared)
    grams: list[list[tuple[tuple[str, ...], float, float, int]]] = []
    for n in range(1, N + 1):
        if line != f"\\{n}-grams:":
            raise r.error(f"expected the header \\{n}-grams:, found {line!r}: fix the file.")
        entries: list[tuple[tuple[str, ...], float, float, int]] = []
        while (line := r.next()) is not None and not line.startswith("\\"):
            if not line:
                continue
            fields = line.split()
            if len(fields) not in (n + 1, n + 2) or (n == N and len(fields) == n + 2):
                raise r.error(f"an {n}-gram line holds a log10 probability, {n} token(s)"
                              f"{' and a backoff weight' if n < N else ''}; this one has "
                              f"{len(fields)} fields: fix the file.")
            tokens = tuple(fields[1:n + 1])
            long = next((t for t in tokens if len(t) > 1 and t not in (START, END, UNK)), None)
            if long is not None:
                raise r.error(f"the token {long!r} is longer than one character: this is a "
                              "word-level model, and minibigram reads character models only.")
            p = _number(r, fields[0], "log10 probability")
            b = _number(r, fields[n + 1], "backoff weight") if len(fields) == n + 2 else 0.0
            if p > 0 or b == -math.inf:
                raise r.error(f"the log10 probability {fields[0]} is above 0 (a probability "
                              "above 1): fix the file.")
            entries.append((tokens, p, b, r.number))
        if len(entries) != declared[n - 1]:
            r.number = where[n - 1]
            raise r.error(f"\\data\\ declares {declared[n - 1]} {n}-grams but the "
                          f"\\{n}-grams: section lists {len(entries)}: fix the counts.")
        grams.append(entries)
    if line != "\\end\\":
        raise r.error("the file ends without the \\end\\ line: it may be cut short; "
                      "regenerate it.")
    return _model(r, grams)


def _model(r: _Reader, grams: list[list[tuple[tuple[str, ...], float, float, int]]]
           ) -> BackoffModel:
    """The BackoffModel of the parsed n-grams (``grams[n - 1]``: the n-grams)."""
    chars = sorted({g[0][0] for g in grams[0]} - {START, END, UNK})
    vocab = Vocabulary(chars)
    unk = any(g[0][0] == UNK for g in grams[0])
    V, Vu = len(vocab), len(vocab) + int(unk)
    ids = {c: i for i, c in enumerate(vocab.itos)}
    ids.update({START: 0, END: 0})
    if unk:
        ids[UNK] = V
    K = max(len(grams) - 1, 1)
    rows: dict[tuple[int, int], int] = {}                       # (length, code) -> row
    lengths, codes, backoffs = [0], [0], [0.0]
    lines: dict[tuple[int, int], int] = {}

    def code(tokens: tuple[str, ...], line: int) -> int:
        c = 0
        for i, t in enumerate(tokens):
            if (t == START and i) or t not in ids:
                r.number = line
                raise r.error(f"the token {t!r} appears where it cannot ({START} only first, "
                              "a character listed among the 1-grams): fix the file.")
            c = c * Vu + ids[t]
        return c

    for n, entries in enumerate(grams[:-1] if len(grams) > 1 else [], start=1):
        for tokens, _, b, line in entries:   # every n-gram below the top is a history
            if END in tokens:
                continue
            key = (n, code(tokens, line))
            if key in rows:
                r.number = line
                raise r.error(f"the {n}-gram {' '.join(tokens)!r} is listed twice: remove "
                              "one.")
            rows[key] = len(lengths)
            lines[key] = line
            lengths.append(n)
            codes.append(key[1])
            backoffs.append(b * LN10)
    order = np.lexsort((codes, lengths))                          # sorted by length, code
    L = np.array(lengths)[order]
    C = np.array(codes, dtype=np.int64)[order]
    logb = np.array(backoffs)[order]
    where = np.empty(len(order), np.int64)
    where[order] = np.arange(len(order))                          # old row -> sorted row
    logp = np.full((len(L), Vu), np.nan)                          # (R, Vu) filled below
    listed = np.zeros((len(L), Vu), bool)                         # (R, Vu)
    targets: dict[int, list[tuple[int, int, float]]] = {}         # length -> (row, id, log p)
    for n, entries in enumerate(grams, start=1):
        for tokens, p, _, line in entries:
            if tokens == (START,):
                continue
            hist, t = tokens[:-1], tokens[-1]
            if t == START:
                r.number = line
                raise r.error(f"{START} cannot be predicted: remove the n-gram "
                              f"{' '.join(tokens)!r}.")
            row = 0 if not hist else rows.get((n - 1, code(hist, line)))
            if row is None:
                r.number = line
                raise r.error(f"the {n}-gram {' '.join(tokens)!r} has no entry for its "
                              f"history {' '.join(hist)!r}: fix the file.")
            targets.setdefault(n - 1, []).append((int(where[row]), ids[t], p * LN10))
    starts = np.searchsorted(L, np.arange(K + 2))
    for k in range(K + 1):
        lo, hi = int(starts[k]), int(starts[k + 1])
        if k == 0:
            base = np.full((1, Vu), -np.inf)                      # a unigram must be listed
        else:   # bo(h) + log P(w | longest listed suffix of h[1:])
            below = longest_history(C[:lo], L[:lo], C[lo:hi] % Vu ** (k - 1), k - 1, Vu)
            base = logb[lo:hi, None] + logp[below]                # (C_k, Vu)
        logp[lo:hi] = base
        for row, w, p in targets.get(k, []):
            if listed[row, w]:
                raise ModelFileError(f"{r.source}: an n-gram of order {k + 1} is listed "
                                     "twice: remove one.")
            logp[row, w] = p
            listed[row, w] = True
    missing = np.flatnonzero(~listed[0])
    if len(missing):
        name = (END, *vocab.itos[1:], UNK)[int(missing[0])]
        raise ModelFileError(f"{r.source}: the 1-gram {name!r} is missing, so its "
                             "probability is unknown: list every character, </s> too.")
    tables = Tables(L.astype(np.int8), C, logp, logb, listed, [])
    return BackoffModel(tables, vocab, unk=unk, settings={"method": "arpa", "source": r.source})


def arpa_entries(model: BackoffModel) -> list[dict[tuple[str, ...], list[float]]]:
    """The n-grams of ``model`` per order 1..K+1: n-gram -> [log10 P, log10 backoff].

    Every seen n-gram with its probability; every history's backoff weight; ``<s>``
    (-99, its backoff that of the history ``.``); and the prefixes and suffixes ARPA
    needs that the model did not see, with the probability the model gives them (that
    of their longest seen history) and backoff 0.
    """
    t, Vu, K = model.tables, model.Vu, model.K
    spaces = [c for c in model.vocab.itos[1:] if c.isspace()]
    if spaces:
        raise SettingsError(f"the vocabulary holds the white space {spaces[0]!r}, which cannot "
                            "be an ARPA token (ARPA separates tokens by white space): export "
                            "as json instead.")
    names = [END, *model.vocab.itos[1:]] + ([UNK] if model.unk else [])
    ids = {name: i for i, name in enumerate(names)} | {START: 0}

    def code_of(gram: tuple[str, ...]) -> int:
        code = 0
        for tok in gram:
            code = code * Vu + ids[tok]
        return code
    rows = {(int(k), int(c)): i for i, (k, c) in enumerate(zip(t.lengths, t.codes))}
    log10 = t.log_probs / LN10                                   # (R, Vu)

    def tokens(k: int, code: int) -> tuple[str, ...]:
        digits = [(code // Vu**(k - 1 - i)) % Vu for i in range(k)]
        return tuple(START if (d == 0 and i == 0) else names[d] for i, d in enumerate(digits))

    def value(x: float) -> float:
        return float(x) if math.isfinite(x) else ARPA_NEVER

    orders: list[dict[tuple[str, ...], list[float]]] = [{} for _ in range(K + 1)]
    for r, (k, c) in enumerate(zip(t.lengths.tolist(), t.codes.tolist())):
        hist = tokens(k, c)
        for w in np.flatnonzero(t.listed[r]).tolist():
            orders[k][(*hist, names[w])] = [value(log10[r, w]), 0.0]
    orders[0][(START,)] = [ARPA_NEVER, 0.0]
    for n in range(K, 0, -1):   # what ARPA needs and the model did not see
        for gram in list(orders[n]):
            for part in (gram[:-1], gram[1:]):
                if part and part != (START,) and part not in orders[len(part) - 1]:
                    hist = part[:-1]
                    found = int(longest_history(t.codes, t.lengths, np.array([code_of(hist)]),
                                              len(hist), Vu)[0])
                    orders[len(part) - 1][part] = [value(log10[found, ids[part[-1]]]), 0.0]
    for n in range(K):   # backoff weights of the histories
        for gram, entry in orders[n].items():
            if END in gram:
                continue
            history = rows.get((n + 1, code_of(gram)))
            if history is not None:
                entry[1] = value(t.log_backoff[history] / LN10)
    return orders


def write_arpa(model: BackoffModel, f: IO[str]) -> None:
    """Write ``model`` as an ARPA back-off model (log10), backoff weights and ``<unk>`` included."""
    write_orders(arpa_entries(model), f)


def write_orders(orders: Sequence[Mapping[tuple[str, ...], Sequence[float]]],
                 f: IO[str]) -> None:
    """Write ARPA text: ``orders[n - 1]`` maps each n-gram to its ``(log10 p, log10
    backoff)``; the highest order's backoff is not written."""
    f.write("\\data\\\n")
    for n, table in enumerate(orders, start=1):
        f.write(f"ngram {n}={len(table)}\n")
    for n, table in enumerate(orders, start=1):
        f.write(f"\n\\{n}-grams:\n")
        last = n == len(orders)
        for gram in sorted(table):
            p, b = table[gram]
            words = " ".join(gram)
            f.write(f"{p!r}\t{words}\n" if last else f"{p!r}\t{words}\t{b!r}\n")
    f.write("\n\\end\\\n")
