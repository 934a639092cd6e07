"""Models: one class per kind, each declaring its arrays; one scoring and sampling surface.

Every model predicts the next character from the ``K`` characters before it
(``K = 1``: bigrams) and shares :class:`LanguageModel`'s ``log_prob``, ``nll``,
``sample``, ``table``, ``save`` and ``load``. Every constructor takes
``(parameters, vocab, *, options)``. The kinds (``model.kind``, also written in
model files):

- ``"counts"``, :class:`CountModel`, the smoothed n-gram table of the notebook's first
  half, ``P(t | context) = (N[context, t] + k) / sum_j (N[context, j] + k)``;
- ``"ngram"``, :class:`NGramModel`, the network over a one-hot of the whole context
  ``(c_1, ..., c_K)`` (oldest first; a word's first contexts are padded with ``"."``):
  one row of ``W`` (C, V) per distinct context seen in training (the joint encoding);
- ``"bigram"``, :class:`BigramModel`, the notebook's network: the NGramModel with
  ``K = 1``, whose ``fit`` has the notebook's defaults;
- ``"concat"``, :class:`ConcatModel`, the network over K one-hots concatenated,
  ``logits = W[0, c_1] + ... + W[K-1, c_K]`` with ``W`` of shape (K, V, V); it has no
  row per context, so no context is unseen. ``NGramModel(..., encoding="concat")``
  and ``NGramModel.fit(..., encoding="concat")`` make one.

Each class's ``ARRAYS`` declares the arrays of its model files: their shapes, in the
dimensions ``V`` (characters), ``K`` (context length) and ``C`` (contexts), and their
dtypes. The file reader checks a file against them before reading its arrays.

**Unseen contexts** (at scoring or sampling time): the joint encoding and the count
model have no row for a context that never occurred in training. They back off to
the **uniform** distribution, ``1/V`` for every character. That is exactly the row
add-k smoothing gives an unseen context (``k / (V k)``), and the row an
L2-regularized network learns for a context it never sees (its data gradient is 0,
so the penalty drives the row to 0, and ``softmax(0) = 1/V``). For the count model
with ``k = 0`` (``0/0``) it is a convention.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from . import functional as F
from .archive import INTEGERS, NUMBERS, Array, load_npz, save_npz
from .engines import ENGINES, concat_loss, counts_loss, objective
from .errors import (
    DataError,
    ModelFileError,
    SettingsError,
    check_choice,
    check_has_words,
    check_real,
    check_seed,
    check_size,
    check_whole,
    check_words,
)
from .examples import (
    ContextCounts,
    all_contexts,
    context_codes,
    count_words,
    lookup_contexts,
    ngrams,
    scorable_words,
    weighted_examples,
)
from .lookup import MAX_DENSE, known_ids, token_codes, walk, word_sums
from .optim import NEWTON_BLOCK, concat_newton, gradient_descent, newton
from .perplexity import Perplexity, perplexity
from .sampling import DEFAULT_SAMPLER, SAMPLERS, Chain, adjust_probs, iter_words
from .torchrng import ERAS, TorchGenerator
from .version import __version__
from .vocab import Vocabulary
from .words import PathLike, data_record, training_words

NOTEBOOK_SEED = 2147483647
#: What scoring does with a word holding a character the model never saw: stop there with
#: an error (``"error"``), leave the character out (``"skip"``; the command line's ``score``
#: and ``eval`` leave the whole word out), or score it (``"unk"``) with the probability the
#: model gives unseen characters as ``<unk>`` (a model that reserves none, ``unk`` False,
#: scores the characters it knows and reports how many it did not).
UNKNOWN = ("error", "skip", "unk")
DTYPES = ("float32", "float64")
INITS = ("torch", "normal")
SOLVERS = ("gd", "newton")
ENCODINGS = ("joint", "concat")
#: The two families of models ``fit_kind``, ``sweep`` and ``train --model-kind`` choose
#: between: a network (of kind bigram, ngram or concat) or a count model.
FAMILIES = ("network", "counts")
#: Memory a sampled word held in a list takes (its str and the list's pointer), bytes.
SAMPLE_BYTES = 100
#: Bytes a dense table entry takes while sampling: the float64 table, its cumulative
#: sums and a copy for the temperature.
TABLE_ENTRY_BYTES = 24

Callback = Callable[[int, float], None]
LossFn = Callable[[np.ndarray], 'tuple[float, np.ndarray]']


def is_bigram(context: int, encoding: str) -> bool:
    """Whether a network of ``context`` and ``encoding`` is the notebook's bigram network."""
    return context == 1 and encoding == "joint"


def needs_words(engine: str, solver: str) -> bool:
    """Whether training reads every example, so needs the words, not only their counts:
    gradient descent with an engine other than ``"counts"``."""
    return solver == "gd" and engine != "counts"


def init_weights(shape: int | tuple[int, ...], seed: int, dtype: str = "float32",
                 init: str = "torch") -> np.ndarray:
    """Initial W: standard normal entries drawn from ``seed`` (an int shape means (V, V)).

    ``init="torch"`` is the notebook's ``torch.randn(shape, generator=g)`` with
    ``g = torch.Generator().manual_seed(seed)`` (float32, replayed by
    :class:`~minibigram.TorchGenerator`), then cast to ``dtype``; ``init="normal"`` is numpy's
    ``default_rng(seed).standard_normal``.
    """
    shape = (shape, shape) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if init == "torch":
        return TorchGenerator(seed).randn(*shape).astype(dtype)
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def check_contexts(contexts: np.ndarray, V: int) -> np.ndarray:
    """``contexts`` as int64, if they are what :func:`~minibigram.context_counts` gives.

    Non-empty (C, K) character ids in ``[0, V)`` whose codes strictly increase (sorted,
    no repeats), which the scoring lookup by ``np.searchsorted`` relies on.

    Raises
    ------
    ModelFileError
    """
    contexts = np.asarray(contexts)
    if (contexts.ndim != 2 or contexts.size == 0 or contexts.dtype.kind not in "iu"
            or contexts.min() < 0 or contexts.max() >= V
            or not (np.diff(context_codes(contexts.astype(np.int64), V)) > 0).all()):
        raise ModelFileError("holds contexts that are not sorted, distinct character ids")
    return contexts.astype(np.int64)


def check_sampling(V: int | None, K: int, n: int = 0, *, rows: int | None = None) -> None:
    """Refuse, before any work, sampling from V characters and contexts of K.

    Sampling walks one row per context seen (``rows``; a count model or joint network
    with K > 1) or, where a dense table of every context is really built (``rows``
    None: the concat network), ``V**(K+1)`` entries, sized against
    :func:`~minibigram.errors.memory_budget`. Context codes must fit 63 bits. Any
    number of words ``n`` can be drawn (in blocks, see ``iter_samples``); a list of
    them is sized too.

    Raises
    ------
    SettingsError
    """
    check_whole("the number of samples", n)
    check_size(f"holding {n:,} sampled words in a list", float(n) * SAMPLE_BYTES,
               "write them as they are drawn (model.iter_samples, or 'minibigram sample -n "
               f"{n}', which streams them)")
    if V is None:
        return
    bits = K * math.log2(max(V, 2))   # in logs: K may be huge
    if bits >= 62:
        raise SettingsError(f"contexts of {K} characters over {V} have codes beyond 62 bits "
                            "(V**K), which sampling cannot index: use a shorter context.")
    entries = rows * V if rows is not None else float(V) ** (K + 1)
    table = "the seen contexts" if rows is not None else f"V**(K+1) = {V}**{K + 1}"
    check_size(f"sampling from a table of {table} = {entries:,.0f} entries",
               entries * TABLE_ENTRY_BYTES,
               "use a shorter context or a smaller alphabet (or sample no words)")


