"""Smoothing: next-character distributions of every context length, estimated from counts.

From the :class:`~minibigram.examples.ContextCounts` of contexts of K characters this
module estimates, for every context length ``k = K, K-1, ..., 0`` (the *history* of an
n-gram of order ``k + 1``), a distribution over the ``Vu`` outcomes: the ``V`` ids of
the vocabulary (id 0, the boundary, as the end of a word) and, when ``<unk>`` is
reserved, one more id ``V`` for a character never seen in training.

**Histories.** A word is read as ``"." * K + w + "."``, so a context may start with
several boundaries; ARPA files (and KenLM, SRILM) start a sentence with one ``<s>``.
The histories here follow ARPA: leading boundaries are kept once, so ``"..a"`` is the
history ``".a"`` (``<s> a``) of length 2 and ``"..."`` is ``"."`` (``<s>``). A history
of length k is identified by its base-``Vu`` code (the code of its k ids, oldest first);
one that starts with the boundary can only occur at the start of a word.

**Methods** (``P_k(w | h)`` for a history ``h`` of length k, ``h'`` its suffix of length
``k - 1``, ``a(h w)`` the count used at that length, ``c(h) = sum_w a(h w)``):

- ``"kneser-ney"``: interpolated Kneser-Ney with one discount ``D_k`` per length,
  ``P_k(w|h) = max(a(hw) - D_k, 0) / c(h) + gamma(h) P_{k-1}(w|h')``,
  ``gamma(h) = sum_w min(a(hw), D_k) / c(h)`` (``D_k N1+(h .) / c(h)`` when every count is
  at least ``D_k``). ``a`` is the raw count at the longest length and for histories that
  start with the boundary (they cannot be extended to the left, as lmplz does for
  ``<s>``), and elsewhere the continuation count ``N1+(. h w)``, the number of distinct
  ids ``x`` (the boundary included) for which ``x h w`` was seen. ``D_k`` defaults to
  Ney's ``n1 / (n1 + 2 n2)`` from the count-of-counts ``n_r`` of ``a`` at that length
  (lmplz's fallback 0.5 where ``n1`` or ``n2`` is 0: characters often have no n-gram seen
  once at the unigram).
- ``"modified-kneser-ney"``: the same counts with three discounts per length,
  ``D(a) = D1, D2, D3+`` for ``a = 1, 2, >= 3``, ``gamma(h) = sum_w D(a(hw)) / c(h)``,
  estimated as Chen & Goodman and lmplz do: ``Y = n1 / (n1 + 2 n2)``,
  ``D_r = r - (r + 1) Y n_{r+1} / n_r``.
- ``"witten-bell"``: raw counts at every length, ``P_k(w|h) = (a(hw) + N1+(h .)
  P_{k-1}(w|h')) / (c(h) + N1+(h .))``.
- ``"absolute"``: absolute discounting, ``"kneser-ney"``'s formula on raw counts.
- ``"add-k"``: the add-k table of the longest history alone,
  ``(a(hw) + k) / (c(h) + k Vu)``; a history never seen is uniform, ``1 / Vu``.

At length 0 (the unigram), the same formula interpolates with the uniform distribution
``1 / Vu`` (the *floor*, as lmplz's ``--interpolate_unigrams``), so every outcome,
``<unk>`` included, has a probability above 0. Without the floor the unigram is the
maximum-likelihood distribution of its counts (as nltk.lm's ``unigram_score``).

Every row sums to 1: ``sum_w P_k(w|h) = (c(h) - sum_w D(a)) / c(h) + gamma(h) = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SettingsError, check_choice, check_real
from .examples import ContextCounts

METHODS = ("kneser-ney", "modified-kneser-ney", "witten-bell", "absolute", "add-k")

#: The methods that take one discount ``D`` (``discount=``); the others estimate theirs,
#: or have none.
DISCOUNTED = ("kneser-ney", "absolute")


@dataclass
class Tables:
    """Per-length tables of a smoothed model, every history seen, rows in (length, code) order.

    ``lengths`` (R,) the length k of each history, ``codes`` (R,) its base-``Vu`` code,
    ``log_probs`` (R, Vu) the natural log of ``P_k(w | h)`` for every outcome,
    ``log_backoff`` (R,) ``log gamma(h)``, the weight of the shorter history, and
    ``listed`` (R, Vu) whether ``h w`` was seen (an ARPA file lists it). Row 0 is the
    history of length 0, the unigram. ``discounts[k]``: the discounts used at length k
    (one, three for modified Kneser-Ney, none for Witten-Bell and add-k).
    """

    lengths: np.ndarray
    codes: np.ndarray
    log_probs: np.ndarray
    log_backoff: np.ndarray
    listed: np.ndarray
    discounts: list[list[float]]


def _sum_rows(codes: np.ndarray, N: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``codes`` (sorted) and the sum of the rows of ``N`` that share each."""
    u, inv = np.unique(codes, return_inverse=True)               # (C_k,), (C,)
    out = np.zeros((len(u), N.shape[1]), dtype=N.dtype)          # (C_k, Vu)
    np.add.at(out, inv.ravel(), N)
    return u, out


