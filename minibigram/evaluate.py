"""Honest evaluation: train on train, choose on dev, and read the test set once, at the end.

A loss here is always the mean negative log-likelihood per predicted character
(end tokens included), without the L2 term: the number that compares models.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import DataError, SettingsError, check_choice, check_words
from .examples import ContextCounts
from .models import FAMILIES, BigramModel, CountModel, LanguageModel, NGramModel, is_bigram
from .vocab import Vocabulary
from .words import (
    STDIN,
    STDIN_NAME,
    PathLike,
    WordList,
    data_record,
    load_words,
    open_words,
    parse_split,
    read_word_lines,
    recorded_words,
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
    characters, with ``words=None``) train any kind instead of words.
    """
    check_choice("model family", family, FAMILIES)
    if family == "counts":
        return CountModel.fit(words, smoothing=value, context=context, vocab=vocab,
                              counts=counts)
    options["counts"] = counts
    if is_bigram(context, encoding):
        return BigramModel.fit(words, reg=value, vocab=vocab, **options)
    return NGramModel.fit(words, context=context, encoding=encoding, reg=value, vocab=vocab,
                          **options)


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


def sweep(words: Sequence[str], *, families: Sequence[str] = ("network", "counts"),
          contexts: Sequence[int] = (1, 2, 3), regs: Sequence[float] | None = None,
          smoothings: Sequence[float] = (0.0, 0.01, 0.1, 0.5, 1.0), encoding: str = "joint",
          fractions: Sequence[float] = (0.8, 0.1, 0.1), split_seed: int = 42,
          **gd: Any) -> dict[str, Any]:
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


def model_words(model: LanguageModel, data: PathLike | None = None) -> WordList:
    """``data``'s words, else the model's own training data if it is there unchanged, else
    the embedded names (with a :class:`UserWarning` saying why, and what is used instead)."""
    if data is not None:
        return load_words(data)
    try:
        return recorded_words(model.settings.get("data"))
    except DataError as why:
        warnings.warn(f"{why}; using the embedded names (give the data to choose).",
                      stacklevel=2)
        return load_words()


def eval_model(model: LanguageModel, data: PathLike | None = None, *,
               split: Sequence[float] | str | None = None, split_seed: int | None = None,
               unknown: str = "error") -> dict[str, float | None]:
    """Mean NLL per character (no L2 term) of a model on its data, or on each part of a split.

    Parameters
    ----------
    model : LanguageModel
    data : str or os.PathLike, optional
        A word file; default: the model's recorded training data, if it is there
        unchanged, else the embedded names (see :func:`model_words`).
    split : (train, dev, test) fractions or "80/10/10", optional
        Default: the model's own split if it was trained with one, else none.
    split_seed : int, optional
        Default: the model's own split seed, or 42.
    unknown : {"error", "skip", "unk"}
        A word with a character the model never saw: an error naming the part and the
        characters, left out, or scored by its known characters (see :data:`UNKNOWN`).

    Returns
    -------
    dict
        ``{"train", "dev", "test"}`` with a split (None for an empty part), else
        ``{"all"}``.

    Warns
    -----
    UserWarning
        When a split's dev and test words may have been seen in training: the model
        records no split, or another one, of these very words.
    """
    if isinstance(split, str):
        split = parse_split(split)
    words = model_words(model, data)
    st = model.settings
    own = st.get("data")
    same = isinstance(own, dict) and own.get("sha256") == data_record(words)["sha256"]
    if split and "split" not in st and (same or not isinstance(own, dict)):
        warnings.warn("the model was trained on all of these words, so its dev and test words "
                      "were seen in training." if same else
                      "the model records no split: if it was trained on these words, its dev "
                      "and test words were seen in training.", stacklevel=2)
    elif "split" in st and same and (
            (split and parse_split(str(st["split"])) != tuple(split))
            or (split_seed is not None and split_seed != st.get("split_seed"))):
        warnings.warn(f"this split is not the model's own ({st['split']}, seed "
                      f"{st.get('split_seed')}): its dev and test words may have been in the "
                      "model's training part.", stacklevel=2)
    parts = (model_split(model, words, split, split_seed) if split or "split" in st
             else {"all": list(words)})
    return split_losses(model, {k: known_words(model, ws, unknown) for k, ws in parts.items()})


def known_words(model: LanguageModel, words: list[str], unknown: str = "error") -> list[str]:
    """``words`` as ``unknown`` scores them: as they are (``"error"``: the scorer names an
    unknown character), without the words that hold one (``"skip"``), or without those
    characters (``"unk"``, a model that reserves no probability for them)."""
    check_choice("unknown", unknown, UNKNOWN)
    bad = set(model.vocab.unknown("".join(words))) if unknown != "error" else set()
    if not bad:
        return words
    if unknown == "skip":
        return [w for w in words if bad.isdisjoint(w)]
    return ["".join(c for c in w if c not in bad) for w in words]


def word_chunks(words: Sequence[str], files: Sequence[PathLike] = (),
                chunk_bytes: int = 1 << 20) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """The words to score, in chunks: ``(source name, chunks of words)`` in order.

    ``words`` first, in order, where ``"-"`` reads standard input (blank words are
    skipped); then each of ``files``, one word per line, read ``chunk_bytes`` at a
    time, so memory does not grow with the number of words.

    Raises
    ------
    DataError
        If there are neither words nor files.
    FileAccessError
        If a file cannot be opened: every file is opened here, once, before the first
        chunk (see :func:`word_sources`).
    """
    return ((name, (ws for ws, _ in chunks))
            for name, chunks in word_sources(words, files, chunk_bytes))


