"""Honest evaluation: train on train, choose on dev, and read the test set once, at the end.

A loss here is always the mean negative log-likelihood per predicted character
(end tokens included), without the L2 term: the number that compares models.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .backoff import BackoffModel
from .errors import DataError, SettingsError, check_choice, check_words
from .examples import ContextCounts
from .models import FAMILIES, BigramModel, CountModel, LanguageModel, NGramModel, is_bigram
from .perplexity import Perplexity, perplexity
from .vocab import Vocabulary
from .words import parse_split, split_words

#: The hyperparameter each model kind sweeps.
PARAM = {"network": "reg", "counts": "smoothing"}


def fit_kind(kind: str, words: Sequence[str] | None, *, context: int = 1, encoding: str = "joint",
             value: float = 0.01, vocab: Vocabulary | None = None,
             counts: ContextCounts | None = None, **options: Any) -> LanguageModel:
    """Fit one model of ``kind`` ("network" or "counts") with its hyperparameter ``value``.

    ``value`` is ``reg`` for the network and the smoothing ``k`` for the count model.
    For "counts", ``options`` may choose a smoothing ``method`` (one of
    :data:`minibigram.smoothing.METHODS`, default ``"add-k"``), a ``discount`` and
    ``unk``: add-k without ``<unk>`` is the notebook's :class:`CountModel`, every other
    choice a :class:`~minibigram.backoff.BackoffModel`.
    The network with a context of 1 and the joint encoding is the notebook's
    :class:`BigramModel` (``options`` such as solver, steps, lr, seed, dtype,
    engine, init, callback reach its ``fit``, with the notebook's defaults); longer
    contexts or the concat encoding are an :class:`NGramModel`, solved by Newton's
    method unless ``options`` say otherwise. ``counts`` (of contexts of ``context``
    characters, with ``words=None``) train any kind instead of words.
    """
    check_choice("model kind", kind, FAMILIES)
    if kind == "counts":
        method = options.pop("method", "add-k")
        if method == "add-k" and not options.get("unk"):   # the notebook's table
            return CountModel.fit(words, smoothing=value, context=context, vocab=vocab,
                                  counts=counts)
        return BackoffModel.fit(words, context=context, method=method, smoothing=value,
                                vocab=vocab, counts=counts, **options)
    options["counts"] = counts
    if is_bigram(context, encoding):
        return BigramModel.fit(words, reg=value, vocab=vocab, **options)
    return NGramModel.fit(words, context=context, encoding=encoding, reg=value, vocab=vocab,
                          **options)


def score_record(model: LanguageModel, words: Sequence[str], unknown: str = "error"
                 ) -> tuple[np.ndarray, np.ndarray, Perplexity | None]:
    """Each word's log-probability (m,) and NLL per token (m,), and the perplexity record
    of them all (None for no words); ``unknown`` as in
    :meth:`~minibigram.models.LanguageModel.token_log_probs`."""
    logp, lengths, unk, skipped = model.token_log_probs(words, unknown)
    if not len(lengths):
        return np.zeros(0), np.zeros(0), None
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))   # (m,) each word's first
    lp = np.add.reduceat(logp, starts)                             # (m,)
    return lp, -lp / (lengths + 1), perplexity(logp, lengths, unk, skipped)


def split_perplexities(model: LanguageModel, splits: Mapping[str, Sequence[str]]
                       ) -> dict[str, Perplexity | None]:
    """The perplexity record of each named word list (checked by :func:`split_losses`);
    None for an empty one."""
    return {name: (model.perplexity(ws) if len(ws) else None) for name, ws in splits.items()}


def split_losses(model: LanguageModel,
                 splits: Mapping[str, Sequence[str]]) -> dict[str, float | None]:
    """Mean NLL per character on each named word list; empty lists give None.

    Raises
    ------
    DataError
        If a list holds characters the model never saw, naming the list and the
        characters.
    """
    splits = {name: check_words(ws) for name, ws in splits.items()}
    for name, ws in splits.items():
        chars = model.vocab.unknown("".join(ws))
        if chars:
            named = " and ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:5])
            what = "the words" if name == "all" else f"the {name} words"
            raise DataError(f"{what} contain {named}{' ...' if len(chars) > 5 else ''}, which "
                            "the model's vocabulary lacks, so the model cannot score them: "
                            "remove those words, or train on data that contains them.")
    return {name: (model.nll(ws) if len(ws) else None) for name, ws in splits.items()}


def sweep(words: Sequence[str], *, kinds: Sequence[str] = ("network", "counts"),
          contexts: Sequence[int] = (1, 2, 3), regs: Sequence[float] | None = None,
          smoothings: Sequence[float] = (0.0, 0.01, 0.1, 0.5, 1.0), encoding: str = "joint",
          fractions: Sequence[float] = (0.8, 0.1, 0.1), split_seed: int = 42,
          **gd: Any) -> dict[str, Any]:
    """Train every setting on train, choose on dev, then read the test set once.

    Parameters
    ----------
    words : sequence of str
        All the data; split by :func:`minibigram.data.split_words`.
    kinds : model kinds, "network" and/or "counts"
    contexts : context lengths K
    regs : reg values swept for the network; default 0, 0.001, 0.01, 0.1, 1 (without
        0 for the concat encoding, whose exact solver needs reg > 0). Each network is
        solved exactly (Newton's method, float64) unless ``gd`` says otherwise: a sweep
        compares the optima of its settings, not how far 100 steps get.
    smoothings : k values swept for the count model
    encoding : {"joint", "concat"}, the network's encoding
    fractions : train/dev/test fractions
    split_seed : int
    gd : solver, steps, lr, seed, dtype, passed to :func:`fit_kind`

    Returns
    -------
    dict
        ``rows``: one per setting with its train and dev loss (``chosen`` marks the
        best of its group on dev); ``groups``: per
        (kind, K), the setting with the lowest dev loss and, computed only after
        every setting was trained and chosen, its test loss; ``best``: the overall
        choice on dev, with its test loss; ``seconds``: wall time of the sweep.

    Notes
    -----
    The vocabulary is built from all the words, so that a character seen only in
    dev or test can be scored; it carries no information about the targets.
    """
    if regs is None:
        regs = (0.001, 0.01, 0.1, 1.0) if encoding == "concat" else (0.0, 0.001, 0.01, 0.1, 1.0)
    for kind in kinds:   # before any training
        check_choice("model kind", kind, FAMILIES)
    gd = {"solver": "newton", "dtype": "float64", **gd}
    if len(fractions) != 3 or not fractions[1] > 0:
        raise SettingsError("a sweep chooses on the dev set: give a split with a dev part, "
                            "such as 80/10/10.")
    start = time.perf_counter()
    vocab = Vocabulary.from_words(words)
    train, dev, test = split_words(words, fractions, split_seed)
    if not dev:
        raise SettingsError(f"the dev part of the split holds no word of the {len(words)}: "
                            "give more words or a larger dev share.")
    rows: list[dict[str, Any]] = []
    winners: dict[tuple[str, int], tuple[dict[str, Any], Any]] = {}
    for kind in kinds:
        values = regs if kind == "network" else smoothings
        for K in contexts:
            for value in values:
                model = fit_kind(kind, train, context=K, encoding=encoding, value=value,
                                 vocab=vocab, **gd)
                row = {"kind": kind, "context": K, PARAM.get(kind, "value"): value,
                       "train": model.nll(train), "dev": model.nll(dev), "chosen": False}
                rows.append(row)
                key = (kind, K)
                if key not in winners or row["dev"] < winners[key][0]["dev"]:
                    winners[key] = (row, model)
    # Every choice is made; only now is the test set read, once per chosen model.
    groups: list[dict[str, Any]] = []
    for row, model in winners.values():
        row["chosen"] = True
        groups.append({**row, "test": model.nll(test) if test else None})
    best = min(groups, key=lambda g: g["dev"])
    return {"split": list(fractions), "split_seed": split_seed, "encoding": encoding,
            "sizes": {"train": len(train), "dev": len(dev), "test": len(test)},
            "rows": rows, "groups": groups, "best": best,
            "seconds": time.perf_counter() - start}


def model_split(model: LanguageModel, words: Sequence[str],
                split: Sequence[float] | None = None, seed: int | None = None
                ) -> dict[str, list[str]]:
    """The words as the model saw them: ``{"train", "dev", "test"}`` by its own split.

    ``split`` and ``seed`` default to the model's settings (``"split"``,
    ``"split_seed"``); without a split, every word is ``"train"``.
    """
    if split is None and "split" in model.settings:
        split = parse_split(str(model.settings["split"]))
    if split is None:
        return {"train": list(words), "dev": [], "test": []}
    if seed is None:
        seed = model.settings.get("split_seed", 42)
    train, dev, test = split_words(words, split, seed)
    return {"train": train, "dev": dev, "test": test}


def sample_marks(samples: Sequence[str], parts: dict[str, list[str]]) -> list[str]:
    """Where each sample occurs: ``"in-train"``, ``"in-dev"``, ``"in-test"`` or ``"new"``.

    ``parts`` is :func:`model_split`'s result; a word in several parts is marked by
    the first of train, dev, test.
    """
    where: dict[str, str] = {}
    for name in ("test", "dev", "train"):   # train last: it wins for duplicates
        where.update(dict.fromkeys(parts.get(name, []), f"in-{name}"))
    return [where.get(s, "new") for s in samples]