def default_smoothing(context: int) -> float:
    """Add-k's k when none is given: 1 for bigrams, ``10**-K`` beyond.

    ``k = 1`` is the notebook's ``P = (N + 1) / ...``. With longer contexts most rows
    are sparse, add-one gives each of them most of its mass to characters never seen
    after the context, and a sampled word strays into contexts never seen in
    training, whose row is uniform: it ends with probability ``1/V`` a character,
    so words of hundreds of characters (on 66 characters and K = 2, 140 on average).
    ``10**-K`` keeps that mass, and so most samples, near the training words; but the
    row of a context never seen stays uniform, so the longest of many samples still
    grows with their number (see docs/errors.md). Only backing off to shorter contexts
    removes that tail: :func:`default_method` is ``"modified-kneser-ney"`` for K >= 2.
    """
    return 1.0 if context == 1 else 10.0 ** -context


def default_method(context: int, given: Collection[str] = ()) -> str:
    """The count family's smoothing method when none is given, one of :data:`METHODS
    <minibigram.smoothing.METHODS>`; ``given`` names the options that were.

    - ``"smoothing"`` given (add-k's k): ``"add-k"``, with that k.
    - ``"discount"`` given: ``"kneser-ney"``, the method of one discount ``D``.
    - Neither: ``"add-k"`` for bigrams (K = 1, the notebook's table, with
      :func:`default_smoothing`'s k = 1), and ``"modified-kneser-ney"`` for K >= 2.

    Why Kneser-Ney beyond bigrams: an add-k row of a context never seen in training is
    uniform, ending a word with probability ``1/V`` a step, so the longest of 100,000
    samples of K = 4 on 5,000 mixed lines of 66 characters is 14 to 23 times the
    longest line (5 seeds, numpy and torch-cdf), and grows with the number of samples. A
    backoff model gives an unseen context the row of its longest seen suffix: 2.3 to 4.1
    times for K = 2..5. Modified Kneser-Ney (Chen & Goodman; KenLM's ``lmplz`` default)
    also has the lowest held-out perplexity of the methods here (docs/beyond-bigrams.md).
    """
    if "smoothing" in given:
        return "add-k"
    if "discount" in given:
        return "kneser-ney"
    return "add-k" if context == 1 else "modified-kneser-ney"


def provenance(words: Sequence[str] | None) -> dict[str, Any]:
    """The settings that say what a model was trained on and by which minibigram.

    ``{"minibigram": version, "data": data_record(words)}`` (see
    :func:`minibigram.words.data_record`: source, sha256, number of words); without
    words (a model trained from counts) only the version.
    """
    out: dict[str, Any] = {"minibigram": __version__}
    if words is not None:
        out["data"] = data_record(words)
    return out


def _seen_rows(counts: ContextCounts) -> tuple[np.ndarray, np.ndarray]:
    """The (C, K) contexts that occur in ``counts`` and their (C, V) rows of counts."""
    seen = counts.N.sum(axis=1) > 0                                  # (C,)
    return counts.contexts[seen], counts.N[seen]


def _context_logp(log_table: np.ndarray, codes: np.ndarray, X: np.ndarray,
                  ys: np.ndarray) -> np.ndarray:
    """(n,) ``log P(ys | X)`` from a (C, V) table with one row per context of the sorted
    ``codes``; a context without a row is uniform, ``-log V``."""
    V = log_table.shape[1]
    if X.shape[1] == 1 and len(codes) == V:                  # a row per character: its id
        return log_table[X[:, 0], ys]
    pos, seen = lookup_contexts(codes, X, V)                 # one gather, no (n, V) rows
    return np.where(seen, log_table[pos, ys], -np.log(V))


