import os

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from userdata import mixed_words  # noqa: F401  (the tests import it from here)

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


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def richardson_grad(f, x, h=5e-3):
    """Central differences with one Richardson step: error O(h**4), float64."""
    def d(i, step):
        xp, xm = x.copy(), x.copy()
        xp[i] += step
        xm[i] -= step
        return (f(xp) - f(xm)) / (2 * step)

    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        g[i] = (4 * d(i, h / 2) - d(i, h)) / 3
    return g


# Hypothesis settings of the property tests: derandomize=True makes every run (and CI) try
# the same examples, so a failure is reproducible, never flaky.
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
dtypes = st.sampled_from([np.float64, np.float32])


@st.composite
def problems(draw, max_V=8, max_n=30, max_abs=5.0, weighted=True):
    """(W float64 (V, V), xs, ys (n,), weights (n,) or None)."""
    V = draw(st.integers(2, max_V))
    n = draw(st.integers(1, max_n))
    W = draw(hnp.arrays(np.float64, (V, V), elements=st.floats(-max_abs, max_abs),
                         fill=st.nothing()))
    ids = hnp.arrays(np.int64, n, elements=st.integers(0, V - 1), fill=st.nothing())
    xs, ys = draw(ids), draw(ids)
    weights = None
    if weighted and draw(st.booleans()):
        weights = draw(hnp.arrays(np.float64, n, elements=st.floats(0.1, 3.0),
                                  fill=st.nothing()))
    return W, xs, ys, weights


@pytest.fixture
def ws(tmp_path):
    """A folder with a small word list, a model trained on it, and a previous --out file.

    (test_cli_info.py and test_cli_streams.py define a ``ws`` of their own.)
    """
    from minibigram import BigramModel

    (tmp_path / "words.txt").write_text("anna\nbob\ncara\n", encoding="utf-8")
    model = BigramModel.fit(["anna", "bob", "cara"], steps=3, lr=5.0)
    model.save(tmp_path / "m.npz")
    (tmp_path / "prev.npz").write_bytes((tmp_path / "m.npz").read_bytes())
    return tmp_path


@pytest.fixture
def prev(tmp_path):
    """A model file already at the --out path: it must survive any failure."""
    from minibigram import BigramModel

    path = tmp_path / "prev.npz"
    BigramModel.fit(["anna", "bob"], steps=2, lr=5.0).save(path)
    return path


def pairs_by_hand(words, stoi):
    """The (context, target) ids of every word, read as boundary + w + boundary, by a loop."""
    out = []
    for w in words:
        ids = [0] + [stoi[c] for c in w] + [0]
        out += list(zip(ids[:-1], ids[1:]))
    return out


# --- running the command line


PREFIX = "minibigram: error: "


def run_cli(*args, cwd, timeout=120):
    """``python -m minibigram ARGS`` in ``cwd``; text output captured apart."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def snapshot(folder):
    """Every entry of ``folder``: a file's bytes, or anything else's mode."""
    return {p.name: p.read_bytes() if p.is_file() and not p.is_symlink() else p.lstat().st_mode
            for p in sorted(folder.iterdir())}


def cli_error(cwd, *args, timeout=120):
    """Run the CLI: exit 2, one line ``minibigram: error: ...``, no file changed."""
    before = snapshot(cwd)
    r = run_cli(*args, cwd=cwd, timeout=timeout)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(PREFIX) and r.stderr.count("\n") == 1, r.stderr
    assert snapshot(cwd) == before, "the failed command changed files"
    return r.stderr[len(PREFIX):-1]


def run_on_a_pty(cmd, cwd):
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal; what it showed there."""
    import os
    import pty
    import subprocess

    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert p.wait(timeout=180) == 0
    return b"".join(chunks).decode("utf-8")
