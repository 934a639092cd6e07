"""Samplers: turn a (V, V) table of next-character probabilities into words.

A word starts at the boundary (id 0), draws the next character from the row of
the current one, and ends when it draws the boundary again. A sampler is a
function ``sampler(P, n, seed) -> list of n id lists`` (each without the end
token).

``P`` may also have one row per context of ``K`` characters, shape ``(V**K, V)``,
row ``code = c_1 V^(K-1) + ... + c_K`` (see :func:`minibigram.examples.context_codes`);
after drawing ``t`` the context code becomes ``(code * V + t) % V**K``, which for a
square ``P`` is just ``t``. Per-character samplers are a plain ``draw(p, generator) -> int`` plugged
into :func:`sample_one_at_a_time`, the notebook's loop; :func:`replay_bulk` gives exactly that
loop's words for torch's draws, in bulk: the samplers "torch-cdf" (torch 1.x: the published
notebook and the lecture), "torch-mkl" (torch 2.0-2.6) and "torch" (2.7 and newer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from .errors import SettingsError, check_choice
from .torchrng import BulkDraw, TorchGenerator

Draw = Callable[[np.ndarray, Any], int]


#: Words each block of :func:`sample_blocks` draws: memory stays a few MB per block
#: whatever the number of words asked for.
BLOCK_WORDS = 1 << 16


#: A model's own row lookup: the row of ``P`` of each context code (m,) -> (m,).
RowLookup = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Chain:
    """Next-character probabilities of contexts of ``K`` characters, one row per context seen.

    ``P[i]`` is the distribution after the context of code ``codes[i]`` (sorted codes,
    see :func:`minibigram.examples.context_codes`), and its last row, ``P[-1]``, after
    every context not in ``codes``. ``codes=None`` is the dense table: row ``i`` is
    the context of code ``i`` (``V**K`` rows). A model that saw 2,402 contexts of 4
    characters samples from 2,403 rows, not from ``66**4``.

    A model whose rows are found otherwise gives its own ``lookup`` instead: a
    backoff model's ``P`` has a row per history seen (of every length up to ``K``),
    and ``lookup(c)`` is the row of each context's longest seen history. ``base``
    is the base of the context codes when it is not ``V`` (a backoff model that
    reserves ``<unk>`` codes contexts in base ``V + 1``; ``<unk>`` itself is never
    drawn, so ``P`` has no column for it).
    """

    P: np.ndarray
    codes: np.ndarray | None
    K: int
    lookup: RowLookup | None = None
    base: int | None = None

    @property
    def V(self) -> int:
        return int(self.P.shape[1])

    @property
    def dense(self) -> bool:
        """Whether row ``i`` is the context of code ``i`` (no lookup)."""
        return self.codes is None and self.lookup is None

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """The row of each context code: its own if seen, else the last (or the model's lookup)."""
        if self.lookup is not None:
            return self.lookup(codes)
        if self.codes is None:
            return codes
        C = len(self.codes)
        pos = np.minimum(np.searchsorted(self.codes, codes), C - 1)   # (m,)
        return np.where(self.codes[pos] == codes, pos, C)

    def after(self, codes: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The context codes after drawing ``ids``: the oldest character dropped, ``ids`` added."""
        B = self.base or self.V
        return codes % (B ** (self.K - 1)) * B + ids

    def with_rows(self, P: np.ndarray) -> Chain:
        """The same contexts with other probabilities (temperature, top-k)."""
        return replace(self, P=P)


def as_chain(P: np.ndarray | Chain) -> Chain:
    """``P`` as a :class:`Chain`: a dense ``(V**K, V)`` table gives every context its row."""
    if isinstance(P, Chain):
        return P
    S, V = P.shape
    K = 1
    while V > 1 and V ** K < S:
        K += 1
    return Chain(P, None, K)


def sample_one_at_a_time(P: np.ndarray, n: int, generator: Any, draw: Draw,
                         max_len: int = 1000) -> list[list[int]]:
    """The notebook's sampling loop: one word after another, one character at a time.

    Parameters
    ----------
    P : ndarray, shape (V, V), or (V**K, V) for contexts of K characters
        ``P[i]`` is the distribution of the character after (context) ``i``.
    n : int
        Number of words.
    generator : object
        The random state ``draw`` consumes.
    draw : callable
        ``draw(p, generator) -> int``: one id drawn from the distribution ``p``.
    max_len : int
        A word is cut after this many characters (a model that rarely ends words
        would otherwise run for very long).
    """
    S, V = P.shape
    words = []
    for _ in range(n):
        state = 0
        out: list[int] = []
        while True:
            ix = draw(P[state], generator)
            if ix == 0 or len(out) == max_len:
                break
            out.append(ix)
            state = (state * V + ix) % S   # drop the oldest character, append ix
        words.append(out)
    return words


def _guide_table(C: np.ndarray, nb: int) -> np.ndarray:
    """For each row of cumulative probabilities, the draw of every u-bucket that has one.

    ``G[i, b]`` is the id that the inverse-CDF draw ``#{j : C[i, j] <= u}`` gives for
    every ``u`` in ``[b/nb, (b+1)/nb)``, or -1 where a cumulative value falls inside
    the bucket, so the draw depends on where ``u`` lies in it.
    """
    lo = np.arange(nb) / nb                                # (nb,) bucket starts, exact
    G = np.empty(C.shape[:1] + (nb,), dtype=np.int32)      # (V, nb)
    for i, c in enumerate(C):                              # one row of the vocabulary
        first = np.searchsorted(c, lo, side="right")       # #{C <= u} at the bucket's start
        last = np.searchsorted(c, lo + 1 / nb, side="left")  # ... just before its end
        G[i] = np.where(first == last, first, -1)
    return G


def sample_bulk(P: np.ndarray | Chain, n: int, seed: int, max_len: int = 1000) -> np.ndarray:
    """Sample ``n`` words at once: all of them advance one character per step together.

    Parameters
    ----------
    P : ndarray, shape (V, V), or (V**K, V) for contexts of K characters, or Chain
        ``P[i]`` is the distribution of the character after (context) ``i``; a
        :class:`Chain` has a row per context seen.
    n : int
        Number of words.
    seed : int
        Seeds numpy's ``default_rng``.
    max_len : int
        A word is cut after this many characters.

    Returns
    -------
    ids : ndarray of int32, shape (n + total characters,)
        The words one after another, each followed by its end token 0:
        ``Vocabulary.decode_words`` turns it into strings in one go.

    Notes
    -----
    Each step draws one uniform ``u`` per unfinished word (in word order) and takes
    the inverse CDF of the word's current row, ``next = #{j : C[cur, j] <= u}``
    with ``C`` the row-wise cumulative sum of ``P`` (scaled so each row ends at
    exactly 1). That lands on ``j`` with probability ``C[j] - C[j-1] = P[cur, j]``,
    and never on a probability of 0. Words that draw the end token drop out.
    A guide table of ``nb >= 64 V`` buckets of ``u`` per row gives the answer with
    one lookup for all but at most ``V / nb`` of the draws; the rest compare ``u``
    with their row of ``C``. Both give exactly the same ids.

    The words are drawn in blocks of :data:`BLOCK_WORDS` from one generator
    (:func:`sample_blocks`), so memory does not grow with ``n``.
    """
    blocks = list(sample_blocks(P, n, seed, max_len))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int32)


def sample_blocks(P: np.ndarray | Chain, n: int, seed: int, max_len: int = 1000,
                  block: int = BLOCK_WORDS) -> Iterator[np.ndarray]:
    """:func:`sample_bulk`'s words, ``block`` words at a time (the same words for any n).

    One ``default_rng(seed)`` draws every block in turn, so the first ``m`` words of
    ``n`` are the words of ``m`` whenever ``m`` is a multiple of ``block``, and one
    call and a loop of calls give the same words.
    """
    chain = as_chain(P)
    R, V = chain.P.shape                                   # R rows: V, V**K, or seen + 1
    C = np.cumsum(chain.P, axis=1, dtype=np.float64)       # (R, V)
    C /= C[:, -1:]
    nb = 1 << int(np.ceil(np.log2(64 * V)))                # buckets per row, a power of 2
    # (R*nb,) next id * nb, < 0: undecided. Only for bigrams: with a row per context the
    # next row is looked up, and every draw compares u with its row of C instead.
    # The guide table is 8 R nb bytes: built only while that is small (V <= 362 or so).
    G = (_guide_table(C, nb).astype(np.int64).ravel() * nb
         if chain.dense and R == V and R * nb <= 2**23 else None)
    rng = np.random.default_rng(seed)
    for first in range(0, n, block):
        m = min(block, n - first)
        yield (_bulk_guided(C, G, nb, m, rng, max_len) if G is not None
               else _bulk_rows(chain, C, m, rng, max_len))


def _bulk_guided(C: np.ndarray, G: np.ndarray, nb: int, n: int, rng: np.random.Generator,
                 max_len: int) -> np.ndarray:
    """``n`` bigram words by the guide table ``G`` (see :func:`sample_bulk`)."""
    S = C.shape[0]
    # Each unfinished word is one int64, word << SH | cur * nb, so a step compresses a
    # single array and the guide index is (state & low) + bucket.
    SH = int(np.ceil(np.log2(S * nb)))
    low = (1 << SH) - 1
    state = np.arange(n, dtype=np.int64) << SH            # (m,) every word starts at 0
    lens = np.full(n, max_len, dtype=np.int64)            # (n,) characters of each word
    drawn: list[tuple[np.ndarray, np.ndarray]] = []       # per step: states, next id * nb
    for t in range(max_len):
        if len(state) == 0:
            break
        u = rng.random(len(state))                         # (m,) one uniform per word
        ix = (u * nb).astype(np.int64)
        ix += state & low
        nxt = G[ix]                                        # (m,) next id * nb
        undecided = np.flatnonzero(nxt < 0)
        if len(undecided):
            cur_u = (state[undecided] & low) // nb
            nxt[undecided] = (C[cur_u] <= u[undecided, None]).sum(axis=1) * nb
        drawn.append((state, nxt))
        going = nxt != 0
        lens[state[~going] >> SH] = t
        state = (state & ~low)[going]
        state |= nxt[going]                                # the drawn id is the next row
    # Word w is len(w) characters and its end token, from position start[w] on;
    # its step-t draw goes to start[w] + t. A word cut at max_len gets its 0 here.
    start = np.cumsum(lens + 1) - (lens + 1)               # (n,)
    out = np.zeros(int(lens.sum()) + n, dtype=np.int32)
    for t, (state, nxt) in enumerate(drawn):               # one pass per character position
        out[start[state >> SH] + t] = nxt // nb
    return out


def _bulk_rows(chain: Chain, C: np.ndarray, n: int, rng: np.random.Generator,
               max_len: int) -> np.ndarray:
    """``n`` words of contexts (or a large alphabet): each draw compares u with its row."""
    word = np.arange(n, dtype=np.int64)                   # (m,) unfinished words
    code = np.zeros(n, dtype=np.int64)                    # (m,) their contexts, all "." * K
    lens = np.full(n, max_len, dtype=np.int64)            # (n,)
    drawn: list[tuple[np.ndarray, np.ndarray]] = []       # per step: words, next ids
    for t in range(max_len):
        if len(word) == 0:
            break
        u = rng.random(len(word))                          # (m,) one uniform per word
        nxt = (C[chain.rows(code)] <= u[:, None]).sum(axis=1)   # (m,) inverse CDF
        drawn.append((word, nxt))
        going = nxt != 0
        lens[word[~going]] = t
        word = word[going]
        code = chain.after(code[going], nxt[going])        # drop the oldest, append it
    start = np.cumsum(lens + 1) - (lens + 1)               # (n,)
    out = np.zeros(int(lens.sum()) + n, dtype=np.int32)
    for t, (word, nxt) in enumerate(drawn):
        out[start[word] + t] = nxt
    return out


def id_lists(ids: np.ndarray) -> list[list[int]]:
    """A flat id array of words, each followed by its end token 0, as one id list per word."""
    ends = np.flatnonzero(ids == 0)
    return [w[:-1].tolist() for w in np.split(ids, ends[:-1] + 1)] if len(ids) else []


def replay_bulk(P: np.ndarray | Chain, n: int, seed: int, era: str, max_len: int = 1000
                ) -> np.ndarray:
    """The words ``sample_one_at_a_time(P, n, TorchGenerator(seed), draw)`` gives, all at once.

    Parameters
    ----------
    P : ndarray, shape (V, V), or (V**K, V) for contexts of K characters, or Chain
    n : int
        Number of words.
    seed : int
        Seeds the :class:`~minibigram.torchrng.TorchGenerator`.
    era : {"torch-mkl", "torch", "torch-cdf"}
        Whose ``torch.multinomial`` to replay: ``draw`` is the era's ``draw_*`` function.
    max_len : int
        A word is cut after this many characters.

    Returns
    -------
    ids : ndarray of int32, shape (n + total characters,)
        The words one after another, each followed by its end token 0, as :func:`sample_bulk`.

    Notes
    -----
    Every draw takes the same number of words of the generator's stream whatever row it
    draws from, so draw ``d`` (counted over all words) always uses the ``d``-th slice of
    the stream: its key (:class:`~minibigram.torchrng.BulkDraw`) is known before the walk.
    Which draw starts a word still depends on the words before it, so the loop is walked
    by many *walkers* at once, each one position further per step. Walker ``j`` starts
    a word at position ``jS`` as if the real loop did, and goes on word after word (a
    word cut at ``max_len`` also spends the draw that would come next). Two walkers at
    the same position in the same context draw the same from there on: they have
    *coupled*. A walker that reaches a position where a walker started later went on in
    its context hands over to it and stops. Walker 0 starts where the real loop does,
    so the real draws are walker 0's up to its hand-over, then those of the walker it
    handed over to, and so on. Only a word's length can tell two coupled walkers apart
    (where ``max_len`` cuts it): the words are checked for that, and a block ends before
    the first that differs. Each position is drawn about once, plus each walker's way
    past its part to its hand-over (measured, and ``S`` set to 4 times it).

    Where max_len cuts words (1 in 100 or more), blocks would end at almost every cut,
    so the next blocks speculate instead (:func:`_speculate`): a word is tried from every
    position, and one that reaches a position in a row where a word started later went
    on ends where that one does, or at its own ``max_len``.
    """
    pieces = list(replay_blocks(P, n, seed, era, max_len))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)


#: How a walker marks a draw it spent on ending a word cut at ``max_len`` characters.
CUT = -2


def replay_blocks(P: np.ndarray | Chain, n: int, seed: int, era: str, max_len: int = 1000
                  ) -> Iterator[np.ndarray]:
    """:func:`replay_bulk`'s words, a block at a time: the same words, in bounded memory.

    Each block starts at a word start of the real loop, continues the generator's stream
    where the last one stopped, and ends at one, so the words are those of one call
    whatever the blocks.
    """
    chain = as_chain(P)
    if n == 0:
        return
    bulk = BulkDraw(era, chain.P)
    generator = TorchGenerator(seed)
    keys = bulk.keys(generator, 0)                          # keys of positions base, base + 1, ...
    width = 1 if keys.ndim == 1 else chain.V                # numbers in one position's key
    cap = max(1 << 12, min(1 << 20, (1 << 22) // width))   # positions per block: keys <= 32 MB
    per_word, walk, cut = 16.0, 256, False                  # first guesses, then measured
    done = 0
    while done < n:
        if cut:   # words cut at max_len: speculate, a word from every position
            B = min(max(256, (1 << 18) // chain.V), int((n - done) * per_word * 1.1) + 64)
            ids, keys = _speculate(bulk, chain, generator, keys, B, n - done, max_len)
        else:
            # Blocks of 256 walkers or 2**18 positions, whichever is more: enough walkers
            # to fill each step, few positions held (and a first block that measures).
            B = min(cap, max(1 << 18, 256 * walk), int((n - done) * per_word * 1.1) + 64,
                    64 * walk * (done + 1))
            ids, keys, delay = _couple(bulk, chain, generator, keys, B, min(walk, B), max_len)
            # Walkers as long as 4 of their slowest usual hand-overs: most positions are
            # drawn once, and there are walkers enough to fill each step.
            walk = int(np.clip(4 * delay, 64, 4096))
        ends = np.flatnonzero(ids == 0)                     # (w,) each word's end token
        take = min(len(ends), n - done)
        stop = int(ends[take - 1]) + 1
        yield ids[:stop]
        keys = keys[stop:]                                  # the next word starts here
        per_word = len(ids) / len(ends)
        # Walkers that take over a word at another length part where max_len cuts it, and
        # each such block ends there: where 1 word in 100 is cut, speculate instead.
        lengths = np.diff(ends, prepend=-1) - 1             # (w,)
        cut = int(np.count_nonzero(lengths >= max_len)) * 100 > len(ends)
        done += take


def _speculate(bulk: BulkDraw, chain: Chain, generator: TorchGenerator, keys: np.ndarray,
               B: int, need: int, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``need`` words of the real loop from a word start, found by trying a word
    at each of ``B`` positions: (ids with a 0 ending each word, the keys now drawn).

    Every tried word walks until it ends, or reaches a position in a row where a word
    started later went on (then it ends where that one does, or at its own ``max_len``);
    the real words are the chain ``i -> end_i + 1`` from position 0, walked once more.
    Its cost is positions times the steps to a merge: small where words are long and
    rows few, as where max_len cuts them.
    """
    tried = np.arange(B, dtype=np.int64)                    # (B,) block offsets of the words tried
    end = tried + max_len                                   # (B,) last draw of each, if never 0
    into = tried.copy()                                     # (B,) the word each one merged into
    row_at = np.full(B + max_len, -1, dtype=np.int64)       # (B + max_len,) last row seen at each
    word_at = np.zeros(B + max_len, dtype=np.int64)         # ... and the word that had it
    alive, state = tried, np.zeros(B, dtype=np.int64)       # (m,) unfinished words, contexts
    for t in range(max_len):
        if len(alive) == 0:
            break
        if len(keys) <= B + t:                              # up to a cut word's unread last draw
            keys = np.concatenate([keys, bulk.keys(generator, max(B + t + 1 - len(keys),
                                                                  B // 4))])
        pos = alive + t                                     # (m,) distinct positions
        if t:                                               # (at t = 0 every word is in row 0)
            same = row_at[pos] == state                     # (m,) a later-started word was here
            into[alive[same]] = word_at[pos[same]]
            keep = ~same
            alive, state, pos = alive[keep], state[keep], pos[keep]
            row_at[pos] = state
            word_at[pos] = alive
        ix = bulk.draw(chain.rows(state), keys[pos])        # (m,) word alive's t-th draw
        ends = ix == 0
        end[alive[ends]] = pos[ends]
        alive, state = alive[~ends], chain.after(state[~ends], ix[~ends])
    root = into                                             # follow merges to the word that ended
    while not np.array_equal(root[root], root):
        root = root[root]
    end = np.minimum(end[root], tried + max_len)            # (B,)
    chosen: list[int] = []                                  # the real words: the chain from 0
    i, ends_list = 0, end.tolist()
    while i < B and len(chosen) < need:
        chosen.append(i)
        i = ends_list[i] + 1
    starts = np.array(chosen, dtype=np.int64)               # (w,)
    return _walk_known(bulk, keys, starts, end[chosen] - starts, chain), keys


def _walk_known(bulk: BulkDraw, keys: np.ndarray, starts: np.ndarray, lens: np.ndarray,
                chain: Chain) -> np.ndarray:
    """The words starting at key positions ``starts``, ``lens`` characters each, ids + end 0."""
    size = lens + 1                                         # (w,) characters and end token
    at = np.cumsum(size) - size                             # (w,) output start of each word
    order = np.argsort(-lens, kind="stable")                # longest first: alive is a prefix
    starts, at, lens = starts[order], at[order], lens[order]
    out = np.zeros(int(size.sum()), dtype=np.int32)         # a cut word keeps its end 0
    state = np.zeros(len(starts), dtype=np.int64)           # (w,) each word's current context
    T = int(lens[0]) if len(lens) else 0
    alive = np.searchsorted(-lens, -np.arange(T), side="left")  # (T,) words longer than t
    for t, m in enumerate(alive.tolist()):
        ix = bulk.draw(chain.rows(state[:m]), keys[starts[:m] + t])   # (m,) never 0 here
        out[at[:m] + t] = ix
        state[:m] = chain.after(state[:m], ix)
    return out


def _couple(bulk: BulkDraw, chain: Chain, generator: TorchGenerator, keys: np.ndarray,
            B: int, S: int, max_len: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The real loop's draws from a word start on, at least one whole word, over about ``B``
    positions by walkers ``S`` apart: (ids with a 0 ending each word, the keys now drawn,
    how far past its part a walker walks before it hands over, 90th percentile).

    ``keys`` are those of the positions from the word start on; more are drawn from
    ``generator`` as the walkers need them. See :func:`replay_bulk`, Notes.
    """
    J = max(1, B // S)                                      # walkers
    start = np.arange(J, dtype=np.int64) * S                # (J,) where each starts a word
    state = np.zeros(J, dtype=np.int64)                     # (J,) context of each walker
    off = np.zeros(J, dtype=np.int64)                       # (J,) characters into its word
    handed = np.full(J, -1, dtype=np.int64)                 # (J,) position of its hand-over
    to = np.full(J, -1, dtype=np.int64)                     # (J,) ... and the walker taking it
    seen = np.full(J * S + S, -1, dtype=np.int64)           # (positions,) context a walker went on
    who = np.zeros(J * S + S, dtype=np.int32)               # ... from, and which walker
    ids = np.full((J, 2 * S), -1, dtype=np.int32)           # (J, steps) each walker's draws
    alive = np.arange(J, dtype=np.int64)                    # (m,) walkers still walking
    # A walker walks S positions, then on until it hands over; the last one, which has
    # nobody to hand over to, until every other has and its word ends. (The cap only
    # stops walkers that never couple: the words are then those up to the stuck one.)
    t, first_word = 0, True
    while len(alive) and t < S + 16 * (max_len + 1):
        if t >= S and len(alive) == 1 and alive[0] == J - 1 and off[J - 1] == 0:
            break
        pos = start[alive] + t                              # (m,) the positions they draw
        need = int(pos[-1]) + 1 if len(pos) else 0
        if need > len(keys):                                # the walkers' keys, and 2S more
            keys = np.concatenate([keys, bulk.keys(generator, need - len(keys) + 2 * S)])
        if need > len(seen):
            seen = np.concatenate([seen, np.full(S, -1, dtype=np.int64)])
            who = np.concatenate([who, np.zeros(S, dtype=np.int32)])
        if t == ids.shape[1]:
            ids = np.concatenate([ids, np.full_like(ids, -1)], axis=1)
        # A later walker went on from here in this context: it draws what this one would.
        meet = seen[pos] == state[alive]                    # (m,)
        if first_word:
            meet[0] = False                                 # walker 0's first word is whole
        handed[alive[meet]] = pos[meet]
        to[alive[meet]] = who[pos[meet]]
        alive, pos = alive[~meet], pos[~meet]
        seen[pos] = state[alive]
        who[pos] = alive
        ix = bulk.draw(chain.rows(state[alive]), keys[pos])   # (m,) each walker's draw
        cut = off[alive] == max_len                         # a cut word spends the draw and ends
        ix[cut] = 0
        ids[alive, t] = np.where(cut, CUT, ix)
        ends = ix == 0
        state[alive] = np.where(ends, 0, chain.after(state[alive], ix))
        off[alive] = np.where(ends, 0, off[alive] + 1)
        first_word = first_word and not ends[0]
        t += 1
    # The real draws: walker 0 to its hand-over, then the walker it handed over to, ...
    pieces, j, at = [], 0, 0
    while to[j] >= 0:
        pieces.append(ids[j, at - start[j]:handed[j] - start[j]])
        j, at = int(to[j]), int(handed[j])
    pieces.append(ids[j, at - start[j]:])                   # unwalked steps are -1
    late = (handed - start - S)[to >= 0]                    # (h,) walked past its part
    delay = float(np.percentile(late, 90)) if len(late) else float(t - S)
    return _whole_words(np.concatenate(pieces), max_len), keys, delay


def _whole_words(ids: np.ndarray, max_len: int) -> np.ndarray:
    """The real loop's words at the start of ``ids``: up to the first draw where a walker's
    word, taken over mid-word, was cut at another length than the real one (or not cut).

    A walker's ids are its draws, ``CUT`` where its word was cut at ``max_len`` characters
    and -1 where it did not walk. Walker 0's first word is its own, so at least one word
    is whole.
    """
    q = np.arange(len(ids))                                 # (L,)
    ended = (ids == 0) | (ids == CUT)                       # (L,) the word ends after it
    last = np.maximum.accumulate(np.where(ended, q, -1))    # (L,) the last end at or before
    off = q - np.concatenate([[-1], last[:-1]]) - 1         # (L,) the real word's length so far
    wrong = (ids < 0) & ((ids != CUT) | (off != max_len))   # cut where the real word is not
    wrong |= (off == max_len) & ~ended                      # ... or not cut where it is
    bad = np.flatnonzero(wrong)
    first = int(bad[0]) if len(bad) else len(ids)
    out = ids[:int(last[first - 1]) + 1].copy()             # (w,) the words before it
    out[out == CUT] = 0
    return out


#: Every sampler by name: ``SAMPLERS[name](P, n, seed)`` gives the ``n`` words as one flat
#: id array, each word followed by its end token 0 (``Vocabulary.decode_words`` reads it
#: in one go; :func:`id_lists` splits it into id lists).
SAMPLERS: dict[str, Callable[[Any, int, int], np.ndarray]] = {
    "numpy": sample_bulk,
    **{era: partial(replay_bulk, era=era) for era in ("torch-mkl", "torch", "torch-cdf")},
}
#: Every sampler by name as blocks: ``SAMPLER_BLOCKS[name](P, n, seed)`` yields the words of
#: ``SAMPLERS[name](P, n, seed)`` as flat id arrays, a block at a time.
SAMPLER_BLOCKS: dict[str, Callable[[Any, int, int], Iterator[np.ndarray]]] = {
    "numpy": sample_blocks,
    **{era: partial(replay_blocks, era=era) for era in ("torch-mkl", "torch", "torch-cdf")},
}
DEFAULT_SAMPLER = "torch-cdf"  # the published notebook's and the lecture's names (torch 1.x)


def adjust_probs(P: np.ndarray, temperature: float = 1.0, top_k: int | None = None
                 ) -> np.ndarray:
    """Rescale each row of next-character probabilities by temperature and top-k.

    Parameters
    ----------
    P : ndarray, shape (S, V), rows summing to 1
    temperature : float >= 0, default 1
        ``p_j ** (1/T)`` renormalized, i.e. ``softmax(log p / T)``: below 1 sharpens
        towards the likeliest character, above 1 flattens towards uniform. ``T = 0``
        is greedy decoding: each row becomes one-hot at its likeliest character,
        ``argmax_j p_j``, so every sampler draws it every time, whatever the seed.
        On a tie the lowest id wins (``np.argmax``), so greedy words are
        deterministic; a tiny ``T > 0`` would instead share the tie at random. The
        boundary is id 0, so a row whose likeliest entries tie with the boundary
        (e.g. the uniform row of an unseen context) ends the word.
    top_k : int >= 1, optional
        Keep only the ``k`` likeliest characters of each row (ties with the k-th are
        kept too) and renormalize. With ``T = 0`` it changes nothing.

    Returns
    -------
    ndarray, shape (S, V)
        ``P`` itself when ``temperature == 1`` and ``top_k`` is None, so the default
        samples are bit-for-bit unchanged; otherwise a new float64 table.
    """
    if not (isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
            and np.isfinite(temperature) and temperature >= 0):
        raise SettingsError(f"the temperature must be a finite number >= 0 (0: greedy), got "
                            f"{temperature!r}.")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise SettingsError(f"top_k must be a whole number >= 1, got {top_k!r}.")
    if temperature == 0:   # greedy: the likeliest character of each row, lowest id on a tie
        greedy = np.zeros(P.shape)                                 # (S, V)
        greedy[np.arange(len(P)), P.argmax(axis=1)] = 1.0
        return greedy
    if temperature == 1 and (top_k is None or top_k >= P.shape[1]):
        return P
    with np.errstate(divide="ignore", over="ignore"):
        logp = np.log(P.astype(np.float64))                    # (S, V); p = 0 gives -inf
        # Shift each row's maximum to 0 before dividing, so a tiny T sends the others to
        # -inf (always the likeliest character) instead of every entry to -inf (NaN).
        logits = (logp - logp.max(axis=1, keepdims=True)) / temperature
    if top_k is not None and top_k < P.shape[1]:
        kth = np.partition(logits, -top_k, axis=1)[:, [-top_k]]   # (S, 1) k-th largest
        logits = np.where(logits < kth, -np.inf, logits)
    counts = np.exp(logits - logits.max(axis=1, keepdims=True))
    return counts / counts.sum(axis=1, keepdims=True)


def sample_words(P: np.ndarray | Chain, n: int, seed: int, sampler: str, vocab: Any) -> list[str]:
    """Draw ``n`` words with the named sampler and decode them with ``vocab``.

    Parameters
    ----------
    P : ndarray, shape (V**K, V), or Chain
        Next-character probabilities, one row per context code (or per context seen).
    n, seed : int
    sampler : str
        A name from :data:`SAMPLERS`.
    vocab : Vocabulary
    """
    check_choice("sampler", sampler, tuple(SAMPLERS))
    return vocab.decode_words(SAMPLERS[sampler](P, n, seed))


def iter_words(P: np.ndarray | Chain, n: int, seed: int, sampler: str, vocab: Any
               ) -> Iterator[list[str]]:
    """:func:`sample_words`'s words, a block at a time as each is drawn, in bounded memory.

    The lists, joined, are ``sample_words(P, n, seed, sampler, vocab)``: each sampler
    gives the same words in blocks as in one call. The first block comes as soon as it
    is drawn (``| head -1`` waits for no more).
    """
    check_choice("sampler", sampler, tuple(SAMPLERS))
    for ids in SAMPLER_BLOCKS[sampler](P, n, seed):
        yield vocab.decode_words(ids)