def _table_rows(log_table: np.ndarray, codes: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """(n, V) rows of a (C, V) table with one row per context of the sorted ``codes``, for
    ``contexts`` (n, K); a context without a row is uniform, ``-log V``. The table itself
    when every row is asked for in order (an export of K = 1): no copy."""
    X = np.asarray(contexts, dtype=np.int64).reshape(len(contexts), -1)    # (n, K)
    V = log_table.shape[1]
    if X.shape[1] == 1 and len(codes) == V:                  # a row per character: its id
        return log_table if np.array_equal(X[:, 0], np.arange(V)) else log_table[X[:, 0]]
    pos, seen = lookup_contexts(codes, X, V)
    out = np.full((len(X), V), -np.log(V))                   # (n, V) unseen: uniform
    out[seen] = log_table[pos[seen]]
    return out


def _file_model(cls: type[LanguageModel], *args: Any, **options: Any) -> Any:
    """``cls(*args, **options)`` from a file's arrays: a refusal says they do not fit."""
    try:
        return cls(*args, **options)
    except (ModelFileError, SettingsError) as e:
        raise ModelFileError("holds arrays that do not fit together: "
                             + str(e).rstrip(".")) from None


@dataclass(frozen=True)
class _Training:
    """A network's training settings, checked, and the steps every network trains by."""

    context: int
    solver: str
    steps: int
    lr: float
    reg: float
    dtype: str
    init: str
    seed: int
    callback: Callback | None

    @classmethod
    def check(cls, *, context: int, solver: str, steps: int, lr: float, reg: float, dtype: str,
              init: str, seed: int, callback: Callback | None) -> _Training:
        context = check_whole("the context length", context, 1)
        check_choice("solver", solver, SOLVERS)
        steps = check_whole("steps", steps)
        lr = check_real("the learning rate", lr, strict=True)
        reg = check_real("reg", reg)
        check_choice("dtype", dtype, DTYPES)
        check_choice("init", init, INITS)
        return cls(context, solver, steps, lr, reg, dtype, init, check_seed(seed), callback)

    def solve(self, loss_fn: LossFn, shape: tuple[int, ...],
              exact: Callable[[], tuple[np.ndarray, list[float]]]
              ) -> tuple[np.ndarray, list[float]]:
        """W and its history: ``exact()`` for Newton, else gradient descent on ``loss_fn``."""
        lr, reg = self.lr, self.reg
        if self.solver == "gd" and lr * 2 * reg / np.prod(shape) > 2:
            # the L2 term alone has curvature 2 reg / W.size: a step of lr overshoots it
            raise SettingsError(f"the learning rate {lr:g} and reg {reg:g} together make every "
                                "gradient step overshoot (2 lr reg / W.size = "
                                f"{2 * lr * reg / np.prod(shape):.3g}, above 2): lower the "
                                "learning rate or reg, or use the newton solver.")
        if self.solver == "newton":
            return exact()
        W0 = init_weights(shape, self.seed, self.dtype, self.init)
        return gradient_descent(loss_fn, W0, self.steps, lr, self.callback)

    def settings(self, counts: ContextCounts, num_contexts: int, history: list[float],
                 final_loss: float, words: list[str] | None, **gd: Any) -> dict[str, Any]:
        """The model's record of its training; ``gd``: what gradient descent alone also used."""
        settings: dict[str, Any] = {
            "solver": self.solver, "reg": self.reg, "dtype": self.dtype,
            "num_examples": int(counts.num_examples), "num_contexts": int(num_contexts),
            "steps": self.steps if self.solver == "gd" else len(history),
            "final_loss": final_loss}
        if self.solver == "gd":
            settings.update(lr=self.lr, seed=self.seed, **gd, init=self.init)
        settings.update(provenance(words))
        return settings


class LanguageModel:
    """What every model kind shares: scoring and sampling from K previous characters.

    A subclass sets ``kind`` and ``ARRAYS`` (the arrays of its model files), and
    ``vocab``, ``K`` (1 for bigrams), ``history``, ``settings`` and ``final_loss``; it
    provides ``_target_logp(X, ys)``, the (n,) log-probability of each target after
    its context, ``_rows(S)``, the (S, V) next-character probabilities of every
    context, one row per context code, and ``to_arrays`` and ``from_arrays``.
    """

    #: Whether the model reserves probability for characters never seen, as ``<unk>``.
    unk = False

    kind: ClassVar[str] = ""
    #: The arrays of a model file of this kind, by name (see :class:`minibigram.archive.Array`).
    ARRAYS: ClassVar[dict[str, Array]] = {}
    vocab: Vocabulary
    K: int
    history: list[float]
    settings: dict[str, Any]
    final_loss: float | None

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.vocab)

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _rows(self, S: int) -> np.ndarray:
        raise NotImplementedError

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of this model's file, as :attr:`ARRAYS` declares them."""
        raise NotImplementedError

    def _example_logp(self, words: Sequence[str], skip_unknown: bool
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The (n,) log-probability of every example of ``words`` and the (m,) word lengths.

        The one scoring path: every word's ``len(w) + 1`` examples, in word order,
        from one encoding of all the words and one gather of log-probabilities.
        """
        if skip_unknown:
            kept = scorable_words(words, self.vocab, skip_unknown)
        else:   # the one encoding below names an unknown character
            kept = list(words)
        if skip_unknown:
            emptied = next((w for w, k in zip(words, kept) if w and not k), None)
            if emptied is not None:
                raise DataError(f"the word {emptied!r} has no character the model knows, so "
                                "skip_unknown leaves nothing of it to score: remove it, or "
                                "score it without skip_unknown to see which characters are "
                                "unknown.")
        lengths = np.fromiter(map(len, kept), dtype=np.int64, count=len(kept))   # (m,)
        try:
            X, ys = ngrams(kept, self.vocab, self.K)                 # (n, K), (n,)
        except DataError:
            scorable_words(kept, self.vocab)   # raises, naming the word and its characters
            raise
        return self._target_logp(X, ys), lengths

    def score(self, words: Sequence[str], *, skip_unknown: bool = False) -> np.ndarray:
        """Natural log of the model's probability of each word, end token included.

        ``log P(w) = sum_{t=1}^{len(w)+1} log P(w_t | w_{t-K} ... w_{t-1})`` with
        ``w_{len(w)+1}`` the end token and the contexts padded with ``"."`` on the left.
        All the words are scored in one vectorized pass: their examples are made at
        once, their log-probabilities gathered at once, and ``np.add.reduceat`` sums
        each word's ``len(w) + 1`` consecutive terms. No Python loop runs per word.

        Parameters
        ----------
        words : sequence of str
            A bare ``str`` is refused (it would be scored as one-letter words).
        skip_unknown : bool, default False
            Remove the characters the model cannot score (those it has never seen, and
            the boundary ``"."``) before scoring, so ``"zoë"`` with an unknown ``"ë"``
            is scored as ``"zo"``; otherwise such a character raises
            :class:`DataError` naming it. A non-empty word that loses *every*
            character is an error, never scored as the empty word.

        Returns
        -------
        ndarray of float64, shape (len(words),)
            ``-inf`` where a probability is 0 (a count model with smoothing 0).

        Raises
        ------
        DataError
        """
        return self._word_log_probs(check_words(words), skip_unknown)[0]

    def word_scores(self, words: Sequence[str], *, skip_unknown: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Each word's log-probability and mean negative log-likelihood per character, in one pass.

        Returns ``(score(words), -score(words) / (len(w) + 1))``, float64, each of shape
        ``(len(words),)``, with ``w`` as it is scored (without what ``skip_unknown``
        removes). Lower NLL is more name-like; :meth:`nll` is the same mean over all the
        words' characters.
        """
        lp, lengths = self._word_log_probs(check_words(words), skip_unknown)
        return lp, -lp / (lengths + 1)

    def _word_log_probs(self, words: list[str], skip_unknown: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(m,) log-probability of each word and (m,) its length as scored."""
        logp, lengths = self._example_logp(words, skip_unknown)       # (n,), (m,)
        if len(lengths) == 0:
            return np.zeros(0), lengths
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))   # (m,) each word's first
        return np.add.reduceat(logp.astype(np.float64, copy=False), starts), lengths   # (m,)

    def dropped(self, words: Sequence[str]) -> list[str]:
        """What ``skip_unknown`` removes from each word: its characters the model cannot
        score (never seen in training, a line break, or the boundary's display symbol
        ``vocab.itos[0]``), every one, in order."""
        words = check_words(words)
        bad = set(self.vocab.unknown("".join(words)))
        if not bad:   # the usual case
            return [""] * len(words)
        return ["".join(c for c in w if c in bad) for w in words]

    def log_prob(self, word: str, *, skip_unknown: bool = False) -> float:
        """Natural log of the model's probability of ``word``, end token included.

        ``score([word])[0]``; see :meth:`score` for ``skip_unknown``.
        """
        if not isinstance(word, str):
            raise DataError(f"log_prob scores one word, a str; got {type(word).__name__}: "
                            "use nll or score for several words.")
        return float(self.score([word], skip_unknown=skip_unknown)[0])

    def nll(self, words: Sequence[str], *, skip_unknown: bool = False) -> float:
        """Mean negative log-likelihood per predicted character (end tokens included).

        ``-sum(score(words)) / sum(len(w) + 1)``, from the same examples and
        log-probabilities as :meth:`score` (averaged per character, not per word).
        ``inf`` if a character has probability 0 (a count model with smoothing 0, or
        a network solved with reg 0). ``skip_unknown`` is as in :meth:`score`.
        """
        words = check_words(words)
        if not words:
            raise DataError("there are no words to score: give at least one word.")
        return float(-self._example_logp(words, skip_unknown)[0].mean())

    def token_log_probs(self, words: Sequence[str], unknown: str = "error"
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Every token's log-probability (n,), the word lengths (m,), which tokens are
        ``<unk>`` (n,) and how many characters were skipped.

        ``unknown`` is ``"error"`` or ``"skip"`` (as ``skip_unknown`` in :meth:`score`);
        ``"unk"`` needs a model that reserves ``<unk>`` (a backoff model).
        """
        check_choice("unknown", unknown, UNKNOWN)
        if unknown == "unk":
            raise SettingsError(f"a {self.kind} model reserves no <unk>: score unknown "
                                "characters with --unknown skip (unknown='skip'), or use a "
                                "backoff model fitted with unk=True (train --unk).")
        words = check_words(words)
        logp, lengths = self._example_logp(words, unknown == "skip")   # (n,), (m,)
        skipped = sum(map(len, words)) - int(lengths.sum())
        return (logp.astype(np.float64, copy=False), lengths, np.zeros(len(logp), bool),
                skipped)

    def perplexity(self, words: Sequence[str], *, skip_unknown: bool = False,
                   unknown: str | None = None) -> Perplexity:
        """The :class:`~minibigram.perplexity.Perplexity` record of ``words``: total
        log-probability, perplexity per token, character and word, bits per character.

        From the same log-probabilities as :meth:`score`; ``unknown`` as in
        :meth:`token_log_probs` (``skip_unknown=True`` is ``"skip"``); the characters
        skipped or scored as ``<unk>`` are the record's ``unknowns``.
        """
        how = unknown or ("skip" if skip_unknown else "error")
        logp, lengths, unk, skipped = self.token_log_probs(words, how)
        if not len(lengths):
            raise DataError("there are no words to score: give at least one word.")
        return perplexity(logp, lengths, unk, skipped)

    def log_rows(self, contexts: np.ndarray) -> np.ndarray:
        """``log P(next | context)`` for each of ``contexts`` (n, K): an (n, V) float64 array.

        The very numbers :meth:`score` gathers (uniform ``-log V`` for a context the
        joint or count model never saw), computed in blocks of contexts.
        """
        X = np.asarray(contexts, dtype=np.int64).reshape(-1, self.K)    # (n, K)
        V, out = self.V, np.empty((len(X), self.V))                     # (n, V)
        block = max(1, 2**20 // (V * V))   # concat makes (block V, V) logits
        for i in range(0, len(X), block):
            Xb = np.repeat(X[i:i + block], V, axis=0)                   # (b V, K)
            ys = np.tile(np.arange(V), len(Xb) // V)                    # (b V,)
            out[i:i + block] = self._target_logp(Xb, ys).reshape(-1, V)
        return out

    def table(self) -> np.ndarray:
        """The (V**K, V) next-character probabilities, row ``code`` for the context of that code.

        Row ``c_1 V^(K-1) + ... + c_K`` is ``P(next | c_1 ... c_K)`` (see
        :func:`minibigram.context_codes`); for ``K = 1`` it is the (V, V) bigram table.
        Sampling does not need it (see :meth:`chain`).

        Raises
        ------
        SettingsError
            If ``V**(K+1)`` entries do not fit in the memory the machine has.
        """
        check_sampling(self.V, self.K)
        return self._rows(self.V ** self.K)

    def chain(self, sampler: str = DEFAULT_SAMPLER) -> Chain:
        """What sampling walks: the dense table for K = 1, else one row per context seen
        and one for every unseen context (:class:`~minibigram.sampling.Chain`).

        Under the torch samplers, a count model's rows are the notebook's float32 ones.
        """
        if self.K == 1:
            return Chain(self._sampling_table(sampler), None, 1)
        rows = self._seen_chain_rows(sampler)
        if rows is None:   # no rows of seen contexts: a dense table
            return Chain(self._sampling_table(sampler), None, self.K)
        check_sampling(self.V, self.K, rows=len(rows))
        return Chain(rows, self._codes, self.K)

    def _seen_chain_rows(self, sampler: str) -> np.ndarray | None:
        """The (C + 1, V) rows of the seen contexts, then the unseen row; None: dense only."""
        return None

    _codes: np.ndarray

    def sample(self, n: int = 15, seed: int = NOTEBOOK_SEED, sampler: str = DEFAULT_SAMPLER,
               temperature: float = 1.0, top_k: int | None = None) -> list[str]:
        """Generate ``n`` words (without the end token).

        Parameters
        ----------
        n : int
            Any number: they are drawn in blocks (see :meth:`iter_samples`).
        seed : int
        sampler : str, default "torch-cdf"
            A name from ``minibigram.SAMPLERS``; ``"torch-cdf"``, ``"torch-mkl"`` and
            ``"torch"`` replay ``torch.multinomial`` of torch 1.x (the published notebook
            and the lecture), 2.0-2.6 and 2.7 and newer. Each walks :meth:`chain`, one
            row per context seen.
        temperature : float >= 0, default 1
            0 samples greedily: the likeliest next character at each step (on a tie
            the lowest id), the same words whatever the seed.
        top_k : int, optional
            See :func:`minibigram.sampling.adjust_probs`; the defaults leave P as is.
        """
        check_sampling(None, self.K, check_whole("the number of samples", n))
        return [w for block in self.iter_samples(n, seed, sampler, temperature, top_k)
                for w in block]

    def iter_samples(self, n: int = 15, seed: int = NOTEBOOK_SEED,
                     sampler: str = DEFAULT_SAMPLER, temperature: float = 1.0,
                     top_k: int | None = None) -> Iterator[list[str]]:
        """:meth:`sample`'s words as a generator of lists, in memory that does not grow with n.

        The lists joined are ``sample(n, ...)``, for every sampler: write each one
        as it comes to sample millions of words.
        """
        n = check_whole("the number of samples", n)
        seed = check_seed(seed)
        check_choice("sampler", sampler, tuple(SAMPLERS))
        if n == 0:
            return iter(())
        chain = self.chain(sampler)
        chain = chain.with_rows(adjust_probs(chain.P, temperature, top_k))
        return iter_words(chain, n, seed, sampler, self.vocab)

    def _sampling_table(self, sampler: str) -> np.ndarray:
        """The table ``sample`` walks with ``sampler``: :meth:`table` unless a model says else."""
        return self.table()

    def save(self, path: PathLike) -> None:
        """Write the model to a ``.npz`` file (no pickled objects), atomically."""
        save_npz(path, kind=self.kind, arrays=self.to_arrays(), vocab=self.vocab,
                 history=self.history, settings=self.settings)

    @classmethod
    def load(cls, path: PathLike) -> Any:
        """Read a model of this kind written by :meth:`save`. Never unpickles anything.

        Raises
        ------
        FileAccessError
            If the path does not exist, is a folder, or cannot be read.
        ModelFileError
            If the file is not a model file of this kind, its arrays are not those
            :attr:`ARRAYS` declares, or they do not fit together.
        """
        arrays, vocab, history, settings = load_npz(path, kind=cls.kind, layout=cls.ARRAYS)
        try:
            return cls.from_arrays(arrays, vocab, history=history, settings=settings)
        except ModelFileError as e:
            raise ModelFileError(f"{os.fspath(path)} {e}: retrain the model or use another "
                                 "copy.") from None

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocab: Vocabulary, *,
                    history: Sequence[float], settings: dict[str, Any]) -> Any:
        """The model of a file's arrays, which fit :attr:`ARRAYS`, checked for the rest.

        Raises
        ------
        ModelFileError
            A sentence without the file's name, which :meth:`load` adds.
        """
        raise NotImplementedError

    def _shape_words(self) -> list[str]:
        """What :func:`repr` says the model is: ``["K=1", "V=27"]``, and more if it has more."""
        return [f"K={self.K}", f"V={self.V}"]

    def _training_words(self) -> list[str]:
        """What :func:`repr` says of how the model was made."""
        raise NotImplementedError

    def __repr__(self) -> str:
        """One line: what the model is, then how it was trained, e.g.
        ``BigramModel(K=1, V=27; gd, 100 steps at lr 50, reg 0.01, float32; 228,146
        examples, final loss 2.4829)``. Settings the model does not know are left out."""
        s = self.settings
        data = [f"{s['num_examples']:,} examples" if "num_examples" in s else ""]
        if "split" in s:
            data.append(f"split {s['split']} (seed {s.get('split_seed')})")
        if self.final_loss is not None:
            data.append(f"final loss {self.final_loss:.4f}")
        groups = (self._shape_words(), self._training_words(), data)
        parts = [", ".join(x for x in group if x) for group in groups]
        return f"{type(self).__name__}({'; '.join(p for p in parts if p)})"


class CountModel(LanguageModel):
    """The smoothed count model: ``P(t | c) = (N[c, t] + k) / sum_j (N[c, j] + k)``.

    Parameters
    ----------
    N : ndarray, shape (C, V)
        The target counts of each context.
    vocab : Vocabulary
    contexts : ndarray of int, shape (C, K), optional
        The distinct contexts seen in training, sorted (see ``context_counts``);
        default: every character, one per row (bigrams, ``C = V``).
    smoothing : float
        ``k`` of add-k smoothing; ``k = 1`` is the notebook's ``P = (N + 1) / ...``.
    settings : dict, optional

    Notes
    -----
    A context never seen in training gets the uniform row ``1/V`` (see the module
    docstring). With ``k = 0`` a seen context gives probability 0 to a character it
    was never followed by, and a word containing that pair has NLL ``inf``.
    """

    kind = "counts"
    ARRAYS = {"N": Array(("C", "V"), NUMBERS), "contexts": Array(("C", "K"), INTEGERS)}

    def __init__(self, N: np.ndarray, vocab: Vocabulary, *, contexts: np.ndarray | None = None,
                 smoothing: float = 1.0, settings: dict[str, Any] | None = None) -> None:
        smoothing = check_real("smoothing", smoothing)
        N = np.asarray(N)
        if contexts is None:
            contexts = all_contexts(len(vocab), 1)
        if (contexts.ndim != 2 or N.shape != (len(contexts), len(vocab))
                or contexts.shape[1] < 1):
            raise ModelFileError(f"counts of shape {N.shape} and contexts of shape "
                                 f"{contexts.shape} do not fit a vocabulary of {len(vocab)}.")
        self.contexts, self.N, self.vocab = contexts, N, vocab
        self.K = contexts.shape[1]
        self.smoothing = smoothing
        self.history: list[float] = []
        self.settings = dict(settings or {}, method="add-k", smoothing=self.smoothing,
                             context=self.K)
        self._codes = context_codes(contexts, self.V)             # (C,) sorted
        self._table: np.ndarray | None = None                    # made by _log_table
        with np.errstate(over="ignore"):
            counted = N.sum(dtype=np.float64)
            if not np.isfinite(counted):
                raise DataError("the counts are so large that their sum overflows: scale "
                                "them down (the probabilities depend only on their ratios).")
            if not np.isfinite(counted + smoothing * N.size):   # the counts alone fit
                limit = (np.finfo(np.float64).max - counted) / N.size
                raise SettingsError(f"smoothing {smoothing:g}, added to each of the {N.size:,} "
                                    "counts, makes their sum overflow: use a smoothing below "
                                    f"{limit:.3g} (smoothing 1 is add-one).")
        log_table = self.log_probs()
        # the mean NLL of the training examples: a count model is counted, not trained
        self.final_loss = (float(-(N * np.where(N > 0, log_table, 0)).sum() / N.sum())
                           if N.sum() > 0 else None)

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, smoothing: float | None = None,
            context: int = 1, vocab: Vocabulary | None = None,
            counts: ContextCounts | None = None) -> CountModel:
        """Count every (context, next character) pair of ``words`` (or take ``counts``),
        smoothed add-k.

        Parameters
        ----------
        words : sequence of str, optional
            ``None`` uses the embedded names (unless ``counts`` are given).
        smoothing : float >= 0, optional
            Default :func:`default_smoothing`: 1 for bigrams (the notebook), ``10**-K``
            for contexts of K >= 2 characters.
        context : int >= 1, default 1 (bigrams)
        vocab : Vocabulary, optional
            Default: the characters of ``words`` (or of ``counts``).
        counts : ContextCounts, optional
            Precomputed counts of contexts of ``context`` characters instead of
            ``words``, e.g. from :func:`minibigram.count_contexts` or
            :func:`minibigram.count_files`; the model is the one ``words`` would give.

        Raises
        ------
        SettingsError
            If both ``words`` and ``counts`` are given, or ``counts.context`` is not
            ``context``.

        Notes
        -----
        A count model is add-k by definition. For K >= 2 the row of every context never
        seen in training is uniform, so a sampled word that strays into one ends with
        probability ``1/V`` a step, and the longest of many samples grows with their
        number (14 to 23 times the longest training word in 100,000 samples of K = 4 on
        66 characters). For samples near the training words use
        ``BackoffModel.fit(words, context=K, method="modified-kneser-ney")``, which
        backs off to the longest seen suffix, as ``minibigram.train`` does for K >= 2
        unless told otherwise (:func:`default_method`).
        """
        context = check_whole("the context length", context, 1)
        smoothing = check_real("smoothing", default_smoothing(context) if smoothing is None
                               else smoothing)
        counts, words = _training_counts(words, counts, context, vocab)
        # only the contexts seen: an unseen one is uniform, whatever the smoothing
        contexts, N = _seen_rows(counts)                          # (C, K), (C, V)
        return cls(N, counts.vocab, contexts=contexts, smoothing=smoothing,
                   settings={"num_examples": counts.num_examples, **provenance(words)})

    def probs(self) -> np.ndarray:
        """The (C, V) table ``(N + k) / rowsum(N + k)``, one row per seen context.

        For ``K = 1`` every character is a seen context, so this is the (V, V) table.
        """
        Nk = self.N + self.smoothing                             # (C, V)
        return Nk / Nk.sum(axis=1, keepdims=True)

    def log_probs(self) -> np.ndarray:
        """(C, V) ``log P`` of the seen contexts; ``-inf`` where smoothing 0 meets count 0."""
        L = self.N + self.smoothing                              # (C, V)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = np.log(L.sum(axis=1, keepdims=True))         # (C, 1)
            np.log(L, out=L)                                     # in place: one (C, V) array
            L -= total
        return L

    def log_rows(self, contexts: np.ndarray) -> np.ndarray:
        # the table once, then its rows (the blocks of the base class would recompute it)
        return _table_rows(self.log_probs(), self._codes, contexts)

    def score(self, words: Sequence[str], *, skip_unknown: bool = False) -> np.ndarray:
        """:meth:`LanguageModel.score`, by lookup when ``V**(K+1)`` is small: each token's
        context as one code and one gather from the table of every context's
        log-probabilities (:mod:`minibigram.lookup`); one word, a walk over that table."""
        table = None if skip_unknown else self._log_table()
        if table is None:
            return super().score(words, skip_unknown=skip_unknown)
        if isinstance(words, list) and len(words) == 1:
            one = walk(words[0], self.vocab.stoi, table, self.K, self.V)
            if one is not None:
                return np.array([one])
        words = check_words(words)
        ids = known_ids(words, self.vocab)
        if ids is None:   # the full path names the word and the character
            return super().score(words)
        if len(words) == 0:
            return np.zeros(0)
        codes, ys = token_codes(ids, self.K, self.V)              # (n,), (n,)
        return word_sums(ids, table[codes * self.V + ys])         # (m,)

    def token_log_probs(self, words: Sequence[str], unknown: str = "error"
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """:meth:`LanguageModel.token_log_probs`, by :meth:`score`'s lookup when it applies
        (every character known, ``V**(K+1)`` small): the same numbers, one gather."""
        table = self._log_table() if unknown == "error" else None
        ids = (known_ids(words, self.vocab)
               if table is not None and isinstance(words, list) and words else None)
        if table is None or ids is None:
            return super().token_log_probs(words, unknown)
        codes, ys = token_codes(ids, self.K, self.V)              # (n,), (n,)
        lengths = np.diff(np.flatnonzero(ids == 0)) - 1           # (m,)
        return table[codes * self.V + ys], lengths, np.zeros(len(ys), bool), 0

    def _log_table(self) -> np.ndarray | None:
        """``log P`` of every (context code, next id), ``V**(K+1)`` entries, the very numbers
        of :meth:`log_probs` (unseen contexts ``-log V``); None if more than MAX_DENSE."""
        V = self.V
        if V ** (self.K + 1) > MAX_DENSE:
            return None
        if self._table is None:
            L = np.full((V**self.K, V), -np.log(V))               # (V**K, V) unseen: uniform
            L[self._codes] = self.log_probs()
            self._table = L.ravel()
        return self._table

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return _context_logp(self.log_probs(), self._codes, X, ys)

    def _rows(self, S: int) -> np.ndarray:
        P = np.full((S, self.V), 1.0 / self.V)                   # (S, V) unseen: uniform
        P[self._codes] = self.probs()
        return P

    def _sampling_table(self, sampler: str) -> np.ndarray:
        """Under the torch eras, the notebook's float32 table; otherwise :meth:`table`.

        The notebook samples ``P = (N+1).float(); P /= P.sum(1, keepdims=True)``, a
        float32 table, and a torch draw depends on ``p``'s dtype (``torch-mkl`` seeds its
        stream from one 32-bit word for float32, two for float64), so the torch eras get
        ``float32(N + k) / float32(rowsum(N + k))``: the notebook's table bit for bit when
        the row sums are below 2**24. Scoring and the ``numpy`` sampler keep float64.
        """
        P = self.table()                                         # (S, V) float64
        if sampler not in ERAS:
            return P
        Nk = np.ones(P.shape, dtype=np.float32)                  # (S, V) unseen: uniform
        Nk[self._codes] = self.N + self.smoothing                # rows of seen contexts
        return Nk / Nk.sum(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)

    def _seen_chain_rows(self, sampler: str) -> np.ndarray | None:
        # the rows of table() and _sampling_table() for the seen contexts, then the unseen one
        if sampler in ERAS:
            Nk = np.ones((len(self.N) + 1, self.V), dtype=np.float32)   # (C + 1, V)
            Nk[:-1] = self.N + self.smoothing
            return Nk / Nk.sum(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        return np.vstack([self.probs(), np.full((1, self.V), 1.0 / self.V)])   # (C + 1, V)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"N": self.N, "contexts": self.contexts}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocab: Vocabulary, *,
                    history: Sequence[float], settings: dict[str, Any]) -> CountModel:
        N = arrays["N"]
        if not np.isfinite(N).all() or (N < 0).any():
            raise ModelFileError("holds counts that are not finite non-negative numbers")
        with np.errstate(over="ignore"):
            total = (N.astype(np.float64) + settings.get("smoothing", 1.0)).sum()
        if not np.isfinite(total):
            raise ModelFileError("holds counts so large that their sum overflows")
        contexts = check_contexts(arrays["contexts"], len(vocab))
        return _file_model(cls, N, vocab, contexts=contexts,
                           smoothing=settings.get("smoothing", 1.0), settings=settings)

    def _shape_words(self) -> list[str]:
        more = [f"{len(self.contexts):,} contexts"] if self.K > 1 else []
        return [*super()._shape_words(), *more]

    def _training_words(self) -> list[str]:
        return ["counted", f"smoothing {self.smoothing:g}"]


class NGramModel(LanguageModel):
    """The network over a one-hot of the K previous characters: ``P(t | c) = softmax(W[c])_t``.

    The joint encoding: one row of ``W`` per distinct context seen in training.
    ``NGramModel(W, vocab, encoding="concat", context=K)`` makes a :class:`ConcatModel`,
    the subclass of the other encoding, and ``NGramModel.fit(..., encoding="concat")``
    trains one.

    Parameters
    ----------
    W : ndarray, shape (C, V)
        Row i holds the logits of the character after ``contexts[i]``.
    vocab : Vocabulary
    context : int, optional
        K; default: read off ``contexts``, or 1.
    contexts : ndarray of int, shape (C, K), optional
        The distinct training contexts, sorted; default every character (K = 1).
    history : list of float, optional
        The training loss of every iterate, before its update.
    settings : dict, optional
        How the model was trained (JSON-serializable); ``settings["final_loss"]`` is
        the training objective at W, which :attr:`final_loss` reports.
    encoding : {"joint", "concat"}, default "joint"
    """

    kind = "ngram"
    #: The encoding of the context: ``"joint"``, one one-hot over whole contexts.
    encoding: ClassVar[str] = "joint"
    ARRAYS = {"W": Array(("C", "V"), DTYPES),
              "contexts": Array(("C", "K"), INTEGERS, optional=True)}   # optional for K = 1
    W: np.ndarray
    contexts: np.ndarray | None

    def __new__(cls, *args: Any, encoding: str = "joint", **options: Any) -> NGramModel:
        check_choice("encoding", encoding, ENCODINGS)
        if cls is NGramModel and encoding == ConcatModel.encoding:
            return super().__new__(ConcatModel)
        return super().__new__(cls)

    def __init__(self, W: np.ndarray, vocab: Vocabulary, *, context: int | None = None,
                 contexts: np.ndarray | None = None, history: Sequence[float] = (),
                 settings: dict[str, Any] | None = None, encoding: str = "joint") -> None:
        V = len(vocab)
        if contexts is None and context in (None, 1):
            contexts = all_contexts(V, 1)                        # (V, 1) every character
        context = check_whole("the context length",
                              contexts.shape[1] if context is None and contexts is not None
                              else context, 1)
        if (contexts is None or contexts.ndim != 2 or contexts.shape[1] != context
                or W.shape != (len(contexts), V)):
            raise ModelFileError(f"W of shape {W.shape} does not fit a joint model with "
                                 f"context {context} over {V} characters.")
        self._set(W, vocab, context, history, settings)
        self.contexts = contexts
        self._codes = context_codes(contexts, V)                 # (C,) sorted

    def _set(self, W: np.ndarray, vocab: Vocabulary, context: int, history: Sequence[float],
             settings: dict[str, Any] | None) -> None:
        """What every network holds: W, its vocabulary, K, its history and settings."""
        self.W, self.vocab, self.K = W, vocab, context
        self.history = list(history)
        self.settings = dict(settings or {}, context=context, encoding=self.encoding)
        self.final_loss = self.settings.get("final_loss")

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, context: int = 2,
            encoding: str = "joint", reg: float = 0.01, solver: str = "newton",
            steps: int = 100, lr: float = 50.0, seed: int = NOTEBOOK_SEED,
            dtype: str = "float64", engine: str = "counts", init: str = "normal",
            callback: Callback | None = None, counts: ContextCounts | None = None,
            vocab: Vocabulary | None = None) -> Any:
        """Train on ``words`` (or on precomputed ``counts``), by Newton's method or as the notebook.

        Parameters
        ----------
        words : sequence of str, optional
            ``None`` uses the embedded names.
        context : int >= 1, default 2
        encoding : {"joint", "concat"}, default "joint"
            ``"concat"`` trains and returns a :class:`ConcatModel` (see its ``fit``).
        reg : float >= 0, default 0.01
            ``reg * mean(W**2)``.
        solver : {"newton", "gd"}, default "newton"
            ``"newton"`` solves exactly, from W = 0, in float64 (then casts to
            ``dtype``): joint by :func:`minibigram.newton` (its rows decouple; with
            reg 0 the closed form), concat by :func:`minibigram.concat_newton` (needs
            reg > 0); ``steps`` caps the iterations and it stops at max |dW| < 1e-10.
            ``"gd"`` runs ``steps`` of full-batch gradient descent at ``lr`` from an
            initial W drawn from ``seed``, as the notebook does.
        steps : int, default 100
        lr, seed, init, engine :
            Gradient descent only: its learning rate, the seed and kind (``"torch"``:
            the notebook's ``torch.randn``; ``"normal"``: numpy's) of the initial W,
            and how the joint loss and gradient are computed (``"counts"``,
            ``"index"``, ``"onehot"``: the same numbers).
        dtype : {"float64", "float32"}, default "float64"
            Of the returned W, and of every gradient step.
        callback : callable, optional
            ``callback(step, loss)`` with each entry of ``history``.
        counts : ContextCounts, optional
            Precomputed counts of contexts of ``context`` characters instead of
            ``words`` (e.g. from :func:`minibigram.count_bigrams`,
            :func:`minibigram.count_contexts` or :func:`minibigram.count_files`), for
            either encoding; the model is the one ``words`` would give. Needs Newton
            or the counts engine: the other engines read every example.
        vocab : Vocabulary, optional
            Default: the characters of ``words`` (pass the vocabulary of all the data
            when ``words`` is only its training part, so dev and test can be scored).

        Returns
        -------
        NGramModel, or ConcatModel for the concat encoding
            ``history`` holds the loss of every iterate before its update, and
            :attr:`final_loss` the objective (mean NLL + L2) at the returned W, in
            float64.
        """
        check_choice("encoding", encoding, ENCODINGS)
        check_choice("engine", engine, ENGINES)
        if encoding == ConcatModel.encoding:
            return ConcatModel.fit(words, context=context, reg=reg, solver=solver, steps=steps,
                                   lr=lr, seed=seed, dtype=dtype, init=init, callback=callback,
                                   counts=counts, vocab=vocab)
        run = _Training.check(context=context, solver=solver, steps=steps, lr=lr, reg=reg,
                              dtype=dtype, init=init, seed=seed, callback=callback)
        if counts is not None and needs_words(engine, solver):
            raise SettingsError(f"the {engine} engine needs the words, not counts: use "
                                "engine='counts' or solver='newton' with counts.")
        counts, words = _training_counts(words, counts, run.context, vocab)
        vocab = counts.vocab
        V = len(vocab)
        if run.context == 1:   # the bigram table: a row for every character
            contexts = all_contexts(V, 1)                                    # (V, 1)
            N = np.zeros((V, V), dtype=counts.N.dtype)                       # (V, V)
            N[counts.contexts[:, 0]] = counts.N
        else:                  # a row per context seen
            contexts, N = _seen_rows(counts)                                 # (C, K), (C, V)
        C, n = len(contexts), int(counts.num_examples)
        check_size(f"training the joint network on {V} characters and {C} contexts",
                   _joint_fit_bytes(solver, engine, n, C, V, dtype),
                   "use a smaller alphabet or a shorter context, or the count model")
        # the joint loss depends on the data only through N (C, V)
        if needs_words(engine, solver):   # the engines that read every example
            assert words is not None      # refused above for counts
            X, ys = ngrams(words, vocab, run.context)                        # (n, K), (n,)
            cid = lookup_contexts(context_codes(contexts, V), X, V)[0]       # (n,)
            loss_fn = objective(engine, N.shape, xs=cid, ys=ys, reg=run.reg)
        else:
            loss_fn = objective("counts", N.shape, N=N, reg=run.reg)
        W, history = run.solve(loss_fn, N.shape, lambda: newton(N, run.reg, max_iter=run.steps,
                                                                callback=callback))
        final_loss = counts_loss(W.astype(np.float64), N, run.reg)[0]   # in float64 always
        settings = run.settings(counts, C, history, final_loss, words, engine=engine)
        return cls(W.astype(dtype, copy=False), vocab, context=run.context, contexts=contexts,
                   history=history, settings=settings)

    def probs(self) -> np.ndarray:
        """The (C, V) next-character probabilities ``softmax(W)``, a row per context."""
        return F.softmax(self.W)

    def log_probs(self) -> np.ndarray:
        """``log`` of :meth:`probs` by log-sum-exp, in float64, finite wherever W is."""
        return F.log_softmax(self.W.astype(np.float64))

    def log_rows(self, contexts: np.ndarray) -> np.ndarray:
        # the table once, then its rows (the blocks of the base class would recompute it)
        return _table_rows(self.log_probs(), self._codes, contexts)

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return _context_logp(self.log_probs(), self._codes, X, ys)

    def _seen_chain_rows(self, sampler: str) -> np.ndarray | None:
        if len(self._codes) == self.V ** self.K:                 # every context seen: dense
            return None
        logits = np.zeros((len(self.W) + 1, self.V))             # (C + 1, V) unseen: uniform
        logits[:-1] = self.W
        return F.softmax(logits)

    def _rows(self, S: int) -> np.ndarray:
        if len(self._codes) == S:                                # every context seen
            return self.probs()
        logits = np.zeros((S, self.V))                           # (S, V) unseen: uniform
        logits[self._codes] = self.W
        return F.softmax(logits)

    def to_arrays(self) -> dict[str, np.ndarray]:
        assert self.contexts is not None
        return {"W": self.W, "contexts": self.contexts}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocab: Vocabulary, *,
                    history: Sequence[float], settings: dict[str, Any]) -> Any:
        contexts = arrays.get("contexts")
        if contexts is None and settings.get("context", 1) != 1:
            raise ModelFileError("lacks the array contexts")
        if contexts is not None:
            contexts = check_contexts(contexts, len(vocab))
        return _file_model(cls, arrays["W"], vocab, context=settings.get("context"),
                           contexts=contexts, history=history, settings=settings)

    def _shape_words(self) -> list[str]:
        more = [f"{len(self.contexts):,} contexts"] if self.K > 1 and self.contexts is not None \
            else []
        return [self.encoding, *super()._shape_words(), *more]

    def _training_words(self) -> list[str]:
        s = self.settings
        if "solver" not in s:
            return ["no training record"]   # built from arrays, not by fit
        steps = f"{s['steps']} steps" if "steps" in s else ""
        if s["solver"] == "gd" and "lr" in s:
            steps += f" at lr {s['lr']:g}"
        return [str(s["solver"]), steps, f"reg {s['reg']:g}" if "reg" in s else "",
                str(s.get("dtype", ""))]


def _joint_fit_bytes(solver: str, engine: str, n: int, C: int, V: int, dtype: str) -> float:
    """An upper estimate of the memory :meth:`NGramModel.fit` asks for, in bytes."""
    size = np.dtype(dtype).itemsize
    work = 6.0 * 8 * C * V                          # W, dW, logp, N/n in float64, and a copy
    if solver == "newton":
        work += 3.0 * 8 * min(C, NEWTON_BLOCK) * V * V   # a (V, V) Hessian per context, blocks
    elif engine == "onehot":
        work += 2.0 * size * n * C + 3.0 * size * n * V   # the one-hot matrix, (n, V) arrays
    elif engine == "index":
        work += 3.0 * size * n * V
    return work

class BigramModel(NGramModel):
    """The notebook's bigram network: ``P(next | prev) = softmax(W[prev])``.

    The :class:`NGramModel` with a context of one character, whose :meth:`fit`
    has the notebook's defaults: 100 steps of gradient descent at learning rate 50
    from ``torch.randn`` with the notebook's seed, in float32.

    Parameters
    ----------
    W : ndarray, shape (V, V)
        Row ``i`` holds the logits of the character after character ``i``.
    vocab : Vocabulary
    history : list of float, optional
        Training loss per step, before that step's update.
    settings : dict, optional
        How the model was trained (JSON-serializable).

    Examples
    --------
    >>> model = BigramModel.fit(steps=10)   # the embedded names
    >>> names = model.sample(5)
    """

    kind = "bigram"
    ARRAYS = {"W": Array(("V", "V"), DTYPES)}

    def __init__(self, W: np.ndarray, vocab: Vocabulary, *, history: Sequence[float] = (),
                 settings: dict[str, Any] | None = None, **options: Any) -> None:
        # options: what NGramModel.fit passes every network; a bigram's are fixed
        if options.get("context") not in (None, 1) or options.get("encoding") not in (None,
                                                                                      "joint"):
            raise SettingsError("a BigramModel has a context of one character: use "
                                "NGramModel for longer contexts or the concat encoding.")
        if W.shape != (len(vocab), len(vocab)):
            raise ModelFileError(f"W has shape {W.shape} but the vocabulary has {len(vocab)} "
                                 "characters: the two do not belong together.")
        super().__init__(W, vocab, context=1, history=history, settings=settings)

    @classmethod
    def fit(  # type: ignore[override]  # the K = 1 case: no context or encoding to choose
            cls, words: Sequence[str] | None = None, *, steps: int = 100, lr: float = 50.0,
            reg: float = 0.01, seed: int = NOTEBOOK_SEED, dtype: str = "float32",
            engine: str = "counts", init: str = "torch", callback: Callback | None = None,
            solver: str = "gd", counts: ContextCounts | None = None,
            vocab: Vocabulary | None = None) -> BigramModel:
        """Train by full-batch gradient descent, as the notebook does, or solve exactly.

        :meth:`NGramModel.fit` with ``context=1`` and the notebook's defaults:
        ``solver="gd"``, ``dtype="float32"``, ``init="torch"``; see it for the
        parameters. With ``solver="newton"`` and ``reg = 0`` it returns the closed
        form, the row-normalized counts, with ``W = -inf`` (probability exactly 0)
        where a count is 0 (see :func:`minibigram.closed_form`).

        Returns
        -------
        BigramModel
            With ``history`` holding every step's loss, computed before that step's
            update (the numbers the notebook prints).
        """
        return super().fit(words, context=1, steps=steps, lr=lr, reg=reg, seed=seed,
                           dtype=dtype, engine=engine, init=init, callback=callback,
                           solver=solver, counts=counts, vocab=vocab)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"W": self.W}

    def _shape_words(self) -> list[str]:
        return LanguageModel._shape_words(self)   # the class says the encoding and K


