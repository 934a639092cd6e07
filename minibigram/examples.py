"""Examples and counts: the words as (context, target) ids, and how often each occurs.

The third stage: :func:`bigrams` and :func:`ngrams` turn words into training
examples, :func:`bigram_counts` and :func:`context_counts` into their sufficient
statistics. Each word ``w`` is read as ``"." + w + "."`` (K boundaries before it
for a context of K characters), ``"."`` showing the boundary as the notebook does; as
text the boundary is a line break (:data:`~minibigram.vocab.BOUNDARY_TEXT`), so a
``"."`` inside a word is an ordinary character.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import DataError, SettingsError, check_size, check_whole, word_list
from .vocab import (
    BOUNDARY_CODE,
    BOUNDARY_TEXT,
    LINE_BREAKS,
    Vocabulary,
    code_points,
    joined_codes,
    text_of,
)
from .words import ASCII_INNER_SPACE, WordText


def scorable_words(words: Sequence[str], vocab: Vocabulary,
                   skip_unknown: bool = False) -> list[str]:
    """The words a model can score: refuse, or with ``skip_unknown`` remove, what it cannot.

    A character outside ``vocab`` has no row in the model; a line break inside a word
    would silently split it in two, and so would the boundary's display symbol
    ``vocab.itos[0]`` (which :meth:`Vocabulary.encode` reads as the boundary): neither
    is a character of the vocabulary (:meth:`Vocabulary.unknown`).

    Raises
    ------
    DataError
        Without ``skip_unknown``, naming the first such word and its characters.
    """
    if skip_unknown:
        return [vocab.drop_unknown(w) for w in words]
    text = "".join(words)
    if not vocab.unknown(text):                            # the usual case: one pass
        return list(words)
    w = next(w for w in words if vocab.unknown(w))
    chars = vocab.unknown(w)
    breaks = [c for c in chars if c in LINE_BREAKS]
    if breaks:
        raise DataError(f"the word {w!r} contains the line break {breaks[0]!r}, which ends a "
                        "word and cannot be part of one: give one word per line, or leave it "
                        "out with --skip-unknown (skip_unknown=True).")
    named = " and ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)
    which, it = ("which is", "it") if len(chars) == 1 else ("which are", "them")
    raise DataError(f"the word {w!r} contains {named}, {which} not in the model's vocabulary: "
                    f"leave {it} out with --skip-unknown (skip_unknown=True), or train on data "
                    f"that contains {it}.")


def _split_word_error(words: Sequence[str], vocab: Vocabulary) -> DataError:
    """The error for words that encoding would split: one holds a line break or ``itos[0]``."""
    w = next(w for w in words if vocab.unknown(w))
    c = vocab.unknown(w)[0]
    why = ("a line break ends a word" if c in LINE_BREAKS
           else f"in this vocabulary {c!r} shows the boundary")
    return DataError(f"the word {w!r} contains {c!r}, which is not a character of the "
                     f"vocabulary ({why}): remove it, or build the vocabulary from these words.")


def bigrams(words: Sequence[str], vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Every (previous character, next character) pair of every word.

    Each word ``w`` is read as ``"." + w + "."``, which gives ``len(w) + 1`` pairs:
    the first predicts ``w[0]`` from the boundary, the last predicts the boundary
    (the end of the word) from ``w[-1]``.

    Parameters
    ----------
    words : sequence of str
    vocab : Vocabulary

    Returns
    -------
    xs, ys : ndarray of int64, shape (n,)
        Context ids and target ids, ``n = sum(len(w) + 1 for w in words)``.

    Notes
    -----
    Joining the words with single boundaries, ``".emma.olivia."`` (as text, with line
    breaks: ``"\\nemma\\nolivia\\n"``), and taking each adjacent pair of that one
    string yields exactly these pairs: the boundary after ``emma`` is both the target
    that ends it and the context that starts ``olivia``.

    Raises
    ------
    DataError
        If a word holds a character outside ``vocab``, a line break, or the
        boundary's display symbol ``vocab.itos[0]``.
    """
    words = word_list(words)   # each checked to be a str as they are joined
    if len(words) == 0:   # no words, no pairs (the string "." + "" + "." would give one)
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    X, ys, _ = encode_examples(words, vocab, 1)                   # (n, 1), (n,)
    return X[:, 0], ys