def score_rows(model: LanguageModel, words: Sequence[str], *, skip_unknown: bool = False
               ) -> list[dict[str, Any]]:
    """One row per word: ``{"word", "nll", "log_prob"}`` (and ``"skipped"`` with
    ``skip_unknown``).

    ``nll`` is the mean negative log-likelihood per predicted character (end token
    included), ``log_prob`` the word's natural log-probability. With
    ``skip_unknown``, the characters the model cannot score are removed first and
    listed in ``skipped``; a word left with nothing is not scored: its ``nll`` and
    ``log_prob`` are None.
    """
    words = check_words(words)
    dropped = model.dropped(words) if skip_unknown else None
    empty = ([bool(w) and len(d) == len(w) for w, d in zip(words, dropped)] if dropped
             else [False] * len(words))
    kept = [w for w, e in zip(words, empty) if not e]
    lp, per_char = model.word_scores(kept, skip_unknown=skip_unknown)    # (m,), (m,)
    scores = iter(zip(per_char.tolist(), lp.tolist()))
    rows: list[dict[str, Any]] = []
    for i, w in enumerate(words):
        nll, log_prob = (None, None) if empty[i] else next(scores)
        row: dict[str, Any] = {"word": w, "nll": nll, "log_prob": log_prob}
        if dropped is not None:
            row["skipped"] = dropped[i]
        rows.append(row)
    return rows


#: What scoring does with a word holding a character the model never saw: stop there with
#: an error naming its line (``"error"``), leave the word out (``"skip"``), or score it
#: (``"unk"``) with the probability the model gives unseen characters; a model that
#: reserves none scores the characters it knows and reports how many it did not.
UNKNOWN = ("error", "skip", "unk")


class Scores:
    """The scores of words from arguments, standard input and files, a chunk at a time.

    Iterating gives lists of rows ``{"word", "nll", "log_prob"}`` (and ``"unknown"``,
    the number of characters the model does not know, with ``unknown="unk"``) in
    input order, each list as soon as its chunk of input is scored, so a caller that
    writes them as they come has written every result before an error. Each input
    is opened once, before the first word is read, and read once.

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
    skipped : int
        Words left out (``unknown="skip"``).
    first_skipped : str or None
        Where the first of them was ("<stdin> line 3").
    unknown_chars : int
        Characters scored without (``unknown="unk"``), over all words.

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
        self.skipped, self.unknown_chars = 0, 0
        self.first_skipped: str | None = None
        self._sources = word_sources(words, files, chunk_bytes)

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        for source, chunks in self._sources:
            for words, lines in chunks:
                yield from self._score(source, words, lines)

    def _score(self, source: str, words: list[str], lines: list[int]
               ) -> Iterator[list[dict[str, Any]]]:
        model = self.model
        bad = set(model.vocab.unknown("".join(words)))
        if not bad:   # the usual chunk
            yield _rows(model, words, words)
            return
        has = [not bad.isdisjoint(w) for w in words]
        where = (lambda i: f"{source} line {lines[i]}") if lines else (
            lambda i: f"argument {i + 1}")
        if self.unknown == "error":
            first = has.index(True)
            if first:
                yield _rows(model, words[:first], words[:first])
            try:   # the model's own sentence, which names the characters
                model.score([words[first]])
            except DataError as e:
                if not lines:
                    raise
                raise DataError(f"{where(first)}: {e}") from None
            raise AssertionError("a word with an unknown character was scored")
        if self.unknown == "skip":
            kept = [w for w, h in zip(words, has) if not h]
            if self.first_skipped is None:
                self.first_skipped = where(has.index(True))
            self.skipped += len(words) - len(kept)
            if kept:
                yield _rows(model, kept, kept)
            return
        known = ["".join(c for c in w if c not in bad) if h else w for w, h in zip(words, has)]
        rows = _rows(model, words, known)
        for row, w, k in zip(rows, words, known):
            row["unknown"] = len(w) - len(k)
        self.unknown_chars += sum(row["unknown"] for row in rows)
        yield rows


def _rows(model: LanguageModel, words: list[str], scored: list[str]) -> list[dict[str, Any]]:
    """A row per word of ``words``, each scored as its counterpart in ``scored``."""
    if all(scored):
        lp, per_char = model.word_scores(scored)                      # (m,), (m,)
        return [{"word": w, "nll": n, "log_prob": p}
                for w, n, p in zip(words, per_char.tolist(), lp.tolist())]
    # a word of unknown characters only (unk): the empty word, the end token after "." * K
    end = float(model.log_rows(np.zeros((1, model.K), dtype=np.int64))[0, 0])
    full = [k for k in scored if k]
    lp, per_char = model.word_scores(full) if full else (np.zeros(0), np.zeros(0))
    scores = iter(zip(per_char.tolist(), lp.tolist()))
    return [{"word": w, "nll": n, "log_prob": p}
            for w, (n, p) in zip(words, (next(scores) if k else (-end, end) for k in scored))]


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
