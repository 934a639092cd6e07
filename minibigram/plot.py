"""Pictures of a model: its bigram table (like the lecture's figure) and its loss curve.

matplotlib is optional (``pip install matplotlib``, or ``pip install ".[plot]"`` in a
checkout) and imported only inside these functions, always with the non-interactive Agg
canvas, so plotting never needs a screen.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, BinaryIO

import numpy as np

from .errors import DataError, DependencyError, SettingsError
from .io import atomic_write
from .words import PathLike

PLOT_INSTALL = ('pip install matplotlib (or, in a minibigram checkout, pip install ".[plot]"; '
                'minibigram is not on PyPI)')


def _figure(figsize: tuple[float, float]) -> Any:
    """A matplotlib Figure on an Agg canvas (no pyplot, no screen, no global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise DependencyError(f"plotting needs matplotlib, which is not installed: run "
                              f"{PLOT_INSTALL}.") from None
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _label(ch: str) -> str:
    # A space would be invisible in a cell label; show it as the open-box sign.
    return "\u2423" if ch == " " else ch


def plot_bigrams(model: Any) -> Any:
    """Draw the V×V bigram table, each cell labelled with its bigram and value.

    Row ``i``, column ``j`` is the pair "character ``i`` then character ``j``",
    as in the makemore lecture's ``plt.imshow(N)`` figure.

    Parameters
    ----------
    model : BigramModel, CountModel or NGramModel with a context of 1
        A :class:`~minibigram.BigramModel` (or an NGramModel) shows its
        probabilities ``P[i, j] = softmax(W)[i, j]`` (each row sums to 1); a
        :class:`~minibigram.CountModel` shows its counts ``N[i, j]``, the
        lecture's table.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("bigrams.png")``.

    Raises
    ------
    DataError
        If the model's contexts are longer than one character.
    DependencyError
        If matplotlib is not installed.
    """
    V, K = model.V, getattr(model, "K", 1)
    if K != 1:
        raise DataError(f"the model predicts from {K} previous characters, but the table has "
                        "one previous character per row: plot a model trained with a context "
                        "of 1.")
    if getattr(model, "kind", None) == "counts":   # the count model: counts, not P
        table, what = np.zeros((V, V), dtype=model.N.dtype), "counts N[i, j]"
        table[model.contexts[:, 0]] = model.N      # (C, V) rows of the contexts seen
    else:   # a network with K = 1: its table of every context is (V, V)
        table, what = np.asarray(model.table(), dtype=np.float64), "probabilities P[j | i]"
    if what.startswith("counts"):
        labels = [[f"{n:.0f}" for n in row] for row in table.tolist()]
    else:
        # ".123" rather than "0.123": three digits fit the cell
        labels = [[f"{p:.3f}"[1:] if p < 0.9995 else "1" for p in row] for row in table.tolist()]
    itos = [_label(c) for c in model.vocab.itos]
    size = max(6.0, 0.6 * V)   # 16 inches for the 27 characters of names.txt, as in the lecture
    fig = _figure((size, size))
    ax = fig.add_subplot()
    ax.imshow(table, cmap="Blues")
    dark = table > 0.55 * table.max()   # white text there, dark gray elsewhere: readable
    for i in range(V):   # V**2 text labels: a loop per cell is matplotlib's only way
        for j in range(V):
            color = "white" if dark[i, j] else "dimgray"
            ax.text(j, i, itos[i] + itos[j], ha="center", va="bottom", color=color, fontsize=9)
            ax.text(j, i, labels[i][j], ha="center", va="top", color=color, fontsize=8)
    ax.set_title(f"bigram {what}: row = previous character, column = next character")
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_loss_curve(model: Any) -> Any:
    """Draw ``model.history``, the training loss of every step, against the step.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        If the model has no history.
    DependencyError
        If matplotlib is not installed.
    """
    history = list(getattr(model, "history", []))
    if not history and getattr(model, "kind", None) == "counts":
        raise DataError("a count model is counted, not trained, so it has no loss curve: plot "
                        "its table instead (plot_bigrams, or 'minibigram plot' without "
                        "--loss-curve).")
    if not history:
        raise DataError("the model has no loss history (it was trained for 0 steps): train it "
                        "for at least one step, or plot its table instead (plot_bigrams).")
    fig = _figure((7.0, 4.5))
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(history) + 1), history, marker="." if len(history) < 50 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (mean NLL + L2)")
    ax.set_title(f"training loss over {len(history)} steps")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def save_figure(fig: Any, path: PathLike) -> None:
    """Write ``fig`` to ``path`` atomically; the format follows the file extension.

    Like model files, it is written by :func:`~minibigram.model.atomic_write`, so a
    failed save leaves any previous file intact.

    Raises
    ------
    SettingsError
        If matplotlib cannot write files with that extension.
    FileAccessError
        If the file cannot be written.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    formats = fig.canvas.get_supported_filetypes()
    if ext not in formats:
        raise SettingsError(f"cannot draw to {path}: give a file name ending in one of "
                            f".{', .'.join(sorted(formats))} (e.g. .png).")

    def write(f: BinaryIO) -> None:
        with warnings.catch_warnings():
            # A character the font lacks is drawn as a box; that is not worth a warning line.
            warnings.filterwarnings("ignore", message="Glyph .* missing from")
            fig.savefig(f, format=ext, dpi=100)

    atomic_write(path, write)