def bigram_counts(xs: np.ndarray, ys: np.ndarray, V: int,
                  weights: np.ndarray | None = None, rows: int | None = None) -> np.ndarray:
    """The count matrix ``N[i, j]``: how often (or with what total weight) ``j`` follows ``i``.

    Parameters
    ----------
    xs, ys : ndarray of int, shape (n,)
    V : int
        Vocabulary size.
    weights : ndarray, shape (n,), optional
        A weight per pair; ``None`` counts each pair once.
    rows : int, optional
        Number of distinct contexts ``C`` when ``xs`` are context ids rather than
        characters (n-gram models); default ``V``.

    Returns
    -------
    N : ndarray, shape (V, V), or (rows, V)
        int64 without weights, float64 with them.
    """
    C = V if rows is None else rows
    check_size(f"a count matrix of {C} contexts by {V} characters", 8.0 * C * V,
               "use a smaller alphabet or a shorter context")
    flat = np.bincount(np.asarray(xs) * V + np.asarray(ys), weights=weights, minlength=C * V)
    return flat.reshape(C, V)


class ContextCounts:
    """Counts of (context, next character) with the vocabulary they are indexed by.

    The sufficient statistics of every model: the full-batch loss depends on the
    data only through them, so they are all that the count model, the Newton
    solvers and the ``"counts"`` engine need.

    Parameters
    ----------
    N : ndarray, shape (C, V)
        ``N[c, j]``: how often ``vocab.itos[j]`` follows ``contexts[c]``.
    vocab : Vocabulary
    contexts : ndarray of int, shape (C, K), optional
        Every context that occurs, once, sorted by :func:`context_codes` (as
        :func:`context_counts` returns them); default every character (``K = 1``,
        ``C = V``).

    Notes
    -----
    Counts add: the counts of two shards of a corpus, ``a + b``, are the counts of
    their concatenation (a word never spans two shards). ``+`` merges the two
    vocabularies into their union and re-indexes both sides first, then takes the
    union of the contexts, ``N_{a+b}[c, j] = N_a[c, j] + N_b[c, j]`` (0 for a
    context one side never saw); so shards counted separately, each discovering its
    own alphabet, add up too.
    """

    def __init__(self, N: np.ndarray, vocab: Vocabulary, *,
                 contexts: np.ndarray | None = None) -> None:
        N = np.asarray(N)
        V = len(vocab)
        contexts = (np.arange(V)[:, None] if contexts is None
                    else np.asarray(contexts, dtype=np.int64))   # (C, K)
        if contexts.ndim != 2 or contexts.shape[1] < 1 or N.shape != (len(contexts), V):
            raise DataError(f"counts of shape {N.shape}, contexts of shape {contexts.shape} "
                            f"and a vocabulary of {V} characters do not belong together: give "
                            "(C, V) counts and (C, K) contexts.")
        self.N, self.vocab, self.contexts = N, vocab, contexts

    @property
    def context(self) -> int:
        """The context length K."""
        return int(self.contexts.shape[1])

    @property
    def num_examples(self) -> int:
        """The number of (context, target) examples counted, ``N.sum()``."""
        return int(self.N.sum())

    def reindex(self, vocab: Vocabulary) -> ContextCounts:
        """The same counts indexed by a larger ``vocab`` (one that holds every character)."""
        missing = set(self.vocab.itos[1:]) - set(vocab.itos[1:])
        if missing:
            raise DataError(f"the vocabulary lacks {''.join(sorted(missing))!r}, which the "
                            "counts hold: use a vocabulary with every counted character.")
        V = len(vocab)
        # the boundary is id 0 in both, whichever symbol each shows it with
        ids = np.array([0] + [vocab.stoi[c] for c in self.vocab.itos[1:]])   # (V_old,) old -> new
        contexts = ids[self.contexts]                                # (C, K) new ids
        N = np.zeros((len(contexts), V), dtype=self.N.dtype)         # (C, V)
        N[:, ids] = self.N
        order = np.argsort(context_codes(contexts, V), kind="stable")   # sorted again
        return self._new(N[order], vocab, contexts[order])

    def __add__(self, other: ContextCounts) -> ContextCounts:
        if not isinstance(other, ContextCounts):
            return NotImplemented
        if other.context != self.context:
            raise DataError(f"counts of context length {self.context} and {other.context} "
                            "cannot be added: count every shard with the same context length.")
        vocab = (self.vocab if self.vocab == other.vocab
                 else Vocabulary(self.vocab.itos[1:] + other.vocab.itos[1:]))
        a, b = self.reindex(vocab), other.reindex(vocab)
        V = len(vocab)
        both = np.concatenate((context_codes(a.contexts, V), context_codes(b.contexts, V)))
        codes, first, inv = np.unique(both, return_index=True, return_inverse=True)  # (C,)
        contexts = np.concatenate((a.contexts, b.contexts))[first]  # (C, K) the union
        N = np.zeros((len(codes), V), dtype=np.result_type(a.N, b.N))   # (C, V)
        inv = inv.ravel()
        N[inv[:len(a.N)]] += a.N        # the contexts of one side are distinct: no repeats
        N[inv[len(a.N):]] += b.N
        return self._new(N, vocab, contexts)

    def _new(self, N: np.ndarray, vocab: Vocabulary, contexts: np.ndarray) -> ContextCounts:
        return ContextCounts(N, vocab, contexts=contexts)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ContextCounts) and self.vocab == other.vocab
                and np.array_equal(self.contexts, other.contexts)
                and np.array_equal(self.N, other.N))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_examples} examples, {len(self.contexts)} "
                f"contexts of length {self.context}, {self.vocab!r})")


