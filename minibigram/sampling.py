"""Samplers: turn a (V, V) table of next-character probabilities into words.

A word starts at the boundary (id 0), draws the next character from the row of
the current one, and ends when it draws the boundary again. A sampler is a
function ``sampler(P, n, seed) -> list of n id lists`` (each without the end
token). Per-character samplers are a plain ``draw(p, generator) -> int`` plugged
into :func:`sample_one_at_a_time`, the notebook's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import SettingsError
from .torchrng import TorchGenerator, draw_torch, draw_torch_cdf, draw_torch_mkl

Sampler = Callable[[np.ndarray, int, int], "list[list[int]]"]
Draw = Callable[[np.ndarray, Any], int]


def sample_one_at_a_time(P: np.ndarray, n: int, generator: Any, draw: Draw,
                         max_len: int = 1000) -> list[list[int]]:
    """The notebook's sampling loop: one word after another, one character at a time.

    Parameters
    ----------
    P : ndarray, shape (V, V)
        ``P[i]`` is the distribution of the character after ``i``.
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
    words = []
    for _ in range(n):
        ix, out = 0, []
        while True:
            ix = draw(P[ix], generator)
            if ix == 0 or len(out) == max_len:
                break
            out.append(ix)
        words.append(out)
    return words


def draw_numpy(p: np.ndarray, rng: np.random.Generator) -> int:
    """Inverse-CDF draw: the first index whose cumulative probability exceeds a uniform."""
    c = np.cumsum(p, dtype=np.float64)
    return int(min(np.searchsorted(c, rng.random() * c[-1], side="right"), len(p) - 1))


def sample_numpy(P: np.ndarray, n: int, seed: int) -> list[list[int]]:
    """Sample with numpy's ``default_rng(seed)``."""
    return sample_one_at_a_time(P, n, np.random.default_rng(seed), draw_numpy)


def sample_torch_mkl(P: np.ndarray, n: int, seed: int) -> list[list[int]]:
    """Replay torch 2.0-2.6 (the notebook's names): :func:`~minibigram.torchrng.draw_torch_mkl`
    with ``TorchGenerator(seed)``, as ``torch.multinomial(p, 1, True, generator=g)``."""
    return sample_one_at_a_time(P, n, TorchGenerator(seed), draw_torch_mkl)


def sample_torch(P: np.ndarray, n: int, seed: int) -> list[list[int]]:
    """Replay torch 2.7 and newer: :func:`~minibigram.torchrng.draw_torch`."""
    return sample_one_at_a_time(P, n, TorchGenerator(seed), draw_torch)


def sample_torch_cdf(P: np.ndarray, n: int, seed: int) -> list[list[int]]:
    """Replay torch 1.x (the lecture video): :func:`~minibigram.torchrng.draw_torch_cdf`."""
    return sample_one_at_a_time(P, n, TorchGenerator(seed), draw_torch_cdf)


SAMPLERS: dict[str, Sampler] = {
    "numpy": sample_numpy,
    "torch-mkl": sample_torch_mkl,
    "torch": sample_torch,
    "torch-cdf": sample_torch_cdf,
}
DEFAULT_SAMPLER = "torch-mkl"  # the notebook's names


def sample_ids(P: np.ndarray, n: int, seed: int,
               sampler: str = DEFAULT_SAMPLER) -> list[list[int]]:
    """Draw ``n`` words (as id lists, without the end token) with the named sampler."""
    try:
        fn = SAMPLERS[sampler]
    except KeyError:
        raise SettingsError(f"unknown sampler {sampler!r}: choose one of "
                            f"{', '.join(SAMPLERS)}.") from None
    return fn(P, n, seed)
