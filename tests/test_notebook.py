"""The published notebook's printed numbers, and what torch of each era prints for its cells.

Gold references:

- the published notebook (karpathy/nn-zero-to-hero,
  ``lectures/makemore/makemore_part1_bigrams.ipynb``), run under torch 1.x: its printouts
  are copied here verbatim;
- torch 2.13 running the notebook's count-model cell (``P = (N+1).float()``, 15 names
  with ``torch.multinomial(p, 1, replacement=True, generator=g)``), computed once with the
  real torch 2.13 and kept as fixed values; the test that runs torch itself skips without it.
"""

import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest

import minibigram as mb
from minibigram import functional as F
from minibigram.sampling import sample_words

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 2147483647

#: The code cells of the published notebook (numbered 1 to 60, as in its file) that show an
#: output: a printout, a result or a figure.
PUBLISHED_CELLS_WITH_OUTPUT = (
    2, 3, 4, 5, 7, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 25, 27, 28, 29, 30, 31, 32, 33, 34,
    35, 36, 37, 38, 39, 42, 43, 46, 47, 49, 50, 53, 57, 58, 59,
)

#: torch 2.13 (era "torch") running the notebook's count-model cell for 15 names.
TORCH_2_13_COUNT_NAMES = [
    "cexze", "momasurailezitynn", "konimittain", "llayn", "ka", "da", "staiyaubrtthrigotai",
    "moliellavo", "ke", "teda", "ka", "emimmsade", "enkaviyny", "ftlspihinivenvorhlasu", "dsor",
]
#: torch 2.5.1 (era "torch-mkl", the MKL draws of torch 2.0-2.6) running the same cell, as it
#: printed once in a throwaway venv (torch 2.5.1+cu124, on the CPU).
TORCH_2_5_COUNT_NAMES = [
    "junide", "janasah", "p", "cony", "a", "nn", "kohin", "tolian", "juee",
    "ksahnaauranilevias", "dedainrwieta", "ssonielylarte", "faveumerifontume",
    "phynslenaruani", "core",
]
#: The published notebook (torch 1.x, era "torch-cdf"): the count model's five names ...
NOTEBOOK_COUNT_NAMES = ["mor", "axx", "minaymoryles", "kondlaisah", "anchshizarie"]
#: ... and the trained network's five names (its fifth differs in one letter).
NOTEBOOK_NET_NAMES = ["mor", "axx", "minaymoryles", "kondlaisah", "anchthizarie"]


def cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "minibigram", *args], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@pytest.fixture(scope="module")
def counts_model():
    return mb.CountModel.fit(smoothing=1)


def test_cli_count_model_prints_torch_2_13_names():
    lines = cli("train", "--model-kind", "counts", "--smoothing", "1", "--sampler", "torch")
    assert lines[-15:] == TORCH_2_13_COUNT_NAMES


def test_cli_count_model_prints_torch_2_5_names_under_torch_mkl():
    lines = cli("train", "--model-kind", "counts", "--smoothing", "1", "--sampler", "torch-mkl")
    assert lines[-15:] == TORCH_2_5_COUNT_NAMES


def test_cli_count_model_prints_the_published_notebooks_names_under_torch_cdf():
    lines = cli("train", "--model-kind", "counts", "--smoothing", "1", "--sampler", "torch-cdf",
                "--samples", "5")
    assert lines[-5:] == NOTEBOOK_COUNT_NAMES


def test_count_model_samples_like_torch_running_the_notebook_cell(counts_model):
    """Era "torch" against torch itself, on the notebook's table and on add-0.5 smoothing."""
    torch = pytest.importorskip("torch")
    words = mb.load_words()
    vocab = counts_model.vocab
    xs, ys = mb.bigrams(words, vocab)
    N = torch.tensor(mb.bigram_counts(xs, ys, len(vocab)).astype(np.int32))
    for k in (1, 0.5):
        P = (N + k).float()
        P /= P.sum(1, keepdims=True)
        g = torch.Generator().manual_seed(SEED)
        names = []
        for _ in range(15):
            out, ix = [], 0
            while True:
                ix = torch.multinomial(P[ix], num_samples=1, replacement=True,
                                       generator=g).item()
                if ix == 0:
                    break
                out.append(vocab.itos[ix])
            names.append("".join(out))
        expected = TORCH_2_13_COUNT_NAMES if k == 1 else names
        assert names == expected
        assert mb.CountModel.fit(smoothing=k).sample(15, sampler="torch") == names


