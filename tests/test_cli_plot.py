"""`minibigram plot`: image files of the table and the loss curve, for any model kind."""

import subprocess
import sys

import pytest

from minibigram import (
    BigramModel,
    CountModel,
    DependencyError,
)
from minibigram.plot import plot_bigrams, plot_loss_curve


@pytest.fixture(scope="module")
def model():
    return BigramModel.fit(["anna", "bob", "zoë", "ann marie"], steps=5, lr=5.0)


def test_plot_command_writes_png_files(tmp_path, model):
    model.save(tmp_path / "m.npz")
    for extra, name in (([], "table.png"), (["--loss-curve"], "loss.png")):
        r = subprocess.run([sys.executable, "-m", "minibigram", "plot", "--model", "m.npz",
                            "--out", name, *extra], cwd=tmp_path, capture_output=True, text=True,
                           timeout=180)
        assert r.returncode == 0 and r.stdout == "", r.stdout
        assert r.stderr == f"wrote {name}\n"   # status, on stderr
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "m.npz", "table.png"]


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


@pytest.mark.parametrize("V", [59, 100])
def test_plot_command_is_silent_about_missing_glyphs(tmp_path, V):
    """Characters the font lacks (and '$', which matplotlib would read as math) draw
    without a warning line: stderr holds only the status line."""
    chars = [chr(c) for c in range(0x21, 0x250) if chr(c).isprintable() and chr(c) != "."]
    CountModel.fit(["".join(chars[: V - 3]) + "\u4e00\u0f00"], context=1).save(tmp_path / "c.npz")
    r = subprocess.run([sys.executable, "-m", "minibigram", "plot", "--model", "c.npz",
                        "--out", "c.png"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0 and r.stderr == "wrote c.png\n", r.stderr
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_plot_command_loads_any_model_kind(tmp_path):
    CountModel.fit(["anna", "bob"], context=1).save(tmp_path / "c.npz")
    r = subprocess.run([sys.executable, "-m", "minibigram", "plot", "--model", "c.npz",
                        "--out", "c.png"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0 and r.stderr == "wrote c.png\n", r.stderr
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