class ConcatModel(NGramModel):
    """The network over K one-hots concatenated: ``P(t | c) = softmax(logits(c))_t`` with
    ``logits(c) = W[0, c_1] + ... + W[K-1, c_K]``.

    It has no row per context, so no context is unseen, and ``W`` has ``K V**2`` entries
    whatever the data. ``NGramModel(W, vocab, encoding="concat")`` makes one too.

    Parameters
    ----------
    W : ndarray, shape (K, V, V)
        ``W[p, c]`` holds the logits that character ``c`` at position ``p`` of the
        context adds.
    vocab : Vocabulary
    context : int, optional
        K; default ``len(W)``.
    history : list of float, optional
        The training loss of every iterate, before its update.
    settings : dict, optional
        How the model was trained (JSON-serializable); ``settings["final_loss"]`` is
        the training objective at W, which :attr:`final_loss` reports.
    encoding : "concat"
    """

    kind = "concat"
    encoding = "concat"
    ARRAYS = {"W": Array(("K", "V", "V"), DTYPES)}

    def __init__(self, W: np.ndarray, vocab: Vocabulary, *, context: int | None = None,
                 history: Sequence[float] = (), settings: dict[str, Any] | None = None,
                 encoding: str = "concat") -> None:
        check_choice("encoding", encoding, (self.encoding,))
        V = len(vocab)
        context = check_whole("the context length",
                              (W.shape[0] if W.ndim == 3 else 1) if context is None else context,
                              1)
        if W.shape != (context, V, V):
            raise ModelFileError(f"W of shape {W.shape} does not fit a concat model with "
                                 f"context {context} over {V} characters.")
        self._set(W, vocab, context, history, settings)
        self.contexts = None

    @classmethod
    def fit(  # type: ignore[override]  # one encoding, and one engine: no choice of either
            cls, words: Sequence[str] | None = None, *, context: int = 2, reg: float = 0.01,
            solver: str = "newton", steps: int = 100, lr: float = 50.0,
            seed: int = NOTEBOOK_SEED, dtype: str = "float64", init: str = "normal",
            callback: Callback | None = None, counts: ContextCounts | None = None,
            vocab: Vocabulary | None = None) -> ConcatModel:
        """Train on ``words`` (or on ``counts``), by Newton's method or gradient descent.

        As :meth:`NGramModel.fit`, without its ``encoding`` and ``engine``: the loss and
        gradient are those of the nonzero counts as weighted examples, so counts are
        always enough. ``solver="newton"`` is :func:`minibigram.concat_newton`, which
        needs reg > 0.

        Returns
        -------
        ConcatModel
            ``history`` holds the loss of every iterate before its update, and
            :attr:`final_loss` the objective (mean NLL + L2) at the returned W, in
            float64.
        """
        run = _Training.check(context=context, solver=solver, steps=steps, lr=lr, reg=reg,
                              dtype=dtype, init=init, seed=seed, callback=callback)
        counts, words = _training_counts(words, counts, run.context, vocab)
        vocab = counts.vocab
        contexts, N = _seen_rows(counts)                                     # (C, K), (C, V)
        K, V, C, n = run.context, len(vocab), len(contexts), int(counts.num_examples)
        check_size(f"training the concat network on {V} characters and {C} contexts",
                   _concat_fit_bytes(solver, n, C, V, K),
                   "use a smaller alphabet or a shorter context, or the count model")
        shape = (K, V, V)
        Xc, tc, wc = weighted_examples(contexts, N)                  # (m, K), (m,), (m,)
        loss_fn = objective("concat", shape, xs=Xc, ys=tc, weights=wc, reg=run.reg)
        W, history = run.solve(loss_fn, shape, lambda: concat_newton(
            contexts, N, run.reg, max_iter=run.steps, callback=callback))
        final_loss = concat_loss(W.astype(np.float64), Xc, tc, run.reg, wc)[0]   # in float64
        settings = run.settings(counts, C, history, final_loss, words)
        return cls(W.astype(dtype, copy=False), vocab, context=K, history=history,
                   settings=settings)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """The (n, V) float64 logits of the contexts ``X`` (n, K)."""
        return F.concat_logits(self.W.astype(np.float64), X)

    def probs(self) -> np.ndarray:
        """The (V**K, V) next-character probabilities, :meth:`table`."""
        return self.table()

    def log_probs(self) -> np.ndarray:
        """``log`` of :meth:`probs` by log-sum-exp, in float64."""
        check_sampling(self.V, self.K)
        return F.log_softmax(self._logits(all_contexts(self.V, self.K)))

    # no table of every context: rows in blocks of logits, as the base class computes them
    log_rows = LanguageModel.log_rows

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return F.log_softmax(self._logits(X))[np.arange(len(ys)), ys]

    def _seen_chain_rows(self, sampler: str) -> np.ndarray | None:
        return None   # every context has its own row of logits: the dense table

    def _rows(self, S: int) -> np.ndarray:
        return F.softmax(self._logits(all_contexts(self.V, self.K)))   # (S, V)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"W": self.W}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocab: Vocabulary, *,
                    history: Sequence[float], settings: dict[str, Any]) -> Any:
        return _file_model(cls, arrays["W"], vocab, context=settings.get("context"),
                           history=history, settings=settings)

    def _shape_words(self) -> list[str]:
        return LanguageModel._shape_words(self)   # the class says the encoding; no row per context