class BigramCounts(ContextCounts):
    """Bigram counts: the :class:`ContextCounts` of K = 1, every character a context.

    Parameters
    ----------
    N : ndarray, shape (V, V)
        ``N[i, j]``: how often ``vocab.itos[j]`` follows ``vocab.itos[i]``.
    vocab : Vocabulary

    The full-batch loss of the bigram network depends on the data only through
    ``N``, so this is all ``BigramModel.fit(counts=...)`` needs.
    """

    def __init__(self, N: np.ndarray, vocab: Vocabulary, *,
                 contexts: np.ndarray | None = None) -> None:
        N = np.asarray(N)
        if N.shape != (len(vocab), len(vocab)):
            raise DataError(f"the count matrix has shape {N.shape} but the vocabulary has "
                            f"{len(vocab)} characters: they do not belong together.")
        super().__init__(N, vocab)   # contexts: every character, in id order

    def _new(self, N: np.ndarray, vocab: Vocabulary, contexts: np.ndarray) -> BigramCounts:
        full = np.zeros((len(vocab), len(vocab)), dtype=N.dtype)   # (V, V) every character
        full[contexts[:, 0]] = N                                    # a context, in id order
        return BigramCounts(full, vocab)


def ngrams(words: Sequence[str], vocab: Vocabulary, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (K previous characters, next character) example of every word.

    Each word ``w`` is read as ``"." * K + w + "."``: ``len(w) + 1`` examples, the
    first ones padded with the boundary token on the left, as makemore does. With
    ``K = 1`` these are exactly the pairs of :func:`bigrams`.

    Parameters
    ----------
    words : sequence of str
    vocab : Vocabulary
    K : int
        Context length, at least 1.

    Returns
    -------
    X : ndarray of int64, shape (n, K)
        The contexts, oldest character first: ``X[k] = (c_1, ..., c_K)``.
    ys : ndarray of int64, shape (n,)
        The targets.

    Notes
    -----
    The words are encoded as one string ``".w1.w2."`` whose every boundary is then
    repeated K times (:func:`pad_boundaries`); a sliding window of width ``K + 1``
    over it gives every (context, target) row (:func:`context_windows`). No Python
    loop runs per word or per character.
    """
    words = word_list(words)   # each checked to be a str as they are joined
    K = check_whole("the context length", K, 1, error=DataError)
    if len(words) == 0:
        return np.zeros((0, K), np.int64), np.zeros(0, np.int64)
    X, ys, _ = encode_examples(words, vocab, K)
    return X, ys


def encode_examples(words: list[str], vocab: Vocabulary | None, K: int, *,
                    codes: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, Vocabulary]:
    """:func:`ngrams` of checked words, and their vocabulary when ``vocab`` is None.

    What :func:`ngrams` and training share: one ``str.join`` of the words (none if
    ``codes``, their :func:`~minibigram.vocab.joined_codes`, are given), one pass to
    find their characters (if ``vocab`` is None), one lookup of their ids. It trusts
    ``words`` to be a non-empty list of str and ``K >= 1`` (the public callers check
    them).

    Returns
    -------
    X : ndarray of int64, shape (n, K)
    ys : ndarray of int64, shape (n,)
    vocab : Vocabulary
        ``vocab``, or the vocabulary of ``words``.
    """
    codes = joined_codes(words) if codes is None else codes       # (L,) ".w1.w2.", as lines
    check_size(f"the examples of {len(words)} words with a context of {K}",
               len(codes) * (3 * K + 2) * 8, "use a shorter context")
    if vocab is None:   # the words' own characters: none of them can split a word
        vocab = Vocabulary.from_codes(codes, words)
        ids = vocab.lookup(codes)                                  # (L,)
    else:
        ids = vocab.lookup(codes)                                  # (L,)
        if np.count_nonzero(ids == 0) != len(words) + 1:           # a word would be split
            raise _split_word_error(words, vocab)
    if K == 1:   # the pairs of bigrams(), without the padding bookkeeping
        return ids[:-1, None], ids[1:], vocab
    X, ys = context_windows(pad_boundaries(ids, K), K)             # (n, K), (n,) views
    return np.ascontiguousarray(X), ys.copy(), vocab


def count_words(words: list[str], vocab: Vocabulary | None, K: int) -> ContextCounts:
    """The counts of the examples of checked words, with their vocabulary if ``vocab`` is None.

    ``context_counts(*ngrams(words, vocab, K), V)`` as a :class:`ContextCounts` (a
    :class:`BigramCounts` for K = 1), with less work: what training starts from. It
    trusts ``words`` to be a non-empty list and ``K >= 1`` (the public callers check
    them); joining the words checks that each is a str.

    Notes
    -----
    For K = 1 and ASCII words (the names; most Latin-script data) no id is looked up
    and no example made: one bincount over a 128 x 128 table counts every pair of
    adjacent code points of ``".w1.w2."`` (as lines), ``T[a, b]`` how often ``b``
    follows ``a``, and the rows and columns of the vocabulary's characters (the
    boundary's: the line feed's) are ``N``. Every pair of the text is an example,
    as in :func:`bigrams`.
    """
    codes = joined_codes(words)                                   # (L,)
    if K == 1 and codes.dtype == np.uint8:                        # ASCII: count code point pairs
        return _ascii_bigram_counts(codes, words, vocab)
    X, ys, vocab = encode_examples(words, vocab, K, codes=codes)  # (n, K), (n,)
    if K == 1:   # every character a context: one bincount, no sort
        return BigramCounts(bigram_counts(X[:, 0], ys, len(vocab)), vocab)
    contexts, N = context_counts(X, ys, len(vocab))               # (C, K), (C, V)
    return ContextCounts(N, vocab, contexts=contexts)


def _ascii_bigram_counts(codes: np.ndarray, words: list[str],
                         vocab: Vocabulary | None) -> BigramCounts:
    """:func:`count_words` for K = 1 of ASCII ``codes = joined_codes(words)`` (uint8)."""
    T, present = _pair_table(codes)                                # (128, 128), (D,)
    # every code point is a previous one but the last, which is a line feed
    line_feeds = int(T[BOUNDARY_CODE].sum()) + 1
    if vocab is None:
        vocab = Vocabulary.from_present(present, line_feeds, words)
    ids = vocab.lookup(present)                                   # (D,) 0: the boundary
    if line_feeds != len(words) + 1 or np.count_nonzero(ids == 0) != 1:
        raise _split_word_error(words, vocab)   # a word holds a line break or itos[0]
    return _table_counts(T, present, ids, vocab)


def ascii_pair_table(codes: np.ndarray) -> np.ndarray:
    """How often each ASCII code point follows each in ``codes``: ``T[a, b]``, (128, 128).

    ``codes`` are uint8, all below 128 (it trusts them): the code points of ASCII text,
    or its bytes. One bincount of ``128 a + b`` over the adjacent pairs.
    """
    pairs = codes[:-1].astype(np.uint16)                          # (L - 1,)
    pairs <<= 7                                                   # 128 * previous code point
    pairs |= codes[1:]                                            # + next
    return np.bincount(pairs, minlength=128 * 128).reshape(128, 128)   # (128, 128) [prev, next]


def _pair_table(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ascii_pair_table`, and the code points of ``codes``, sorted."""
    T = ascii_pair_table(codes)                                   # (128, 128)
    return T, np.flatnonzero(T.any(axis=0) | T.any(axis=1))       # (D,)


