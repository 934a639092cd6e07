"""The backoff model: smoothed next-character distributions of the histories seen, looked up.

A :class:`BackoffModel` holds, like an ARPA file, one row per history seen in training
(of every length ``0..K``, see :mod:`minibigram.smoothing`): the log-probabilities of
the ``Vu`` outcomes, the log backoff weight and which n-grams were seen. The row of a
context of K characters is that of its longest seen history (its suffixes, leading
boundaries kept once), found with one ``np.searchsorted`` among keys of every length
(:func:`history_keys`), or, when the ``Vu**K`` contexts are few, with one precomputed
gather. Scoring gathers one log-probability per character; sampling walks the same rows
(:meth:`BackoffModel.chain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .archive import INTEGERS, Array
from .errors import (
    DataError,
    ModelFileError,
    SettingsError,
    check_choice,
    check_whole,
    check_words,
    word_list,
)
from .examples import ContextCounts, all_contexts, count_words, scorable_words
from .lookup import MAX_DENSE, token_codes, walk, word_sums
from .models import UNKNOWN, LanguageModel, check_sampling, provenance
from .sampling import DEFAULT_SAMPLER, Chain
from .smoothing import METHODS, Tables, estimate
from .vocab import LINE_BREAKS, Vocabulary, joined_codes
from .words import training_words

#: Most contexts (``Vu**K``) whose rows are found by one precomputed gather.
MAX_MAP = 2**22


def longest_history(codes: np.ndarray, lengths: np.ndarray, full: np.ndarray, k: int,
                    Vu: int) -> np.ndarray:
    """The row of each context's longest history among (``lengths``, ``codes``), at most k long.

    ``full`` (n,) are the contexts' base-``Vu`` codes, the newest id last, so the code of
    their last ``j`` ids is ``full % Vu**j``; one ``np.searchsorted`` per length, longest
    first, among the sorted codes of that length. Row 0 (the unigram) if none is seen.
    """
    rows = np.zeros(len(full), np.int64)                         # (n,) 0: the unigram
    todo = np.ones(len(full), bool)                              # (n,) no history found yet
    for j in range(k, 0, -1):
        lo, hi = (int(i) for i in np.searchsorted(lengths, [j, j + 1]))
        if lo == hi:
            continue
        c = full % Vu**j                                         # (n,) the last j ids
        pos = np.minimum(np.searchsorted(codes[lo:hi], c), hi - lo - 1)   # (n,)
        hit = todo & (codes[lo:hi][pos] == c)
        rows[hit] = lo + pos[hit]
        todo &= ~hit
    return rows


def history_keys(codes: np.ndarray, lengths: np.ndarray, K: int, Vu: int
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """One key per history row, ``offsets[length] + code`` (R,), and ``offsets`` (K + 1,).

    ``offsets[j] = Vu**0 + ... + Vu**(j-1)`` and a code of length j is below ``Vu**j``, so
    the keys of each length follow those of the length before: rows sorted by length,
    then code, have sorted keys, and one ``np.searchsorted`` finds histories of every
    length (:func:`longest_keyed`). None when the keys (below ``2 Vu**K``) would not fit
    int64.
    """
    offsets = [sum(Vu**i for i in range(j)) for j in range(K + 1)]
    if offsets[K] + Vu**K >= 2**63:
        return None
    off = np.array(offsets, dtype=np.int64)                      # (K + 1,)
    return off[lengths] + codes, off                             # (R,), (K + 1,)


def longest_keyed(keys: np.ndarray, offsets: np.ndarray, full: np.ndarray, Vu: int
                  ) -> np.ndarray:
    """:func:`longest_history` by :func:`history_keys`: the key of each context's last j ids
    for every j (the unigram's, j = 0, is always there), one ``np.searchsorted`` for them
    all, the longest found. A sampler asks for a few hundred contexts at a time, where
    one search instead of one per length is 4 times faster at K = 4."""
    K = len(offsets) - 1
    powers = Vu ** np.arange(K + 1, dtype=np.int64)              # (K + 1,)
    want = offsets + full[:, None] % powers                      # (n, K + 1) j = 0..K
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)   # (n, K + 1)
    found = keys[pos] == want                                    # (n, K + 1) j = 0 always
    j = K - np.argmax(found[:, ::-1], axis=1)                    # (n,) the longest found
    return pos[np.arange(len(full)), j]                          # (n,)


class BackoffModel(LanguageModel):
    """A smoothed character model: one row of ``log P`` per seen history, backoff weights.

    Parameters
    ----------
    tables : Tables
        ``lengths`` (R,), ``codes`` (R,), ``log_probs`` (R, Vu), ``log_backoff`` (R,),
        ``listed`` (R, Vu), rows sorted by length then code, row 0 the unigram.
    vocab : Vocabulary
    unk : bool
        Whether the last outcome (id ``V``) is ``<unk>``: then ``Vu = V + 1``.
    settings : dict, optional
        How it was made (method, discounts, data).
    """

    kind = "backoff"
    #: One row per history (``C`` of them); ``<unk>``'s column, when reserved, apart.
    ARRAYS = {"lengths": Array(("C",), INTEGERS), "codes": Array(("C",), INTEGERS),
              "log_probs": Array(("C", "V"), ("float64",)),
              "log_backoff": Array(("C",), ("float64",)),
              "listed": Array(("C", "V"), ("bool",)),
              "unk_log_probs": Array(("C",), ("float64",), optional=True),
              "unk_listed": Array(("C",), ("bool",), optional=True)}

    def __init__(self, tables: Tables, vocab: Vocabulary, *, unk: bool = False,
                 settings: dict[str, Any] | None = None) -> None:
        Vu = len(vocab) + int(unk)
        lengths = np.asarray(tables.lengths, dtype=np.int64)     # (R,)
        codes = np.asarray(tables.codes, dtype=np.int64)         # (R,)
        R = len(lengths)
        shapes = {"codes": (codes.shape, (R,)),
                  "log_probs": (tables.log_probs.shape, (R, Vu)),
                  "log_backoff": (tables.log_backoff.shape, (R,)),
                  "listed": (tables.listed.shape, (R, Vu))}
        bad = [f"{k} {got}" for k, (got, want) in shapes.items() if got != want]
        if lengths.ndim != 1 or R == 0 or lengths[0] != 0 or bad:
            raise DataError(f"backoff tables of {R} rows and {Vu} outcomes do not fit "
                            f"together ({', '.join(bad) or 'no unigram row first'}): give "
                            "rows sorted by length, the unigram first.")
        order = np.lexsort((codes, lengths))
        if (order != np.arange(R)).any() or (np.diff(lengths) < 0).any():
            raise DataError("the rows of backoff tables must be sorted by length, then code.")
        self.tables = tables
        self.vocab, self.unk = vocab, bool(unk)
        self.K = int(lengths[-1]) if R > 1 else 1
        self.history: list[float] = []
        self.settings = dict(settings or {}, context=self.K, unk=self.unk)
        #: The mean NLL of the training examples (None when not recorded, as in ARPA).
        self.final_loss: float | None = self.settings.get("final_loss")
        #: ``starts[k]``: the first row of length k (``starts[K + 1] = R``).
        self._starts = np.searchsorted(lengths, np.arange(self.K + 2))   # (K + 2,)
        self._logp = np.ascontiguousarray(tables.log_probs, dtype=np.float64).ravel()
        self._keys = history_keys(codes, lengths, self.K, Vu)
        self._map: np.ndarray | None = None
        self._dense: np.ndarray | None = None

    @property
    def V(self) -> int:
        """Vocabulary size (the boundary included)."""
        return len(self.vocab)

    @property
    def Vu(self) -> int:
        """Number of outcomes: ``V``, plus one for ``<unk>`` when it is reserved."""
        return self.V + int(self.unk)

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, context: int = 1,
            method: str = "kneser-ney", discount: float | None = None,
            smoothing: float = 1.0, unk: bool = False, floor: bool = True,
            vocab: Vocabulary | None = None, counts: ContextCounts | None = None
            ) -> BackoffModel:
        """Count ``words`` (or take ``counts``) and smooth them by ``method``.

        Parameters
        ----------
        words : sequence of str, optional
            ``None``: the embedded names (unless ``counts`` are given).
        context : int >= 1
            K, the characters of the longest history.
        method : str
            One of ``"kneser-ney"``, ``"modified-kneser-ney"``, ``"witten-bell"``,
            ``"absolute"``, ``"add-k"`` (see :mod:`minibigram.smoothing`).
        discount, smoothing, unk, floor
            As :func:`minibigram.smoothing.estimate`.
        vocab : Vocabulary, optional
        counts : ContextCounts, optional
            Counts of contexts of ``context`` characters instead of words.
        """
        check_choice("smoothing method", method, METHODS)
        context = check_whole("the context length", context, 1)
        if counts is None:
            words = training_words(words)
            counts = count_words(words, vocab, context)
        elif words is not None:
            raise SettingsError("give either words or counts to fit, not both.")
        elif counts.context != context:
            raise SettingsError(f"the counts are of contexts of {counts.context} "
                                f"character(s), but the model has context {context}: fit "
                                f"with context={counts.context}.")
        elif vocab is not None:
            counts = counts.reindex(vocab)
        tables = estimate(counts, method, discount=discount, smoothing=smoothing, unk=unk,
                          floor=floor)
        settings: dict[str, Any] = {"method": method, "floor": floor,
                                    "discounts": tables.discounts,
                                    "num_examples": counts.num_examples, **provenance(words)}
        if method == "add-k":
            settings["smoothing"] = smoothing
        model = cls(tables, counts.vocab, unk=unk, settings=settings)
        # a backoff model is counted, not trained: its loss is that of the training examples
        logp = model.log_rows(counts.contexts)[:, :model.V]         # (C, V) no <unk> column
        N = counts.N                                                # (C, V)
        model.final_loss = model.settings["final_loss"] = float(
            -(N * np.where(N > 0, logp, 0.0)).sum() / N.sum())
        return model

    def rows_of(self, full: np.ndarray) -> np.ndarray:
        """The row of each context's longest seen history; ``full`` (n,) their base-``Vu`` codes.

        One gather from a table of every context when ``Vu**K <= MAX_MAP`` (made on
        first use), else one ``np.searchsorted`` among the keys of every history
        (:func:`history_keys`).
        """
        if self._map is None and self.Vu ** self.K <= MAX_MAP:
            self._map = self._search(np.arange(self.Vu ** self.K)).astype(np.int32)
        if self._map is not None:
            return self._map[full]                               # (n,)
        return self._search(full)

    def _search(self, full: np.ndarray) -> np.ndarray:
        if self._keys is not None:
            return longest_keyed(*self._keys, np.asarray(full, dtype=np.int64), self.Vu)
        return longest_history(self.tables.codes, self.tables.lengths, full, self.K, self.Vu)

    def codes_of(self, contexts: np.ndarray) -> np.ndarray:
        """Base-``Vu`` codes (n,) of contexts (n, K) of ids, boundary-padded on the left."""
        X = np.asarray(contexts, dtype=np.int64).reshape(-1, self.K)   # (n, K)
        return X @ (self.Vu ** np.arange(self.K - 1, -1, -1, dtype=np.int64))

    def log_rows(self, contexts: np.ndarray) -> np.ndarray:
        """``log P(next | context)`` (n, Vu) of contexts (n, K): their longest seen histories."""
        return self.tables.log_probs[self.rows_of(self.codes_of(contexts))]

    def token_ids(self, words: Sequence[str], unknown: str = "error"
                  ) -> tuple[np.ndarray, int]:
        """The ids of ``".w1.w2."`` (L,) and the number of characters skipped.

        ``unknown`` says what a character outside the vocabulary becomes: an error
        naming it, nothing (``"skip"``), or ``<unk>`` (``"unk"``, id ``V``).
        """
        check_choice("unknown", unknown, UNKNOWN)
        words = word_list(words)
        skipped = 0
        if unknown == "skip":
            kept = scorable_words(check_words(words), self.vocab, skip_unknown=True)
            emptied = next((w for w, k in zip(words, kept) if w and not k), None)
            if emptied is not None:
                raise DataError(f"the word {emptied!r} has no character the model knows, so "
                                "skipping unknowns leaves nothing of it to score: remove it.")
            skipped = sum(map(len, words)) - sum(map(len, kept))
            words = kept
        if unknown == "unk" and not self.unk:
            raise SettingsError("this model reserves no <unk>: score unknown characters with "
                                "unknown='skip' (--unknown skip), or fit with unk=True.")
        codes = joined_codes(words)                              # (L,) checks each is a str
        try:
            ids = self.vocab.lookup(codes, unknown=self.V if unknown == "unk" else None)
        except DataError:
            scorable_words(words, self.vocab)   # names the word and its characters
            raise
        if np.count_nonzero(ids == 0) != len(words) + 1:          # a word would be split
            split = {*LINE_BREAKS, self.vocab.itos[0]}
            w = next(w for w in words if split & set(w))
            raise DataError(f"the word {w!r} holds a line break or the boundary symbol "
                            f"{self.vocab.itos[0]!r}, which would split it: remove it.")
        return ids, skipped

    def examples(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (context code, target) of every token of ``".w1.w2."`` ids: (L - 1,) each
        (:func:`minibigram.lookup.token_codes` in base ``Vu``)."""
        return token_codes(ids, self.K, self.Vu)

    def token_log_probs(self, words: Sequence[str], unknown: str = "error"
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Log-probability of each token (n,), word lengths (m,), <unk> mask (n,), skipped."""
        ids, skipped = self.token_ids(words, unknown)
        ends = np.flatnonzero(ids == 0)                           # (m + 1,) the boundaries
        codes, ys = self.examples(ids)                            # (n,), (n,)
        return self.target_log_probs(codes, ys), np.diff(ends) - 1, ys == self.V, skipped

    def target_log_probs(self, codes: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """``log P(ys | contexts)`` (n,) of contexts given by their base-``Vu`` codes (n,).

        One gather from the (``Vu**K``, ``Vu``) table of every context when it has at most
        :data:`MAX_DENSE` entries (made on first use), else a row lookup then a gather.
        """
        table = self._table()
        if table is not None:
            return table[codes * self.Vu + ys]                    # (n,)
        return self._logp[self.rows_of(codes) * self.Vu + ys]     # (n,)

    def score(self, words: Sequence[str], *, skip_unknown: bool = False,
              unknown: str | None = None) -> np.ndarray:
        """Natural log-probability of each word, its end token included: (len(words),).

        ``unknown`` is ``"error"`` (default), ``"skip"`` (``skip_unknown=True``) or
        ``"unk"`` (each unknown character scored as ``<unk>``). All the words are
        scored in one pass: one encoding, one gather of rows and log-probabilities,
        one ``np.add.reduceat`` per word. A single word of known characters is walked
        in Python instead, which is faster than numpy's cost per call on a few ids.
        """
        how = unknown or ("skip" if skip_unknown else "error")
        if isinstance(words, list) and len(words) == 1 and how != "skip":
            table = self._table()
            one = None if table is None else walk(words[0], self.vocab.stoi, table, self.K,
                                                  self.Vu)
            if one is not None:
                return np.array([one])
        ids, _ = self.token_ids(words, how)
        if len(ids) == 1:
            return np.zeros(0)
        codes, ys = self.examples(ids)                            # (n,), (n,)
        return word_sums(ids, self.target_log_probs(codes, ys))   # (m,)

    def _table(self) -> np.ndarray | None:
        """``log P`` of every (context, next id), ``Vu**(K+1)`` entries; None if too many."""
        Vu = self.Vu
        if Vu ** (self.K + 1) > MAX_DENSE:
            return None
        if self._dense is None:
            self._dense = self.tables.log_probs[self.rows_of(np.arange(Vu**self.K))].ravel()
        return self._dense

    def log_prob(self, word: str, *, skip_unknown: bool = False,
                 unknown: str | None = None) -> float:
        """Natural log-probability of one word, end token included (see :meth:`score`)."""
        if not isinstance(word, str):
            raise DataError(f"log_prob scores one word, a str; got {type(word).__name__}: "
                            "use nll or score for several words.")
        return float(self.score([word], skip_unknown=skip_unknown, unknown=unknown)[0])

    def nll(self, words: Sequence[str], *, skip_unknown: bool = False,
            unknown: str | None = None) -> float:
        """Mean negative log-likelihood per token (end tokens included)."""
        how = unknown or ("skip" if skip_unknown else "error")
        logp = self.token_log_probs(words, how)[0]
        if not len(logp):
            raise DataError("there are no words to score: give at least one word.")
        return float(-logp.mean())

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return self.target_log_probs(self.codes_of(X), ys)

    def _rows(self, S: int) -> np.ndarray:
        """P (S, V) of every context code (base V), ``<unk>`` dropped, the rest renormalized."""
        rows = self.rows_of(self.codes_of(all_contexts(self.V, self.K)))          # (S,)
        P = np.exp(self.tables.log_probs[rows][:, :self.V])                      # (S, V)
        return P / P.sum(axis=1, keepdims=True)

    def chain(self, sampler: str = DEFAULT_SAMPLER) -> Chain:
        """What sampling walks: one row per history seen, the row of a context that of
        its longest seen history (:meth:`rows_of`); for K = 1 the (V, V) table.

        ``<unk>`` is never drawn: its column is dropped and the rest of each row
        renormalized, as in :meth:`table`, so every sampler gives the words of the
        dense table without building it (``V**K`` rows), whatever K.
        """
        if self.K == 1:
            return super().chain(sampler)
        P = np.exp(self.tables.log_probs[:, :self.V])            # (R, V) no <unk>
        check_sampling(self.Vu, self.K, rows=len(P))             # codes are base Vu
        return Chain(P / P.sum(axis=1, keepdims=True), None, self.K, lookup=self.rows_of,
                     base=self.Vu)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of :attr:`ARRAYS`: ``<unk>``'s column apart, so the rest are (C, V)."""
        t, V = self.tables, self.V
        out = {"lengths": np.asarray(t.lengths, np.int8), "codes": t.codes,
               "log_probs": t.log_probs[:, :V], "log_backoff": t.log_backoff,
               "listed": t.listed[:, :V]}
        if self.unk:
            out.update(unk_log_probs=t.log_probs[:, V], unk_listed=t.listed[:, V])
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocab: Vocabulary, *,
                    history: Sequence[float] = (), settings: dict[str, Any]) -> BackoffModel:
        """The model of a file's arrays (``<unk>`` when its column is there), checked."""
        unk = "unk_log_probs" in arrays
        logp, listed = arrays["log_probs"], arrays["listed"]
        if unk != ("unk_listed" in arrays):
            raise ModelFileError("holds one of <unk>'s two columns without the other")
        if unk:
            logp = np.column_stack((logp, arrays["unk_log_probs"]))      # (C, V + 1)
            listed = np.column_stack((listed, arrays["unk_listed"]))     # (C, V + 1)
        lengths = arrays["lengths"]
        if (np.isnan(logp).any() or (logp > 1e-9).any() or np.isnan(arrays["log_backoff"]).any()
                or len(lengths) == 0 or lengths.min() < 0
                or lengths.max() > settings.get("context", 1)):
            raise ModelFileError("holds log-probabilities or history lengths that are not "
                                 "those of a backoff model")
        t = Tables(lengths, arrays["codes"], logp, arrays["log_backoff"], listed,
                   settings.get("discounts", []))
        try:
            return cls(t, vocab, unk=unk, settings=settings)
        except DataError as e:
            raise ModelFileError("holds arrays that do not fit together: "
                                 + str(e).rstrip(".")) from None

    def _shape_words(self) -> list[str]:
        words = [f"K={self.K}", f"V={self.V}", f"{len(self.tables.codes):,} histories"]
        return words + (["<unk>"] if self.unk else [])

    def _training_words(self) -> list[str]:
        s = self.settings
        method = str(s.get("method", "read from a file"))
        if method == "add-k":
            method += f", k {s.get('smoothing', 1.0):g}"
        return [method]

