"""The plot command and library functions: the labelled bigram table and the loss curve."""

import subprocess
import sys

import numpy as np
import pytest

from minibigram import (
    BigramModel,
    CountModel,
    DataError,
    DependencyError,
    NGramModel,
    SettingsError,
    bigram_counts,
    bigrams,
)
from minibigram.plot import plot_bigrams, plot_loss_curve, save_figure

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def model():
    return BigramModel.fit(["anna", "bob", "zoë", "ann marie"], steps=5, lr=5.0)


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_table_labels_every_cell_with_its_bigram_and_probability(model):
    fig = plot_bigrams(model)
    texts = _texts(fig)
    V = model.V
    assert len(texts) == 2 * V * V
    P = model.probs()
    itos = ["\u2423" if c == " " else c for c in model.vocab.itos]   # spaces shown as ␣
    for i in range(V):
        for j in range(V):
            bigram, value = texts[2 * (i * V + j)], texts[2 * (i * V + j) + 1]
            assert bigram == itos[i] + itos[j]
            assert float("0" + value) == pytest.approx(P[i, j], abs=5e-4)
    image = fig.axes[0].images[0].get_array()
    assert np.allclose(image, P)


def test_count_model_shows_its_counts():
    words = ["anna", "bob", "zoë"]
    m = CountModel.fit(words, context=1)
    texts = _texts(plot_bigrams(m))
    vocab = m.vocab
    N = bigram_counts(*bigrams(words, vocab), len(vocab))
    assert texts[1::2] == [str(n) for n in N.ravel()]
    with pytest.raises(DataError, match="counted, not trained"):
        plot_loss_curve(m)


@pytest.mark.parametrize("encoding", ["joint", "concat"])
def test_ngram_model_with_one_character_of_context(encoding):
    words = ["anna", "bob", "zoë"]
    m = NGramModel.fit(words, context=1, encoding=encoding, steps=3)
    values = [float("0" + t) for t in _texts(plot_bigrams(m))[1::2]]
    P = m.table()
    assert np.allclose(values, P.ravel(), atol=5e-4)


def test_longer_contexts_are_refused():
    m = CountModel.fit(["anna", "bob"], context=2)
    with pytest.raises(DataError, match="predicts from 2 previous characters"):
        plot_bigrams(m)


def test_loss_curve_draws_the_history(model):
    line = plot_loss_curve(model).axes[0].lines[0]
    assert list(line.get_ydata()) == model.history
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5]
    with pytest.raises(DataError, match="no loss history"):
        plot_loss_curve(BigramModel.fit(["ab"], steps=0))


def test_plot_command_writes_png_files(tmp_path, model):
    model.save(tmp_path / "m.npz")
    for extra, name in (([], "table.png"), (["--loss-curve"], "loss.png")):
        r = subprocess.run([sys.executable, "-m", "minibigram", "plot", "--model", "m.npz",
                            "--out", name, *extra], cwd=tmp_path, capture_output=True, text=True,
                           timeout=180)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert r.stdout == f"wrote {name}\n"
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "m.npz", "table.png"]


def test_unknown_image_format(tmp_path, model):
    with pytest.raises(SettingsError, match=r"give a file name ending in one of .*\.png"):
        save_figure(plot_loss_curve(model), tmp_path / "loss.xyz")
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_a_clear_error(monkeypatch, model, tmp_path, capsys):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)   # None makes the import fail
    expected = ('plotting needs matplotlib, which is not installed: run '
                'pip install matplotlib (or, in a minibigram checkout, pip install ".[plot]"; '
                'minibigram is not on PyPI).')
    for draw in (plot_bigrams, plot_loss_curve):
        with pytest.raises(DependencyError) as info:
            draw(model)
        assert str(info.value) == expected and isinstance(info.value, ImportError)
    from minibigram.cli import main

    model.save(tmp_path / "m.npz")
    assert main(["plot", "--model", str(tmp_path / "m.npz"), "--out",
                 str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == f"minibigram: error: {expected}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_plot_command_loads_any_model_kind(tmp_path):
    CountModel.fit(["anna", "bob"], context=1).save(tmp_path / "c.npz")
    r = subprocess.run([sys.executable, "-m", "minibigram", "plot", "--model", "c.npz",
                        "--out", "c.png"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