def raw_counts(counts: ContextCounts, Vu: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The raw counts of every history length k = 0..K: ``[(codes_k, R_k), ...]``.

    ``R_k`` (C_k, Vu): how often each outcome follows each history of length k, the
    sums of the counts of the K-character contexts that end with it; histories with two
    leading boundaries are left out (they are the shorter history with one).
    """
    K, V = counts.context, len(counts.vocab)
    full = (counts.contexts * (Vu ** np.arange(K - 1, -1, -1, dtype=np.int64))).sum(axis=1)
    N = np.zeros((len(full), Vu), dtype=np.float64)              # (C, Vu)
    N[:, :V] = counts.N
    out = []
    for k in range(K + 1):
        u, R = _sum_rows(full % Vu**k, N)                        # (C_k,), (C_k, Vu)
        valid = u >= Vu ** (k - 2) if k >= 2 else np.ones(len(u), bool)   # <= one boundary
        keep = valid & (R.sum(axis=1) > 0)
        out.append((u[keep], R[keep]))
    return out


def continuation_counts(raw: list[tuple[np.ndarray, np.ndarray]], Vu: int
                        ) -> list[np.ndarray]:
    """Kneser-Ney's counts per length: raw at K and for boundary-first histories, else N1+(.hw)."""
    K = len(raw) - 1
    out = []
    for k in range(K + 1):
        codes, R = raw[k]
        if k == K:
            out.append(R)
            continue
        longer, Rl = raw[k + 1]
        pos = np.searchsorted(codes, longer % Vu**k)             # (C_k+1,) its suffix's row
        A = np.zeros_like(R)                                     # (C_k, Vu)
        np.add.at(A, pos, (Rl > 0).astype(R.dtype))
        first = codes < Vu ** (k - 1) if k >= 1 else np.zeros(len(codes), bool)
        A[first] = R[first]                                      # <s> h: nothing to its left
        out.append(A)
    return out


def count_of_counts(A: np.ndarray, r: int) -> int:
    """How many n-grams have count exactly ``r`` in ``A``."""
    return int(np.count_nonzero(A == r))


#: lmplz's ``--discount_fallback``: the discounts of an order whose count-of-counts
#: cannot give them (a character's unigram is rarely followed by one character only).
FALLBACK = (0.5, 1.0, 1.5)


def ney_discount(A: np.ndarray) -> float:
    """``D = n1 / (n1 + 2 n2)`` of the counts ``A``, or ``FALLBACK[0]`` if n1 or n2 is 0."""
    n1, n2 = count_of_counts(A, 1), count_of_counts(A, 2)
    return n1 / (n1 + 2 * n2) if n1 and n2 else FALLBACK[0]


def modified_discounts(A: np.ndarray) -> np.ndarray:
    """``(D1, D2, D3+)`` of Chen & Goodman from the count-of-counts of ``A``.

    ``Y = n1 / (n1 + 2 n2)``, ``D_r = r - (r + 1) Y n_{r+1} / n_r``; :data:`FALLBACK`
    when a count-of-counts is 0 or a discount falls outside ``(0, r)``, as lmplz does
    with ``--discount_fallback``.
    """
    n = [count_of_counts(A, r) for r in (1, 2, 3, 4)]
    if min(n) == 0:
        return np.array(FALLBACK)
    Y = n[0] / (n[0] + 2 * n[1])
    D = np.array([r - (r + 1) * Y * n[r] / n[r - 1] for r in (1, 2, 3)])   # (3,)
    return D if ((D > 0) & (D < np.array([1, 2, 3]))).all() else np.array(FALLBACK)


def _discounted(A: np.ndarray, method: str, D: float | np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """``alpha`` (C, Vu), the discounted share of each count, and ``gamma`` (C,), the rest."""
    c = A.sum(axis=1)                                            # (C,)
    if method == "witten-bell":
        n = (A > 0).sum(axis=1)                                  # (C,) N1+(h .)
        return A / (c + n)[:, None], n / (c + n)
    if method == "modified-kneser-ney":
        Dr = np.asarray(D)
        cut = np.where(A == 0, 0.0, Dr[np.minimum(A, 3).astype(np.intp) - 1])   # (C, Vu)
    else:
        cut = np.minimum(A, D)                                   # (C, Vu)
    return (A - cut) / c[:, None], cut.sum(axis=1) / c


def estimate(counts: ContextCounts, method: str = "kneser-ney", *,
             discount: float | None = None, smoothing: float = 1.0, unk: bool = False,
             floor: bool = True) -> Tables:
    """The smoothed distributions of every history of ``counts``, by ``method``.

    Parameters
    ----------
    counts : ContextCounts
        Counts of contexts of K characters (every length below is their marginal).
    method : str
        One of :data:`METHODS` (see the module docstring).
    discount : float, optional
        ``"kneser-ney"`` and ``"absolute"``: the discount of every length; default
        Ney's estimate per length.
    smoothing : float
        ``k`` of ``"add-k"``.
    unk : bool
        Reserve an outcome ``<unk>`` (id ``V``) for characters never seen.
    floor : bool
        Interpolate the unigram with the uniform distribution (needed by ``unk``).

    Raises
    ------
    SettingsError
        For an unknown method, a discount it does not take, ``unk`` without the
        floor, or empty counts.
    """
    check_choice("smoothing method", method, METHODS)
    if discount is not None:
        if method not in DISCOUNTED:
            raise SettingsError(f"discount= sets the one discount of kneser-ney and absolute; "
                                f"{method} does not take it: leave it out.")
        discount = check_real("discount", discount)
    smoothing = check_real("smoothing", smoothing)
    if unk and not floor and method != "add-k":
        raise SettingsError("reserving <unk> needs the uniform floor (floor=True): without "
                            "it no probability is left for a character never seen.")
    K, Vu = counts.context, len(counts.vocab) + int(unk)
    if counts.num_examples == 0:
        raise SettingsError("the counts are empty: count some words first.")
    raw = raw_counts(counts, Vu)
    if method == "add-k":
        return _add_k(raw, Vu, smoothing)
    kn = method in ("kneser-ney", "modified-kneser-ney")
    adjusted = continuation_counts(raw, Vu) if kn else [R for _, R in raw]
    lengths, codes, logp, logb, listed = [], [], [], [], []
    used: list[list[float]] = []
    lower = np.empty((0, Vu))
    for k in range(K + 1):
        A, u = adjusted[k], raw[k][0]
        if method == "modified-kneser-ney":
            D: float | np.ndarray = modified_discounts(A)
        elif method == "witten-bell":
            D = 0.0
        else:
            D = ney_discount(A) if discount is None else discount
        used.append([] if method == "witten-bell" else np.atleast_1d(D).tolist())
        if k == 0 and not floor:   # the maximum-likelihood unigram, as nltk.lm's
            alpha, gamma = A / A.sum(axis=1, keepdims=True), np.zeros(1)
            below = np.zeros((1, Vu))
        else:
            alpha, gamma = _discounted(A, method, D)             # (C_k, Vu), (C_k,)
            below = (np.full((1, Vu), 1.0 / Vu) if k == 0        # (C_k, Vu) P_{k-1}(w | h')
                     else lower[np.searchsorted(raw[k - 1][0], u % Vu ** (k - 1))])
        P = alpha + gamma[:, None] * below                       # (C_k, Vu)
        lower = P
        with np.errstate(divide="ignore"):
            logp.append(np.log(P))
            logb.append(np.log(gamma))
        lengths.append(np.full(len(u), k, np.int8))
        codes.append(u)
        listed.append(A > 0 if k else np.ones_like(A, bool))
    return Tables(np.concatenate(lengths), np.concatenate(codes), np.concatenate(logp),
                  np.concatenate(logb), np.concatenate(listed), used)


def _add_k(raw: list[tuple[np.ndarray, np.ndarray]], Vu: int, k_: float) -> Tables:
    """Add-k on the longest history of each context; the unigram row is uniform."""
    K = len(raw) - 1
    lengths, codes, logp = [np.zeros(1, np.int8)], [np.zeros(1, np.int64)], [
        np.full((1, Vu), -np.log(Vu))]
    for k in range(1, K + 1):
        u, R = raw[k]
        whole = u < Vu ** (k - 1) if k < K else np.ones(len(u), bool)   # a context's history
        Rk = R[whole] + k_                                       # (C_k, Vu)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp.append(np.log(Rk) - np.log(Rk.sum(axis=1, keepdims=True)))
        lengths.append(np.full(int(whole.sum()), k, np.int8))
        codes.append(u[whole])
    L = np.concatenate(logp)                                     # (R, Vu)
    return Tables(np.concatenate(lengths), np.concatenate(codes), L,
                  np.zeros(len(L)), np.ones(L.shape, bool), [[] for _ in range(K + 1)])
