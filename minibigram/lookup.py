"""Scoring by lookup: each token's context as one code, and its log-probability in one gather.

What the count and backoff models share to score words fast: the words as one id
sequence ``".w1.w2."``, each token's context of K ids as a base-``B`` code (the ids
before a word's start read as boundaries, as ``"." * K + w`` pads it), and a table of
the log-probability of every (context, next id), so a token costs one gather.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .vocab import Vocabulary, joined_codes

#: Most entries (``B**(K+1)``) of a table of every context's log-probabilities.
MAX_DENSE = 2**20


def known_ids(words: list[str], vocab: Vocabulary) -> np.ndarray | None:
    """The ids (L,) of ``".w1.w2."``, or None if a word holds a character ``vocab`` lacks, a
    line break or the boundary's symbol (the caller's full path then says which)."""
    codes = joined_codes(words)                                    # (L,) checks each is a str
    try:
        ids = vocab.lookup(codes)                                  # (L,)
    except DataError:
        return None
    return ids if np.count_nonzero(ids == 0) == len(words) + 1 else None


def token_codes(ids: np.ndarray, K: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """The (context code, target) of every token of ``".w1.w2."`` ids: (L - 1,) each.

    Every id after the first is a target; its context is the K ids before it. The code
    adds the j-th previous id times ``base**(j-1)`` while no boundary has been passed (a
    word's start is padded with boundaries, id 0), one vectorized step per j.
    """
    if K == 1:
        return ids[:-1], ids[1:]
    prev = np.concatenate((np.zeros(K - 1, ids.dtype), ids[:-1]))   # (L + K - 2,)
    n = len(ids) - 1
    code = prev[K - 1:].copy()                                     # (n,) the previous id
    alive = code != 0                                              # (n,) still in the word
    for j in range(2, K + 1):
        older = prev[K - j:K - j + n]                              # (n,) the j-th previous
        code += older * alive * base ** (j - 1)
        alive &= older != 0
    return code, ids[1:]


def word_sums(ids: np.ndarray, token_logp: np.ndarray) -> np.ndarray:
    """Each word's sum of its tokens' log-probabilities (m,), tokens in ``".w1.w2."`` order."""
    return np.add.reduceat(token_logp, np.flatnonzero(ids[:-1] == 0))   # (m,)


def walk(word: object, stoi: dict[str, int], table: np.ndarray, K: int, base: int
         ) -> float | None:
    """``log P(word)`` by a Python walk over its characters in ``table`` (``base**(K+1)``,).

    For one word, cheaper than numpy's cost per call on a few ids; None if ``word`` is
    not a str or holds a character outside ``stoi`` (or the boundary's symbol). The sum
    is the one ``np.add.reduceat`` makes (the first term, plus numpy's pairwise sum of the
    rest), so both paths give the same bits.
    """
    if not isinstance(word, str):
        return None
    top, code, terms = base**K, 0, []
    for ch in word:
        i = stoi.get(ch, 0)
        if i == 0:
            return None
        terms.append(table.item(code * base + i))
        code = (code * base + i) % top
    terms.append(table.item(code * base))
    return terms[0] + float(np.add.reduce(np.array(terms[1:])))
