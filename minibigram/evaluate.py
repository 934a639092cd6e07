"""Honest evaluation: train on train, choose on dev, and read the test set once, at the end.

A loss here is always the mean negative log-likelihood per predicted character
(end tokens included), without the L2 term: the number that compares models.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .backoff import BackoffModel
from .errors import DataError, SettingsError, check_choice, check_has_words, check_words
from .examples import ContextCounts
from .models import (
    FAMILIES,
    UNKNOWN,
    BigramModel,
    CountModel,
    LanguageModel,
    NGramModel,
    is_bigram,
)
from .perplexity import Perplexity, combine, perplexity
from .stdio import json_line
from .vocab import Vocabulary
from .words import (
    STDIN,
    STDIN_NAME,
    PathLike,
    WordList,
    check_words_memory,
    data_record,
    embedded_names_path,
    escape_tsv,
    load_words,
    open_words,
    parse_split,
    read_word_lines,
    recorded_source,
    split_words,
    stdin_bytes,
)

#: The hyperparameter each model family sweeps.
PARAM = {"network": "reg", "counts": "smoothing"}


def fit_family(family: str, words: Sequence[str] | None, *, context: int = 1,
               encoding: str = "joint", value: float = 0.01, vocab: Vocabulary | None = None,
               counts: ContextCounts | None = None, **options: Any) -> LanguageModel:
    """Fit one model of ``family`` ("network" or "counts") with its hyperparameter ``value``.

    ``value`` is ``reg`` for the network and the smoothing ``k`` for the count model.
    The network with a context of 1 and the joint encoding is the notebook's
    :class:`BigramModel` (``options`` such as solver, steps, lr, seed, dtype,
    engine, init, callback reach its ``fit``, with the notebook's defaults); longer
    contexts or the concat encoding are an :class:`NGramModel`, solved by Newton's
    method unless ``options`` say otherwise. ``counts`` (of contexts of ``context``
    characters, with ``words=None``) train any kind instead of words. For "counts",
    ``options`` may choose a smoothing ``method`` (one of
    :data:`minibigram.smoothing.METHODS`, default ``"add-k"``), a ``discount`` and
    ``unk``: add-k without ``<unk>`` is the notebook's :class:`CountModel`, every other
    choice a :class:`~minibigram.backoff.BackoffModel`.
    """
    check_choice("model family", family, FAMILIES)
    if family == "counts":
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


def score_record(model: LanguageModel, words: Sequence[str], unknown: str = "error",
                 left_out: int = 0) -> tuple[np.ndarray, np.ndarray, Perplexity | None]:
    """Each word's log-probability (m,) and NLL per token (m,), and the perplexity record
    of them all (None for no words); ``unknown`` as in
    :meth:`~minibigram.models.LanguageModel.token_log_probs`.

    An empty word (one whose every character was unknown and left out, see
    :func:`known_words`) is its end token after ``"." * K``; ``left_out`` characters
    removed before scoring count as the record's unknowns.
    """
    if not len(words):
        return np.zeros(0), np.zeros(0), None
    logp, lengths, unk, skipped = model.token_log_probs(words, unknown)   # (n,), (m,), (n,)
    if not len(lengths):   # every word skipped
        return np.zeros(0), np.zeros(0), None
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))   # (m,) each word's first
    lp = np.add.reduceat(logp, starts)                             # (m,)
    return lp, -lp / (lengths + 1), perplexity(logp, lengths, unk, skipped + left_out)


def words_record(model: LanguageModel, words: Sequence[str], unknown: str = "error"
                 ) -> Perplexity | None:
    """The perplexity record of ``words`` as ``unknown`` scores them (:func:`known_words`,
    as :class:`Scores` scores a chunk); None when no word is left to score."""
    words = check_words(words)
    known = known_words(model, words, unknown)
    how = "unk" if unknown == "unk" and model.unk else "error"
    left_out = sum(map(len, words)) - sum(map(len, known)) if unknown == "unk" else 0
    return score_record(model, known, how, left_out)[2]


def split_losses(model: LanguageModel,
                 splits: Mapping[str, Sequence[str]]) -> dict[str, float | None]:
    """Mean NLL per character on each named word list; empty lists give None.

    Raises
    ------
    DataError
        If a list holds characters the model never saw, naming the list and the
        characters (:func:`check_known`).
    """
    checked = check_known(model, splits)
    return {name: (model.nll(ws) if ws else None) for name, ws in checked.items()}


def check_known(model: LanguageModel, splits: Mapping[str, Sequence[str]]
                ) -> dict[str, list[str]]:
    """The named word lists as lists, if the model knows every character of them.

    Raises
    ------
    DataError
        Naming the list and the characters the model's vocabulary lacks.
    """
    lists = {name: check_words(ws) for name, ws in splits.items()}
    for name, ws in lists.items():
        chars = model.vocab.unknown("".join(ws))
        if chars:
            named = " and ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:5])
            what = "the words" if name == "all" else f"the {name} words"
            raise DataError(f"{what} contain {named}{' ...' if len(chars) > 5 else ''}, which "
                            "the model's vocabulary lacks, so the model cannot score them: "
                            "remove those words, or train on data that contains them.")
    return lists


def sweep(words: Sequence[str], *, families: Sequence[str] = ("network", "counts"),
          contexts: Sequence[int] = (1, 2, 3), regs: Sequence[float] | None = None,
          smoothings: Sequence[float] = (0.0, 0.01, 0.1, 0.5, 1.0), encoding: str = "joint",
          fractions: Sequence[float] = (0.8, 0.1, 0.1), split_seed: int = 42,
          kinds: Sequence[str] | None = None, **gd: Any) -> dict[str, Any]:
    """Train every setting on train, choose on dev, then read the test set once.

    Parameters
    ----------
    words : sequence of str
        All the data; split by :func:`minibigram.data.split_words`.
    families : model families, "network" and/or "counts"
    contexts : context lengths K
    regs : reg values swept for the network; default 0, 0.001, 0.01, 0.1, 1 (without
        0 for the concat encoding, whose exact solver needs reg > 0). Each network is
        solved exactly (Newton's method, float64) unless ``gd`` says otherwise: a sweep
        compares the optima of its settings, not how far 100 steps get.
    smoothings : k values swept for the count model
    encoding : {"joint", "concat"}, the network's encoding
    fractions : train/dev/test fractions
    split_seed : int
    kinds : the old name of ``families`` (deprecated: "kind" now names the model file kinds)
    gd : solver, steps, lr, seed, dtype, passed to :func:`fit_family`

    Returns
    -------
    dict
        ``rows``: one per setting with its train and dev loss (``chosen`` marks the
        best of its group on dev); ``groups``: per
        (family, K), the setting with the lowest dev loss and, computed only after
        every setting was trained and chosen, its test loss; ``best``: the overall
        choice on dev, with its test loss; ``seconds``: wall time of the sweep.

    Notes
    -----
    The vocabulary is built from all the words, so that a character seen only in
    dev or test can be scored; it carries no information about the targets.
    """
    if kinds is not None:
        warnings.warn("sweep(kinds=...) is now sweep(families=...).", DeprecationWarning,
                      stacklevel=2)
        families = kinds
    if regs is None:
        regs = (0.001, 0.01, 0.1, 1.0) if encoding == "concat" else (0.0, 0.001, 0.01, 0.1, 1.0)
    for family in families:   # before any training
        check_choice("model family", family, FAMILIES)
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
    for family in families:
        values = regs if family == "network" else smoothings
        for K in contexts:
            for value in values:
                model = fit_family(family, train, context=K, encoding=encoding, value=value,
                                   vocab=vocab, **gd)
                row = {"family": family, "context": K, PARAM[family]: value,
                       "train": model.nll(train), "dev": model.nll(dev), "chosen": False}
                rows.append(row)
                key = (family, K)
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


def sweep_report(r: dict[str, Any]) -> str:
    """:func:`sweep`'s result as the tables ``minibigram sweep`` prints: every setting's
    train and dev loss, the one chosen per family and context with its test loss, the best."""
    sz = r["sizes"]
    lines = [f"split {'/'.join(f'{100 * f:g}' for f in r['split'])} (seed {r['split_seed']}): "
             f"{sz['train']} train, {sz['dev']} dev, {sz['test']} test words; mean NLL per "
             "character",
             f"{'model':<8} {'K':>2} {'setting':<16} {'train':>8} {'dev':>8}"]

    def setting(row: dict[str, Any]) -> str:
        name = PARAM[row["family"]]
        return f"{row['family']:<8} {row['context']:>2} {name + ' ' + format(row[name], 'g'):<16}"

    def test(row: dict[str, Any]) -> str:
        return "-" if row["test"] is None else f"{row['test']:.4f}"

    for row in r["rows"]:
        mark = " <- best on dev" if row["chosen"] else ""
        lines.append(f"{setting(row)} {row['train']:>8.4f} {row['dev']:>8.4f}{mark}")
    lines += ["", "chosen on dev, then scored once on test:",
              f"{'model':<8} {'K':>2} {'setting':<16} {'train':>8} {'dev':>8} {'test':>8}"]
    for g in r["groups"]:
        lines.append(f"{setting(g)} {g['train']:>8.4f} {g['dev']:>8.4f} {test(g):>8}")
    b = r["best"]
    lines += ["", f"best on dev: {b['family']} K={b['context']} {PARAM[b['family']]} "
                  f"{b[PARAM[b['family']]]:g}: dev {b['dev']:.4f}, test {test(b)}"]
    return "\n".join(lines)


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


#: What avoids reading the data whole to mark samples (``sample --mark``).
MARK_HINT = "give a smaller word file as the data (--data), e.g. a sample of it"


def model_source(model: LanguageModel, data: PathLike | None = None) -> PathLike | None:
    """Where a model's words are read: ``data``; else the model's own training data, if the
    file it records is there with the same sha256; else None, the embedded names (with a
    :class:`UserWarning` saying why, and what is used instead)."""
    if data is not None:
        return data
    try:
        return recorded_source(model.settings.get("data"))
    except DataError as why:
        warnings.warn(f"{why}; using the embedded names (give the data to choose).",
                      stacklevel=3)
        return None


def model_words(model: LanguageModel, data: PathLike | None = None, *,
                hint: str = MARK_HINT) -> WordList:
    """The words of :func:`model_source`, read whole once they are known to fit in memory.

    Raises
    ------
    SettingsError
        Before reading, if the words would not fit
        (:func:`~minibigram.words.check_words_memory`, with ``hint``: what avoids it).
    """
    source = model_source(model, data)
    check_words_memory(source, hint)
    return load_words(source, hint=hint)


def eval_model(model: LanguageModel, data: PathLike | None = None, *,
               split: Sequence[float] | str | None = None, split_seed: int | None = None,
               unknown: str = "error") -> dict[str, float | None]:
    """Mean NLL per character (no L2 term) of a model on its data, or on each part of a split:
    :func:`record_losses` of :func:`eval_records` (see there)."""
    return record_losses(eval_records(model, data, split=split, split_seed=split_seed,
                                      unknown=unknown))


def record_losses(records: Mapping[str, Perplexity | None]) -> dict[str, float | None]:
    """Each record's mean NLL per character, end tokens included (None for None)."""
    return {name: None if r is None else r.nll for name, r in records.items()}


def eval_records(model: LanguageModel, data: PathLike | None = None, *,
                 split: Sequence[float] | str | None = None, split_seed: int | None = None,
                 unknown: str = "error", chunk_bytes: int = 1 << 20
                 ) -> dict[str, Perplexity | None]:
    """The perplexity record of a model on its data, or on each part of a split.

    Without a split the data are read and scored in chunks of ``chunk_bytes``
    (:class:`Scores`), so memory does not grow with them; the sums are those of the
    whole list. A split needs every word in memory: the data are sized before they are
    read, and refused if they would not fit.

    Parameters
    ----------
    model : LanguageModel
    data : str or os.PathLike, optional
        A word file, or ``"-"`` for standard input; default: the model's recorded
        training data, if it is there unchanged, else the embedded names (see
        :func:`model_source`).
    split : (train, dev, test) fractions or "80/10/10", optional
        Default: the model's own split if it was trained with one, else none.
    split_seed : int, optional
        Default: the model's own split seed, or 42.
    unknown : {"error", "skip", "unk"}
        A word with a character the model never saw: an error (naming the file and
        line, or with a split the part, and the characters), left out, or scored by
        the model's ``<unk>`` or else by its known characters (see :data:`UNKNOWN`).
    chunk_bytes : int
        How much of the data to read and score at a time, without a split.

    Returns
    -------
    dict
        ``{"train", "dev", "test"}`` with a split, else ``{"all"}``: their
        :class:`~minibigram.perplexity.Perplexity` records (None for no word scored).

    Raises
    ------
    DataError
        For an unknown character with ``unknown="error"``, or data without words.
    SettingsError
        With a split, before reading, if the words would not fit in memory: the error
        gives their size and what avoids it.

    Warns
    -----
    UserWarning
        As :func:`eval_split_words`.
    """
    check_choice("unknown", unknown, UNKNOWN)
    if isinstance(split, str):
        split = parse_split(split)
    if split or "split" in model.settings:
        parts = eval_split_words(model, data, split, split_seed)
        if unknown == "error":
            check_known(model, parts)
        return {name: words_record(model, ws, unknown) for name, ws in parts.items()}
    source = model_source(model, data)
    path = embedded_names_path() if source is None else source
    scores = (Scores(model, [STDIN], unknown=unknown, chunk_bytes=chunk_bytes)
              if os.fspath(path) == STDIN else
              Scores(model, files=[path], unknown=unknown, chunk_bytes=chunk_bytes))
    record = scores.total()
    check_has_words(scores.read, STDIN_NAME if os.fspath(path) == STDIN else os.fspath(path))
    return {"all": record}


def eval_split_words(model: LanguageModel, data: PathLike | None = None,
                     split: Sequence[float] | None = None, split_seed: int | None = None
                     ) -> dict[str, list[str]]:
    """The train, dev and test words of a model's data by ``split`` (default: its own),
    read whole once they are known to fit in memory (:func:`model_words`).

    Raises
    ------
    SettingsError
        Before reading, if the words would not fit in memory, saying what avoids it.

    Warns
    -----
    UserWarning
        When the dev and test words may have been seen in training: the model records
        no split, or another one, of these very words.
    """
    st = model.settings
    words = model_words(model, data, hint=(
        "evaluate without a split (no --split), which reads the words in a stream, or give "
        "a smaller word file as the data (--data)" if split else
        "give a smaller word file as the data (--data), e.g. a sample of it (the model's own "
        "split needs every word in memory)"))
    own = st.get("data")
    same = isinstance(own, dict) and own.get("sha256") == data_record(words)["sha256"]
    if split and "split" not in st and (same or not isinstance(own, dict)):
        warnings.warn("the model was trained on all of these words, so its dev and test words "
                      "were seen in training." if same else
                      "the model records no split: if it was trained on these words, its dev "
                      "and test words were seen in training.", stacklevel=3)
    elif "split" in st and same and (
            (split and parse_split(str(st["split"])) != tuple(split))
            or (split_seed is not None and split_seed != st.get("split_seed"))):
        warnings.warn(f"this split is not the model's own ({st['split']}, seed "
                      f"{st.get('split_seed')}): its dev and test words may have been in the "
                      "model's training part.", stacklevel=3)
    return model_split(model, words, split, split_seed)


def known_words(model: LanguageModel, words: list[str], unknown: str = "error") -> list[str]:
    """``words`` as ``unknown`` scores them: as they are (``"error"``: the scorer names an
    unknown character; ``"unk"`` with a model that reserves ``<unk>``), without the words
    that hold one (``"skip"``), or without those characters (``"unk"``, a model that
    reserves no probability for them)."""
    check_choice("unknown", unknown, UNKNOWN)
    if unknown == "error" or (unknown == "unk" and model.unk):
        return words
    bad = set(model.vocab.unknown("".join(words)))
    if not bad:
        return words
    if unknown == "skip":
        return [w for w in words if bad.isdisjoint(w)]
    return ["".join(c for c in w if c not in bad) for w in words]


class Scores:
    """The scores of words from arguments, standard input and files, a chunk at a time.

    Iterating gives lists of rows ``{"word", "nll", "log_prob"}`` (and ``"unknown"``,
    the number of characters the model does not know, with ``unknown="unk"``) in
    input order, each list as soon as its chunk of input is scored, so a caller that
    writes them as they come has written every result before an error. Each input
    is opened once, before the first word is read, and read once. :meth:`total`
    scores them all without making rows.

    Parameters
    ----------
    model : LanguageModel
    words : sequence of str
        Words to score first, in order; ``"-"`` reads standard input in its place.
    files : sequence of paths
        Then each file, one word per line.
    unknown : {"error", "skip", "unk"}
        See :data:`UNKNOWN`.
    chunk_bytes : int
        How much input to read and score at a time.

    Attributes
    ----------
    read : int
        Words read so far, scored or left out.
    skipped : int
        Words left out (``unknown="skip"``).
    first_skipped : str or None
        Where the first of them was ("<stdin> line 3").
    unknown_chars : int
        Characters scored without (``unknown="unk"``), over all words.
    records : list of Perplexity
        The perplexity record of each chunk scored.

    Raises
    ------
    DataError
        When iterated, with ``unknown="error"``, at the first word with a character
        the model does not know, naming its source and line (every word before it
        has been given); or a line that is not a word (see
        :func:`~minibigram.words.read_word_lines`).
    FileAccessError
        At once, if a file cannot be opened.
    """

    def __init__(self, model: LanguageModel, words: Sequence[str] = (),
                 files: Sequence[PathLike] = (), *, unknown: str = "error",
                 chunk_bytes: int = 1 << 20) -> None:
        self.model = model
        self.unknown = check_choice("unknown", unknown, UNKNOWN)
        self.read, self.skipped, self.unknown_chars = 0, 0, 0
        self.first_skipped: str | None = None
        self.records: list[Perplexity] = []
        self._sources = word_sources(words, files, chunk_bytes)

    def status(self) -> list[str]:
        """What was left out or scored without, for a person (after iterating)."""
        lines = []
        if self.skipped:
            lines.append(f"skipped {self.skipped:,} word{'s' if self.skipped != 1 else ''} "
                         "with characters the model does not know (the first at "
                         f"{self.first_skipped})")
        if self.unknown_chars:
            n = self.unknown_chars
            lines.append(f"scored without {n:,} character{'s' if n != 1 else ''} the model "
                         "does not know (counted in the 4th column)")
        return lines

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        for shown, scored, unknowns in self._chunks():
            yield self._rows(shown, scored, unknowns)

    def total(self) -> Perplexity | None:
        """Score every input to its end without making rows: the perplexity record of all
        the words scored (None for none), whose sums are those of the whole list."""
        for _, scored, unknowns in self._chunks():
            self._record(scored, unknowns)
        return combine(self.records) if self.records else None

    def _chunks(self) -> Iterator[tuple[list[str], list[str], list[int] | None]]:
        """Each chunk as the policy scores it: ``(words shown, words scored, unknown
        characters per word or None)``."""
        for source, chunks in self._sources:
            for words, lines in chunks:
                self.read += len(words)
                yield from self._policy(source, words, lines)

    def _policy(self, source: str, words: list[str], lines: list[int]
                ) -> Iterator[tuple[list[str], list[str], list[int] | None]]:
        model = self.model
        bad = set(model.vocab.unknown("".join(words)))
        if not bad:   # the usual chunk
            yield words, words, None
            return
        has = [not bad.isdisjoint(w) for w in words]
        where = (lambda i: f"{source} line {lines[i]}") if lines else (
            lambda i: f"argument {i + 1}")
        if self.unknown == "error":
            first = has.index(True)
            if first:
                yield words[:first], words[:first], None
            try:   # the model's own sentence, which names the characters
                model.score([words[first]])
            except DataError as e:
                if not lines:
                    raise
                raise DataError(f"{where(first)}: {e}") from None
            raise AssertionError("a word with an unknown character was scored")
        if self.unknown == "skip":
            kept = known_words(model, words, "skip")
            if self.first_skipped is None:
                self.first_skipped = where(has.index(True))
            self.skipped += len(words) - len(kept)
            if kept:
                yield kept, kept, None
            return
        # unk: a model that reserves <unk> scores the words as they are; another, their
        # known characters
        unknowns = [sum(c in bad for c in w) for w in words]
        self.unknown_chars += sum(unknowns)
        yield words, known_words(model, words, "unk"), unknowns

    def _record(self, scored: list[str], unknowns: list[int] | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Each word's log-probability and NLL per token; the chunk's perplexity record
        goes to :attr:`records`."""
        model = self.model
        how = "unk" if self.unknown == "unk" and model.unk else "error"
        left_out = sum(unknowns) if unknowns is not None and not model.unk else 0
        lp, per_char, record = score_record(model, scored, how, left_out)   # (m,), (m,)
        if record is not None:
            self.records.append(record)
        return lp, per_char

    def _rows(self, words: list[str], scored: list[str], unknowns: list[int] | None
              ) -> list[dict[str, Any]]:
        """A row per word of ``words``, each scored as its counterpart in ``scored``."""
        lp, per_char = self._record(scored, unknowns)
        rows = [{"word": w, "nll": n, "log_prob": p}
                for w, n, p in zip(words, per_char.tolist(), lp.tolist())]
        if unknowns is not None:
            for row, n in zip(rows, unknowns):
                row["unknown"] = n
        return rows


def unknown_policy(unknown: str | None, skip_unknown: str | None = None) -> str:
    """The :data:`UNKNOWN` policy of ``unknown`` and the older spelling ``skip_unknown``
    (``"skip"`` or None); ``"error"`` when neither is given.

    Raises
    ------
    SettingsError
        If the two contradict each other.
    """
    if unknown and skip_unknown and unknown != "skip":
        raise SettingsError(f"--skip-unknown is --unknown skip, which --unknown {unknown} "
                            "contradicts: give one of them.")
    return check_choice("unknown", unknown or skip_unknown or "error", UNKNOWN)


def score_lines(rows: list[dict[str, Any]], as_json: bool = False) -> str:
    """Scored rows as ``minibigram score`` writes them: a tab-separated line each (the word
    escaped by :func:`~minibigram.escape_tsv`, which :func:`~minibigram.unescape_tsv`
    undoes; then ``nll``, ``log_prob`` and, with ``"unk"``, the unknown count), or with
    ``as_json`` one JSON object each (:func:`~minibigram.stdio.json_line`)."""
    if as_json:
        return "".join(json_line(row) + "\n" for row in rows)
    return "".join(f"{escape_tsv(row['word'])}\t{row['nll']!r}\t{row['log_prob']!r}"
                   + (f"\t{row['unknown']}" if "unknown" in row else "") + "\n"
                   for row in rows)


def word_sources(words: Sequence[str], files: Sequence[PathLike] = (),
                 chunk_bytes: int = 1 << 20
                 ) -> list[tuple[str, Iterator[tuple[list[str], list[int]]]]]:
    """The inputs to score, each opened once, now: ``(name, chunks of (words, line numbers))``.

    The arguments ``words`` come first (``"-"``: standard input in its place; blank
    ones skipped; their line numbers are empty), then each of ``files``.

    Raises
    ------
    DataError
        If there are neither words nor files.
    FileAccessError
        If a file cannot be opened.
    """
    if not words and not files:
        raise DataError("there are no words to score: give words, '-' to read them from "
                        "standard input, or a file.")
    handles = [(str(path), open_words(path)) for path in files]   # each opened once, now
    out: list[tuple[str, Iterator[tuple[list[str], list[int]]]]] = []
    pending: list[str] = []
    for w in words:
        if w == STDIN:
            if pending:
                out.append(("the arguments", iter([(pending, [])])))
                pending = []
            out.append((STDIN_NAME, read_word_lines(stdin_bytes(), STDIN_NAME, chunk_bytes)))
        elif w.strip():
            pending.append(w)
    if pending:
        out.append(("the arguments", iter([(pending, [])])))
    out += [(name, _closing(read_word_lines(f, name, chunk_bytes), f)) for name, f in handles]
    return out


def _closing(chunks: Iterator[Any], f: Any) -> Iterator[Any]:
    """``chunks``, then ``f`` closed."""
    with f:
        yield from chunks