def _concat_fit_bytes(solver: str, n: int, C: int, V: int, K: int) -> float:
    """An upper estimate of the memory :meth:`ConcatModel.fit` asks for, in bytes."""
    work = 6.0 * 8 * K * V * V + 3.0 * 8 * min(n, C * V) * V     # the weighted examples' rows
    if solver == "newton":
        work += 16.0 * (K * V * V) ** 2 + 8.0 * C * V * V        # the Hessian and S_c blocks
    return work


def _training_counts(words: Sequence[str] | None, counts: ContextCounts | None, context: int,
                     vocab: Vocabulary | None) -> tuple[ContextCounts, list[str] | None]:
    """The counts a model trains on, and the words they came from (None for given counts).

    The one way into training: ``words`` are counted here (``None``: the embedded
    names), ``counts`` are checked against ``context`` and re-indexed by ``vocab``.
    """
    if counts is None:
        words = training_words(words)                            # checked, once
        return count_words(words, vocab, context), words
    if words is not None:
        raise SettingsError("give either words or counts to fit, not both.")
    if not isinstance(counts, ContextCounts):
        raise SettingsError(f"counts must be a ContextCounts (or BigramCounts), got "
                            f"{type(counts).__name__}: count with count_bigrams, "
                            "count_contexts or count_files.")
    if counts.context != context:
        raise SettingsError(f"the counts are of contexts of {counts.context} character(s), "
                            f"but the model has context {context}: count with the model's "
                            f"context length, or fit with context={counts.context}.")
    check_has_words(counts.num_examples, "the counts")
    return (counts if vocab is None else counts.reindex(vocab)), None
