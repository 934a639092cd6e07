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
from typing import IO, Any

import numpy as np

from .arpa import write_arpa as write_backoff_arpa
from .backoff import BackoffModel
from .errors import SettingsError, check_choice
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
    return {"format": FORMAT, "version": VERSION, "kind": model.kind, "context": model.K,
            "boundary": itos[0], "boundary_id": 0, "itos": list(itos), "unseen": "uniform",
            "log_probs": {k: [_finite(v) for v in row] for k, row in zip(keys, L.tolist())}}


def write_json(model: LanguageModel, f: IO[str]) -> None:
    """Write :func:`to_json` of ``model`` to the text file ``f`` (UTF-8, strict JSON)."""
    json.dump(to_json(model), f, ensure_ascii=False, allow_nan=False)
    f.write("\n")


def arpa_entries(model: LanguageModel) -> list[dict[tuple[str, ...], float]]:
    """The ARPA n-grams of ``model``: one dict per order 1 .. K+1, n-gram -> log10 P.

    See the module docstring; every backoff weight is 0 (log10 1).
    """
    V, K = model.V, model.K
    itos = model.vocab.itos
    spaces = [c for c in itos if c.isspace()]
    if spaces:
        raise SettingsError(f"the vocabulary holds the white space {spaces[0]!r}, which cannot "
                            "be an ARPA token (ARPA separates tokens by white space): export "
                            "as json instead.")
    X = _contexts(model)                                          # (C, K)
    L = model.log_rows(X) / math.log(10)                          # (C, V) log10
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
    if isinstance(model, BackoffModel):
        write_backoff_arpa(model, f)
        return
    orders = arpa_entries(model)
    f.write("\\data\\\n")
    for n, table in enumerate(orders, start=1):
        f.write(f"ngram {n}={len(table)}\n")
    for n, table in enumerate(orders, start=1):
        f.write(f"\n\\{n}-grams:\n")
        last = n == len(orders)
        for gram in sorted(table):
            line = f"{table[gram]!r}\t{' '.join(gram)}"
            f.write(line + "\n" if last else line + "\t0\n")
    f.write("\n\\end\\\n")


def export_model(model: LanguageModel, path: PathLike, format: str = "json") -> None:
    """Write ``model`` to ``path`` as ``"json"`` or ``"arpa"``, atomically (UTF-8)."""
    check_choice("export format", format, FORMATS)
    writer = write_json if format == "json" else write_arpa

    def write(f: IO[bytes]) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="\n")
        writer(model, text)
        text.flush()
        text.detach()

    atomic_write(path, write)
