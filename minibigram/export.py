"""Exports: a model's probabilities in files that need neither numpy nor minibigram.

Two formats, for every model kind (bigram, counts of any K, ngram, concat and backoff;
a backoff model's ARPA file carries its own backoff weights and ``<unk>``, see
:mod:`minibigram.arpa`):

- **JSON** (:func:`to_json`, :func:`write_json`), schema ``"minibigram-lm"`` version 1::

      {"format": "minibigram-lm", "version": 1,
       "kind": "bigram", "context": K, "boundary": ".", "boundary_id": 0,
       "itos": [".", "a", ...],              # the V characters, id order
       "unseen": "uniform",                  # a context not in log_probs: log(1/V) each
       "log_probs": {"..": [V numbers], ".a": [...], ...}}

  ``log_probs`` maps a context, the K previous characters as one string (a word's
  first contexts padded with ``"."`` on the left: ``"." * K + word``), to the natural
  log-probabilities of the V next characters in ``itos`` order (``"."`` ends the
  word); ``null`` is a probability of exactly 0. With K = 1 it is the full V x V
  table. With K > 1 it holds the contexts the model has a row for (those seen in
  training for the joint network and the count model; for the concat network every
  context a word can produce, up to :data:`MAX_ROWS` entries); any other context
  gets the uniform row, as in the model.

- **ARPA** (:func:`write_arpa`), the n-gram text format of SRILM and KenLM, with
  log10 probabilities, ``<s>`` for the boundary as a context and ``</s>`` as a
  target. The model's contexts padded with j boundaries, ``"." * j + c_1 ...
  c_{K-j}``, can only occur at a word's start, so they are written as the shorter
  n-grams ``<s> c_1 ... c_{K-j} w`` (order K - j + 2) that an ARPA scorer, whose
  sentence starts with a single ``<s>``, looks up; contexts of K characters are
  n-grams of order K + 1. Every other n-gram (the lower orders ARPA requires: the
  prefixes and suffixes of those entries, and every unigram) has the uniform
  probability 1/V and every backoff weight is 0 (log10 1). So a lookup either finds
  the model's exact entry or backs off to the uniform probability, which is exactly
  the model's row for an unseen context. ``<s>`` is never predicted (-99, by
  convention), and a probability of 0 is written -99 too.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .arpa import write_arpa as write_backoff_arpa
from .arpa import write_orders
from .backoff import BackoffModel
from .errors import SettingsError, check_choice, check_size
from .examples import all_contexts
from .models import LanguageModel
from .safewrite import atomic_write
from .words import PathLike

FORMAT = "minibigram-lm"
VERSION = 1
FORMATS = ("json", "arpa")
#: Most log-probabilities (contexts x V) an export writes.
MAX_ROWS = 2**24
#: The log10 probability ARPA files use for "never" (and for <s> as a target).
ARPA_NEVER = -99.0


def _contexts(model: LanguageModel) -> np.ndarray:
    """The (C, K) contexts whose rows are written: sorted by code, boundary-padded on the left."""
    V, K = model.V, model.K
    seen = getattr(model, "contexts", None)
    if K == 1:
        return all_contexts(V, 1)                                 # (V, 1) every character
    if seen is not None:
        return np.asarray(seen, dtype=np.int64)                   # (C, K) from training
    count = sum((V - 1) ** (K - j) for j in range(K + 1))         # j leading boundaries
    if count * V > MAX_ROWS:
        raise SettingsError(f"exporting this {model.kind} model means {count * V:,} "
                            f"log-probabilities, more than {MAX_ROWS:,}: use a shorter "
                            "context.")
    rows = [np.zeros((1, K), np.int64)]                           # the all-boundary start
    for j in range(K):   # j leading boundaries, then K - j characters
        chars = all_contexts(V - 1, K - j) + 1                    # ((V-1)**(K-j), K-j)
        rows.append(np.hstack([np.zeros((len(chars), j), np.int64), chars]))
    return np.concatenate(rows)                                   # (count, K)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


#: Memory one ARPA n-gram takes while the file is assembled (a tuple of strings, a float,
#: a dict slot; measured: 150-200 bytes), for the check before an ARPA export starts.
ARPA_ENTRY_BYTES = 200


def _json_header(model: LanguageModel) -> dict[str, Any]:
    itos = model.vocab.itos
    return {"format": FORMAT, "version": VERSION, "kind": model.kind, "context": model.K,
            "boundary": itos[0], "boundary_id": 0, "itos": list(itos), "unseen": "uniform"}


def _json_row(row: np.ndarray) -> str:
    """One row of ``log_probs`` as JSON, as ``json.dumps`` writes it (null for -inf).

    Writing a float is what an export spends its time on, so a row of few distinct
    values (a count model's: one per count) writes each of them once.
    """
    distinct, which = np.unique(row, return_inverse=True)          # (u,), (V,)
    if 2 * len(distinct) > len(row):
        return json.dumps([_finite(v) for v in row.tolist()], allow_nan=False)
    text = [json.dumps(_finite(v), allow_nan=False) for v in distinct.tolist()]
    return "[" + ", ".join([text[i] for i in which.tolist()]) + "]"


@dataclass
class Export:
    """A model's export, sized before it is written: :func:`plan_export` makes one.

    Attributes
    ----------
    format : str
        ``"json"`` or ``"arpa"``.
    nbytes : int
        The size of the file, estimated from a sample of its rows (within a few percent).
    seconds : float
        The time :meth:`write` will take, estimated the same way.
    """

    model: LanguageModel
    format: str
    contexts: np.ndarray
    table: np.ndarray
    nbytes: int
    seconds: float

    def write(self, path: PathLike) -> None:
        """Write the file to ``path`` atomically (UTF-8), row by row for JSON.

        Raises
        ------
        SettingsError
            If the folder of ``path`` has less free space than :attr:`nbytes`.
        FileAccessError
            If ``path`` cannot be written.
        """
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = None   # no such folder: atomic_write names the problem
        if free is not None and self.nbytes > free:
            raise SettingsError(f"the export would take about {self.nbytes / 1e6:,.0f} MB, "
                                f"more than the {free / 1e6:,.0f} MB free in {folder}: free "
                                "some space or write it elsewhere.")

        def write(f: IO[bytes]) -> None:
            text = io.TextIOWrapper(f, encoding="utf-8", newline="\n")
            for piece in self.pieces():
                text.write(piece)
            text.flush()
            text.detach()

        atomic_write(path, write)

    def pieces(self) -> Iterator[str]:
        """The file's text, a row (JSON) or a section (ARPA) at a time."""
        if self.format == "arpa" and isinstance(self.model, BackoffModel):
            f = io.StringIO()
            write_backoff_arpa(self.model, f)
            yield f.getvalue()
            return
        if self.format == "arpa":
            yield _arpa_text(self.model, self.contexts, self.table)
            return
        head = json.dumps(_json_header(self.model), ensure_ascii=False, allow_nan=False)
        yield head[:-1] + ', "log_probs": {'
        itos = self.model.vocab.itos
        for i, (ctx, row) in enumerate(zip(self.contexts.tolist(), self.table)):
            key = json.dumps("".join(itos[c] for c in ctx), ensure_ascii=False)
            yield f"{', ' if i else ''}{key}: {_json_row(row)}"
        yield "}}\n"


def plan_export(model: LanguageModel, format: str = "json") -> Export:
    """Compute ``model``'s log-probability table once and size its export before writing.

    The table is (C, V) float64 (C contexts: V for K = 1). JSON is then written row by
    row; ARPA needs every n-gram in memory first (:data:`ARPA_ENTRY_BYTES` each).

    Raises
    ------
    SettingsError
        If the table, or an ARPA file's n-grams, would take more memory than the
        machine has for it (:func:`~minibigram.errors.check_size`); or, for a concat
        network, more than :data:`MAX_ROWS` entries.
    """
    check_choice("export format", format, FORMATS)
    if format == "json" and isinstance(model, BackoffModel) and model.unk:
        raise SettingsError("the JSON format has no <unk>, which this model reserves: export "
                            "as arpa, which carries it.")
    X = _contexts(model)                                          # (C, K)
    C, V = len(X), model.V
    check_size(f"the table of {C:,} x {V:,} log-probabilities", 8.0 * C * V,
                  "export a model with fewer characters or contexts")
    if format == "arpa":
        _check_arpa_tokens(model)
        check_size(f"the {C * V:,} n-grams of the ARPA file", ARPA_ENTRY_BYTES * C * V,
                      "export as json instead, which is written row by row")
    start = time.perf_counter()
    L = model.log_rows(X)                                         # (C, V) once
    table_seconds = time.perf_counter() - start
    sample = np.unique(np.linspace(0, C - 1, min(C, 64)).astype(np.int64))
    start = time.perf_counter()
    if format == "json":
        row_bytes = [len(_json_row(L[i]).encode("utf-8")) + 4 * model.K + 4 for i in sample]
    else:   # ARPA: a line per entry, "log10<TAB>gram<TAB>0"
        row_bytes = [sum(len(repr(v / math.log(10))) + 2 * model.K + 6 for v in L[i].tolist())
                     for i in sample]
    per_row = (time.perf_counter() - start) / len(sample)
    nbytes = int(sum(row_bytes) / len(sample) * C) + 200 + 8 * V
    seconds = table_seconds + per_row * C * (2.0 if format == "json" else 6.0)
    return Export(model, format, X, L, nbytes, seconds)


def to_json(model: LanguageModel) -> dict[str, Any]:
    """The model as a JSON-ready dict of schema ``"minibigram-lm"`` version 1 (module docstring).

    Raises
    ------
    SettingsError
        For a concat network whose table would exceed :data:`MAX_ROWS` entries.
    """
    if isinstance(model, BackoffModel) and model.unk:
        raise SettingsError("the JSON format has no <unk>, which this model reserves: export "
                            "as arpa, which carries it.")
    X = _contexts(model)                                          # (C, K)
    L = model.log_rows(X)                                         # (C, V)
    itos = model.vocab.itos
    keys = ["".join(itos[i] for i in row) for row in X.tolist()]
    return {**_json_header(model),
            "log_probs": {k: [_finite(v) for v in row] for k, row in zip(keys, L.tolist())}}


def write_json(model: LanguageModel, f: IO[str]) -> None:
    """Write :func:`to_json` of ``model`` to the text file ``f`` (UTF-8, strict JSON), row
    by row: the same text as ``json.dump``, without the whole document in memory."""
    for piece in plan_export(model, "json").pieces():
        f.write(piece)


def arpa_entries(model: LanguageModel) -> list[dict[tuple[str, ...], float]]:
    """The ARPA n-grams of ``model``: one dict per order 1 .. K+1, n-gram -> log10 P.

    See the module docstring; every backoff weight is 0 (log10 1).
    """
    _check_arpa_tokens(model)
    X = _contexts(model)                                          # (C, K)
    return _arpa_entries(model, X, model.log_rows(X))


def _check_arpa_tokens(model: LanguageModel) -> None:
    spaces = [c for c in model.vocab.itos if c.isspace()]
    if spaces:
        raise SettingsError(f"the vocabulary holds the white space {spaces[0]!r}, which cannot "
                            "be an ARPA token (ARPA separates tokens by white space): export "
                            "as json instead.")


def _arpa_entries(model: LanguageModel, X: np.ndarray, L: np.ndarray
                  ) -> list[dict[tuple[str, ...], float]]:
    """:func:`arpa_entries` from the contexts ``X`` (C, K) and their log table ``L`` (C, V)."""
    V, K = model.V, model.K
    itos = model.vocab.itos
    L = L / math.log(10)                                          # (C, V) log10
    targets = ["</s>", *itos[1:]]
    orders: list[dict[tuple[str, ...], float]] = [{} for _ in range(K + 1)]
    for ctx, row in zip(X.tolist(), L.tolist()):
        j = next((i for i, c in enumerate(ctx) if c != 0), K)     # leading boundaries
        if any(c == 0 for c in ctx[j:]):
            continue   # a boundary inside a context: no word produces it
        history = (("<s>",) if j else ()) + tuple(itos[c] for c in ctx[j:])
        table = orders[len(history)]
        for t, lp in zip(targets, row):
            table[(*history, t)] = lp if math.isfinite(lp) else ARPA_NEVER
    uniform = -math.log10(V)
    for n in range(K, 0, -1):   # every prefix and suffix, down to the unigrams: uniform
        for gram in list(orders[n]):
            for part in (gram[:-1], gram[1:]):
                if part and part != ("<s>",) and part not in orders[len(part) - 1]:
                    orders[len(part) - 1][part] = uniform
    for t in targets:
        orders[0][(t,)] = uniform
    orders[0][("<s>",)] = ARPA_NEVER
    return orders


def write_arpa(model: LanguageModel, f: IO[str]) -> None:
    """Write ``model`` as an ARPA back-off language model (log10; see the module docstring).

    A :class:`~minibigram.backoff.BackoffModel` is written with its own backoff weights
    and ``<unk>`` (:func:`minibigram.arpa.write_arpa`).
    """
    for piece in plan_export(model, "arpa").pieces():
        f.write(piece)


def _arpa_text(model: LanguageModel, X: np.ndarray, L: np.ndarray) -> str:
    f = io.StringIO()
    write_orders([{gram: (p, 0) for gram, p in table.items()}   # every backoff log10 1 = 0
                  for table in _arpa_entries(model, X, L)], f)
    return f.getvalue()


def export_model(model: LanguageModel, path: PathLike, format: str = "json") -> None:
    """Write ``model`` to ``path`` as ``"json"`` or ``"arpa"``, atomically (UTF-8).

    The same as ``plan_export(model, format).write(path)``: sized first, refused if it
    would not fit in memory or on the disk (:func:`plan_export`, :meth:`Export.write`).
    """
    plan_export(model, format).write(path)
