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
from .safewrite import atomic_write
from .words import PathLike

PLOT_INSTALL = ('pip install matplotlib (or, in a minibigram checkout, pip install ".[plot]"; '
                'minibigram is not on PyPI)')


#: The largest alphabet :func:`plot_bigrams` draws: its rows are then 10 px high.
MAX_PLOT_CHARS = 200
_TABLE_PX = 2000     # the table's side at most (4 Mpx): time and memory stay bounded
_CELL_PX = 60        # the lecture's cell: 27 characters in a 16-inch figure
_LABELLED_PX = 30    # the smallest cell that still holds its two labels legibly (4.5 pt)
_DPI = 100           # save_figure's resolution
_MARGIN, _TOP = 30, 70   # pixels around the table, and above it for the title


def _figure(figsize: tuple[float, float]) -> Any:
    """A matplotlib Figure on an Agg canvas (no pyplot, no screen, no global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise DependencyError(f"plotting needs matplotlib, which is not installed: run "
                              f"{PLOT_INSTALL}.") from None
    fig = Figure(figsize=figsize, dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _label(ch: str) -> str:
    # A space would be invisible in a cell label; show it as the open-box sign.
    return "\u2423" if ch == " " else ch


def bigram_table(model: Any) -> tuple[np.ndarray, list[list[str]], list[list[str]], str]:
    """The table :func:`plot_bigrams` draws, and the two labels of every cell.

    Returns
    -------
    table : ndarray, shape (V, V)
        Probabilities ``P[i, j]`` (float64), or a CountModel's counts ``N[i, j]``.
    pairs : list of V lists of V str
        ``pairs[i][j]`` is character ``i`` then character ``j`` (a space shown as ``␣``, the
        boundary as ``vocab.itos[0]``: ``"."``, or ``"⏎"`` when the data holds ``"."``).
    values : list of V lists of V str
        The count, or the probability with three digits and no leading 0 (``".123"``;
        ``"1"`` from 0.9995 on).
    what : str
        ``"counts N[i, j]"`` or ``"probabilities P[j | i]"``.

    Raises
    ------
    DataError
        If the model's contexts are longer than one character.
    """
    V, K = model.V, getattr(model, "K", 1)
    if K != 1:
        raise DataError(f"the model predicts from {K} previous characters, but the table has "
                        "one previous character per row: plot a model trained with a context "
                        "of 1.")
    if getattr(model, "kind", None) == "counts":   # the count model: counts, not P
        table, what = np.zeros((V, V), dtype=model.N.dtype), "counts N[i, j]"
        table[model.contexts[:, 0]] = model.N      # (C, V) rows of the contexts seen
        values = [[f"{n:.0f}" for n in row] for row in table.tolist()]
    else:   # a network with K = 1: its table of every context is (V, V)
        table = np.asarray(model.table(), dtype=np.float64)   # (V, V)
        what = "probabilities P[j | i]"
        # ".123" rather than "0.123": three digits fit the cell
        values = [[f"{p:.3f}"[1:] if p < 0.9995 else "1" for p in row] for row in table.tolist()]
    itos = [_label(c) for c in model.vocab.itos]
    pairs = [[a + b for b in itos] for a in itos]
    return table, pairs, values, what


def _text_images(texts: list[list[str]], points: float) -> dict[str, tuple[np.ndarray, int]]:
    """Each distinct string rendered once: its glyph coverage, (h, w) uint8 with 255 = ink,
    and how many of its rows lie below the baseline.

    matplotlib's own font (DejaVu Sans) through FreeType, as its Text artists draw; a
    character the font lacks becomes its box, without the warning line.
    """
    from matplotlib import font_manager

    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
    font.set_size(points, _DPI)
    images = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        for row in texts:
            for text in row:
                if text not in images:
                    font.set_text(text, 0.0)
                    font.draw_glyphs_to_bitmap(antialiased=True)
                    image = np.array(font.get_image())          # (h, w) copy: font reuses it
                    images[text] = image, round(font.get_descent() / 64)
    return images


def _stamp(ink: np.ndarray, image: np.ndarray, top: int, center: int) -> None:
    """Draw ``image`` into ``ink`` with its top row at ``top``, centred on column ``center``."""
    h, w = image.shape
    left = center - w // 2
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, ink.shape[0]), min(left + w, ink.shape[1])
    if r1 > r0 and c1 > c0:
        region = ink[r0:r1, c0:c1]
        np.maximum(region, image[r0 - top:r1 - top, c0 - left:c1 - left], out=region)


def plot_bigrams(model: Any) -> Any:
    """Draw the V×V bigram table, each cell labelled with its bigram and value.

    Row ``i``, column ``j`` is the pair "character ``i`` then character ``j``",
    as in the makemore lecture's ``plt.imshow(N)`` figure: the bigram above the
    middle of its cell, the value below, white on the darkest cells.

    Parameters
    ----------
    model : BigramModel, CountModel or NGramModel with a context of 1
        A :class:`~minibigram.BigramModel` (or an NGramModel) shows its
        probabilities ``P[i, j] = softmax(W)[i, j]`` (each row sums to 1); a
        :class:`~minibigram.CountModel` shows its counts ``N[i, j]``, the
        lecture's table (see :func:`bigram_table`).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure` (at 100 dpi). Its axes hold the table itself
        (``images[0]``, colour map "Blues") and the labels drawn over it (``images[1]``,
        RGBA, one pixel per output pixel).

    Raises
    ------
    DataError
        If the model's contexts are longer than one character.
    SettingsError
        If the alphabet has more than :data:`MAX_PLOT_CHARS` characters.
    DependencyError
        If matplotlib is not installed.

    Notes
    -----
    Cells are 60 px (the lecture's 16-inch figure for 27 characters) while the table
    fits in 2,000 px, then ``2000 // V`` px, with the label sizes (9 and 8 pt at 60 px)
    scaled alike, down to 30 px (66 characters). The labels are rendered once per
    distinct string with matplotlib's font and drawn as one image over the table, not
    as ``2 V**2`` text artists, so time and memory are bounded by the 4 Mpx picture.
    From 67 characters on a cell is too small for two legible labels: the table is
    drawn as a heat map with the characters along its left and top edges instead (the
    figure then has one image). Up to :data:`MAX_PLOT_CHARS` characters (10 px rows).
    """
    V = model.V
    if V > MAX_PLOT_CHARS:
        raise SettingsError(f"the model has {V} characters, more than the {MAX_PLOT_CHARS} "
                            "whose table can be drawn legibly in seconds: plot a model of at "
                            f"most {MAX_PLOT_CHARS} characters (train it on words with fewer "
                            "distinct characters).")
    table, pairs, values, what = bigram_table(model)
    cell = min(_CELL_PX, _TABLE_PX // V)
    side = V * cell                                         # the table in pixels
    width, height = side + 2 * _MARGIN, side + _MARGIN + _TOP
    fig = _figure((width / _DPI, height / _DPI))
    ax = fig.add_axes((_MARGIN / width, _MARGIN / height, side / width, side / height))
    ax.imshow(table, cmap="Blues", interpolation="nearest")
    ax.set_title(f"bigram {what}: row = previous character, column = next character")
    if cell < _LABELLED_PX:   # too small for labels: the characters along the edges instead
        itos = [row[0][:-1] for row in pairs]               # pairs[i][0] is itos[i] + itos[0]
        ticks = np.arange(V)
        points = 0.55 * cell * 72 / _DPI                    # a character as high as 0.55 cell
        ax.set_xticks(ticks, itos, fontsize=points, parse_math=False)
        ax.set_yticks(ticks, itos, fontsize=points, parse_math=False)
        ax.tick_params(length=0, pad=2, labeltop=True, labelbottom=False)
        return fig
    # The labels: glyph coverage per pixel, white on the darkest cells, dark gray elsewhere.
    ink = np.zeros((side, side), dtype=np.uint8)            # (side, side)
    above = _text_images(pairs, 9 * cell / _CELL_PX)
    below = _text_images(values, 8 * cell / _CELL_PX)
    drop = max(d for _, d in above.values())                # the deepest descender
    for i in range(V):
        middle = i * cell + cell // 2
        for j in range(V):
            center = j * cell + cell // 2
            image, d = above[pairs[i][j]]                   # on a common baseline, as text
            _stamp(ink, image, middle - 1 - drop - (len(image) - d), center)
            _stamp(ink, below[values[i][j]][0], middle + 1, center)
    dark = table > 0.55 * table.max()                       # (V, V) white text there
    rgb = np.where(dark[:, :, None], np.uint8(255), np.uint8(105))   # (V, V, 3) dimgray 105
    labels = np.empty((side, side, 4), dtype=np.uint8)      # (side, side, 4) RGBA
    labels[:, :, :3] = rgb.repeat(cell, axis=0).repeat(cell, axis=1)
    labels[:, :, 3] = ink
    ax.imshow(labels, interpolation="nearest", extent=(-0.5, V - 0.5, V - 0.5, -0.5))
    ax.axis("off")
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

    Like model files, it is written by :func:`~minibigram.safewrite.atomic_write`, so a
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