def test_float32_table_leaves_numpy_sampler_and_scores_alone(counts_model):
    """The float32 table is for the torch eras only: numpy samples the float64 table."""
    table = counts_model.table()
    assert table.dtype == np.float64
    assert counts_model.sample(50, seed=3, sampler="numpy") == sample_words(
        table, 50, 3, "numpy", counts_model.vocab)
    N = counts_model.N + 1.0
    gold = -(counts_model.N * np.log(N / N.sum(1, keepdims=True))).sum() / counts_model.N.sum()
    assert counts_model.nll(mb.load_words()) == pytest.approx(gold, rel=1e-14)


def test_longer_context_count_model_samples_in_every_era():
    """K = 2 with smoothing 0: unseen contexts stay uniform (no 0/0) in the float32 table."""
    m = mb.CountModel.fit(smoothing=0, context=2)
    for sampler in mb.SAMPLERS:
        names = m.sample(20, sampler=sampler)
        assert len(names) == 20 and all(set(w) <= set(m.vocab.itos[1:]) for w in names)


def test_notebook_cells_on_emma():
    """Cells 47 and 53: emma's mean loss at the seeded W, and after four steps of lr 0.1."""
    words = mb.load_words()
    vocab = mb.Vocabulary.from_words(words)
    xs, ys = mb.bigrams(words[:1], vocab)
    assert xs.tolist() == [0, 5, 13, 13, 1] and ys.tolist() == [5, 13, 13, 1, 0]
    W = mb.TorchGenerator(SEED).randn(27, 27)
    probs = F.normalize(F.exp(F.linear(F.one_hot(xs, 27), W)))
    assert np.round(probs[0, :3].astype(float), 4).tolist() == [0.0607, 0.0100, 0.0123]
    losses = []
    for _ in range(5):
        loss, dW = mb.loss_and_grad(W, xs, ys, engine="onehot")
        losses.append(loss)
        W = W - 0.1 * dW
    assert losses[0] == 3.7693049907684326     # the notebook's printout, bit for bit
    assert losses[4] == 3.6891887187957764     # its cell 53, printed after four updates


def test_notebook_generator_cells():
    """Cells 15-17: one draw from the first row, torch.rand(3) and 100 draws from it."""
    words = mb.load_words()
    vocab = mb.Vocabulary.from_words(words)
    N = mb.bigram_counts(*mb.bigrams(words, vocab), len(vocab))
    p = N[0].astype(np.float32)
    p = p / p.sum()
    ix = mb.TorchGenerator(SEED).multinomial(p, 1, era="torch-cdf")[0]
    assert vocab.itos[ix] == "m"                        # the notebook's 'm' (torch 1.x)
    assert vocab.itos[mb.TorchGenerator(SEED).multinomial(p, 1, era="torch")[0]] == "c"
    g = mb.TorchGenerator(SEED)
    p = g.rand(3)
    p = p / p.sum()
    assert np.round(p.astype(float), 4).tolist() == [0.6064, 0.3033, 0.0903]
    draws = g.multinomial(p, 100, era="torch-cdf")
    assert draws.tolist() == [
        1, 1, 2, 0, 0, 2, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 2, 0, 0,
        1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1,
        0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
        0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0,
        0, 1, 1, 1]


def test_network_prints_the_published_notebooks_names_after_250_steps():
    model = mb.BigramModel.fit(steps=250)
    assert model.sample(5, sampler="torch-cdf") == NOTEBOOK_NET_NAMES


def test_every_published_output_has_its_counterpart_in_our_notebook():
    """docs/makemore_part1.ipynb: code cells ``# cell 1`` to ``# cell 60`` in order; each cell
    whose published twin shows something shows something too, or a Markdown cell says why not
    ("Cell N shows nothing here: ...")."""
    nb = nbformat.read(os.path.join(ROOT, "docs", "makemore_part1.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    numbers = [int(re.match(r"# cell (\d+)$", c.source.splitlines()[0]).group(1))
               for c in code]
    assert numbers == list(range(1, 61))
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for n in PUBLISHED_CELLS_WITH_OUTPUT:
        shown = [o for o in code[n - 1].outputs if o.output_type != "error"]
        assert shown or f"Cell {n} shows nothing here: " in prose, f"cell {n} has no counterpart"
