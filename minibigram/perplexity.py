"""Perplexity: the numbers language-model users compare, from the log-probability of each token.

A word ``w`` is ``len(w)`` character tokens and one end token. From the natural
log-probability of every token, :func:`perplexity` makes one record: the total in nats
and in log10 (ARPA's unit), perplexity per token, per character without the end token,
and per word, bits per character, and the count of unknown characters, with and
without the end token as KenLM's ``query`` counts ``</s>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Perplexity:
    """How well a model predicts some words: totals and their per-token, per-word means.

    Attributes
    ----------
    words : int
    characters : int
        Character tokens, the end tokens left out.
    tokens : int
        ``characters + words``: every prediction, end tokens included (KenLM's count).
    unknowns : int
        Characters the model never saw (scored as ``<unk>``, or skipped).
    log_prob, log10_prob : float
        ``sum log P`` over every token, in nats and in log10.
    log_prob_no_end : float
        The same without the end tokens.
    log_prob_known : float
        The same without the tokens of unknown characters.
    known_tokens : int
        The tokens that are not unknown characters.
    perplexity : float
        ``exp(-log_prob / tokens)``, per token, end tokens included.
    perplexity_no_end : float
        ``exp(-log_prob_no_end / characters)``.
    perplexity_known : float
        Per token without the unknown characters' tokens (KenLM's "excluding OOVs").
    word_perplexity : float
        ``exp(-log_prob / words)``.
    bits_per_character, bits_per_character_no_end : float
        ``-log2 P`` per token, with and without the end tokens.
    """

    words: int
    characters: int
    tokens: int
    unknowns: int
    log_prob: float
    log10_prob: float
    log_prob_no_end: float
    log_prob_known: float
    known_tokens: int
    perplexity: float
    perplexity_no_end: float
    perplexity_known: float
    word_perplexity: float
    bits_per_character: float
    bits_per_character_no_end: float

    @property
    def nll(self) -> float:
        """Mean negative log-likelihood per token, end tokens included: ``-log_prob /
        tokens``, what :meth:`~minibigram.models.LanguageModel.nll` gives of the same
        words (nan for no tokens)."""
        return -self.log_prob / self.tokens if self.tokens else math.nan

    def as_dict(self) -> dict[str, float | int | None]:
        """The record as a JSON-ready dict (``inf`` and ``nan`` as None)."""
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in asdict(self).items()}

    def lines(self) -> list[str]:
        """The record as lines of text, one figure a line."""
        return [
            f"words {self.words}, characters {self.characters}, tokens {self.tokens} "
            f"(end included), unknown characters {self.unknowns}",
            f"total log-probability {self.log_prob:.6f} nats, {self.log10_prob:.6f} log10 "
            f"({self.log_prob_no_end:.6f} nats without the end tokens)",
            f"perplexity per token {self.perplexity:.4f} (without the end tokens "
            f"{self.perplexity_no_end:.4f}; without unknowns {self.perplexity_known:.4f})",
            f"perplexity per word {self.word_perplexity:.4f}",
            f"bits per character {self.bits_per_character:.4f} (without the end tokens "
            f"{self.bits_per_character_no_end:.4f})",
        ]


def _exp_mean(total: float, n: int) -> float:
    """``exp(-total / n)``; nan for nothing to average."""
    return float(np.exp(-total / n)) if n else math.nan   # inf, not OverflowError


def from_totals(*, words: int, characters: int, unknowns: int, log_prob: float,
                log_prob_no_end: float, log_prob_known: float, known_tokens: int
                ) -> Perplexity:
    """The record of these totals (what :func:`perplexity` sums, and :func:`combine` adds)."""
    tokens = characters + words
    with np.errstate(over="ignore"):
        return Perplexity(
            words=words, characters=characters, tokens=tokens, unknowns=unknowns,
            log_prob=log_prob, log10_prob=log_prob / math.log(10),
            log_prob_no_end=log_prob_no_end, log_prob_known=log_prob_known,
            known_tokens=known_tokens,
            perplexity=_exp_mean(log_prob, tokens),
            perplexity_no_end=_exp_mean(log_prob_no_end, characters),
            perplexity_known=_exp_mean(log_prob_known, known_tokens),
            word_perplexity=_exp_mean(log_prob, words),
            bits_per_character=-log_prob / math.log(2) / tokens if tokens else math.nan,
            bits_per_character_no_end=(-log_prob_no_end / math.log(2) / characters
                                       if characters else math.nan))


def perplexity(token_logp: np.ndarray, lengths: np.ndarray,
               unknown: np.ndarray | None = None, skipped: int = 0) -> Perplexity:
    """The :class:`Perplexity` record of words from the log-probability of each of their tokens.

    Parameters
    ----------
    token_logp : ndarray, shape (n,)
        Natural log-probabilities, word after word: each word's ``len(w)`` characters,
        then its end token (``n = sum(lengths + 1)``).
    lengths : ndarray of int, shape (m,)
        Each word's length as scored.
    unknown : ndarray of bool, shape (n,), optional
        Which tokens are unknown characters scored as ``<unk>``.
    skipped : int
        Unknown characters removed before scoring.
    """
    logp = np.asarray(token_logp, dtype=np.float64)              # (n,)
    lengths = np.asarray(lengths, dtype=np.int64)                # (m,)
    ends = np.cumsum(lengths + 1) - 1                            # (m,) each end token
    unk = np.zeros(len(logp), bool) if unknown is None else np.asarray(unknown, bool)
    total = float(logp.sum())
    return from_totals(words=len(lengths), characters=len(logp) - len(lengths),
                       unknowns=int(unk.sum()) + skipped, log_prob=total,
                       log_prob_no_end=total - float(logp[ends].sum()),
                       log_prob_known=float(logp[~unk].sum()), known_tokens=int((~unk).sum()))


def combine(records: Sequence[Perplexity]) -> Perplexity:
    """The record of all the words of several records (e.g. of chunks scored in turn)."""
    return from_totals(**{k: sum(getattr(r, k) for r in records) for k in (
        "words", "characters", "unknowns", "log_prob", "log_prob_no_end", "log_prob_known",
        "known_tokens")})