def _table_counts(T: np.ndarray, present: np.ndarray, ids: np.ndarray,
                  vocab: Vocabulary) -> BigramCounts:
    """The counts of the code points ``present`` (ids ``ids`` in ``vocab``) in table ``T``."""
    N = np.zeros((len(vocab), len(vocab)), dtype=np.int64)        # (V, V)
    N[np.ix_(ids, ids)] = T[np.ix_(present, present)]
    return BigramCounts(N, vocab)


#: What a plain ASCII text of words lacks (see :func:`count_text`): the line breaks but the
#: line feed, the white space ``str.strip`` would remove inside a line, and NUL.
_NOT_PLAIN = ("".join(c for c in LINE_BREAKS if c.isascii() and c != BOUNDARY_TEXT)
              + ASCII_INNER_SPACE + "\x00")


def count_text(text: WordText, K: int = 1) -> ContextCounts:
    """The counts of the words of a :class:`~minibigram.words.WordText`, with their vocabulary.

    ``count_words(text.words(), None, K)``, the same counts, without making the words
    when it can: for K = 1 and a plain text (ASCII, one word per line with nothing to
    strip: no space, tab, carriage return or NUL) the words are the lines that are not
    blank, so the pairs of ``"\\n" + text + "\\n"`` are their examples once the line
    feed pairs of blank lines are dropped (no word is empty), and their number is how
    often a line feed is followed by a character.

    Raises
    ------
    DataError
        As :func:`~minibigram.words.load_words`: no words, or a NUL character.
    """
    t = text.text
    if K != 1 or not t.isascii() or any(c in t for c in _NOT_PLAIN):
        return count_words(text.words(), None, K)
    T, present = _pair_table(code_points(BOUNDARY_TEXT + t + BOUNDARY_TEXT))   # (128, 128)
    T[BOUNDARY_CODE, BOUNDARY_CODE] = 0                         # blank lines: no word is empty
    if not T[BOUNDARY_CODE].any():                   # no words: the error load_words gives
        text.words()
    vocab = Vocabulary(text_of(present[present != BOUNDARY_CODE]))
    return _table_counts(T, present, vocab.lookup(present), vocab)


