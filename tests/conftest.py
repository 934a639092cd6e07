import os

import numpy as np
import pytest

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_collectreport(report):
    """A module-level ``pytest.importorskip`` skips at collection, not in a test."""
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """With MINIBIGRAM_NO_SKIP=1 (set by CI), a skipped test fails the run."""
    if os.environ.get("MINIBIGRAM_NO_SKIP") == "1" and _skipped:
        print(f"\nMINIBIGRAM_NO_SKIP=1 but {len(_skipped)} tests skipped: {_skipped[:5]}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def names():
    from minibigram import load_words
    return load_words()


def random_problem(rng: np.random.Generator, V: int, n: int, dtype=np.float64):
    """A random W and (xs, ys) pairs over V ids."""
    W = rng.standard_normal((V, V)).astype(dtype)
    xs = rng.integers(0, V, n)
    ys = rng.integers(0, V, n)
    return W, xs, ys


@pytest.fixture(scope="module")
def N(names):
    """The (V, V) bigram counts of the names."""
    from minibigram import Vocabulary, bigram_counts, bigrams

    vocab = Vocabulary.from_words(names)
    return bigram_counts(*bigrams(names, vocab), len(vocab))