def pad_boundaries(ids: np.ndarray, K: int) -> np.ndarray:
    """Every boundary id 0 repeated K times: ``".w1.w2."`` becomes ``"..w1..w2.."`` for K = 2.

    A word's end boundary and the K - 1 after it are the K boundaries that pad the
    next word's first context, as makemore pads ``"." * K + w + "."``.
    """
    return np.repeat(ids, np.where(ids == 0, K, 1))                        # (T,)


def context_windows(seq: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """The (context, target) examples of a boundary-padded id sequence (see pad_boundaries).

    A window of width ``K + 1`` is an example when its target is a character or a word's
    end: the first boundary of each group of K (the other K - 1 pad the next word's
    context). An empty word is a second group: its one example, ``"." * K -> "."``, is
    kept. Returns views ``X`` (n, K) and ``ys`` (n,).
    """
    windows = np.lib.stride_tricks.sliding_window_view(seq, K + 1)     # (T-K, K+1)
    i = np.arange(len(seq))                                             # (T,)
    gap = seq == 0                                                      # (T,) boundaries
    first = gap & np.concatenate(([True], ~gap[:-1]))                   # (T,) a run's first
    into = i - np.maximum.accumulate(np.where(first, i, 0))             # (T,) how far into it
    rows = windows[~gap[K:] | (into[K:] % K == 0)]                      # (n, K+1)
    return rows[:, :K], rows[:, K]


def context_codes(X: np.ndarray, V: int) -> np.ndarray:
    """One integer per context: ``(c_1, ..., c_K)`` read as a base-``V`` number.

    ``code = c_1 V^(K-1) + ... + c_K``; the all-boundary context (a word's start)
    is code 0. Sorting codes sorts contexts lexicographically.

    Raises
    ------
    SettingsError
        If ``V**K`` does not fit in an int64.
    """
    K = X.shape[1]
    if K * np.log2(max(V, 2)) >= 62:
        raise SettingsError(f"{V} characters and a context of {K} give more than 2**62 "
                            "possible contexts: use a shorter context.")
    return (X * (V ** np.arange(K - 1, -1, -1, dtype=np.int64))).sum(axis=1)


def context_counts(X: np.ndarray, ys: np.ndarray, V: int,
                   weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The sufficient statistics of n-gram data: distinct contexts and their target counts.

    Parameters
    ----------
    X : ndarray of int, shape (n, K)
    ys : ndarray of int, shape (n,)
    V : int
    weights : ndarray, shape (n,), optional

    Returns
    -------
    contexts : ndarray of int64, shape (C, K)
        Every context that occurs, once, sorted (by :func:`context_codes`).
    N : ndarray, shape (C, V)
        ``N[c, j]`` = count (or total weight) of target ``j`` after ``contexts[c]``.
    """
    codes, first, cid = np.unique(context_codes(X, V), return_index=True, return_inverse=True)
    cid = cid.ravel()
    N = bigram_counts(cid, ys, V, weights, rows=len(codes))
    return X[first], N


def lookup_contexts(codes: np.ndarray, X: np.ndarray, V: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each context of ``X`` (n, K) sits among the sorted ``codes``, and if it is there.

    Returns ``pos`` (n,), the row of a seen context, and ``seen`` (n,) bool; a context
    never seen in training has no row (``pos`` is then meaningless).
    """
    c = context_codes(X, V)                                    # (n,)
    pos = np.minimum(np.searchsorted(codes, c), len(codes) - 1)  # (n,)
    return pos, codes[pos] == c


def all_contexts(V: int, K: int) -> np.ndarray:
    """Every context of K characters, shape (V**K, K): row ``code`` holds its base-V digits."""
    codes = np.arange(V**K)                                    # (V**K,)
    return (codes[:, None] // V ** np.arange(K - 1, -1, -1)) % V


def weighted_examples(contexts: np.ndarray, N: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nonzero entries of N as weighted examples: (contexts (m, K), targets (m,), counts (m,)).

    Training on them with their counts as weights gives the loss and gradient of
    the examples they count, in O(m) instead of O(n).
    """
    ci, tj = np.nonzero(N)                                     # (m,) each
    return contexts[ci], tj, N[ci, tj].astype(np.float64)
