"""The library's plots (minibigram.plot): the labelled bigram table and the loss curve."""


import numpy as np
import pytest

from minibigram import (
    BigramModel,
    CountModel,
    DataError,
    NGramModel,
    SettingsError,
    bigram_counts,
    bigrams,
)
from minibigram.plot import MAX_PLOT_CHARS, bigram_table, plot_bigrams, plot_loss_curve, save_figure

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def model():
    return BigramModel.fit(["anna", "bob", "zoë", "ann marie"], steps=5, lr=5.0)


def test_table_image_is_the_probability_table_and_every_cell_is_labelled(model):
    fig = plot_bigrams(model)
    table, pairs, values, what = bigram_table(model)
    V = model.V
    P = model.probs()
    assert what == "probabilities P[j | i]"
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), P.astype(np.float64))
    itos = ["\u2423" if c == " " else c for c in model.vocab.itos]   # spaces shown as ␣
    assert pairs == [[a + b for b in itos] for a in itos]
    assert np.allclose([[float("0" + v) for v in row] for row in values], P, atol=5e-4)
    # The label layer: ink above the middle (the bigram) and below it (the value) of every
    # cell, and nowhere else than in cells.
    labels = fig.axes[0].images[1].get_array()
    cell = labels.shape[0] // V
    assert labels.shape == (V * cell, V * cell, 4) and cell == 60
    ink = labels[:, :, 3].reshape(V, cell, V, cell)
    assert (ink[:, : cell // 2].max(axis=(1, 3)) > 128).all()
    assert (ink[:, cell // 2 + 1:].max(axis=(1, 3)) > 128).all()


def test_the_lecture_table_of_counts(names):
    """The lecture's figure: cell (".", "a") reads ".a" and 4410, ("a", ".") "a." and 6640."""
    m = CountModel.fit(names, context=1)
    table, pairs, values, what = bigram_table(m)
    a = m.vocab.stoi["a"]
    assert (pairs[0][a], values[0][a], pairs[a][0], values[a][0]) == (".a", "4410", "a.", "6640")
    assert what == "counts N[i, j]" and table.sum() == 228146   # the lecture's bigram count
    fig = plot_bigrams(m)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), table)
    assert fig.axes[0].images[1].get_array().shape == (27 * 60, 27 * 60, 4)   # the lecture's size
    assert len(fig.axes[0].texts) == 0   # no text artist per cell


def test_count_model_shows_its_counts():
    words = ["anna", "bob", "zoë"]
    m = CountModel.fit(words, context=1)
    vocab = m.vocab
    N = bigram_counts(*bigrams(words, vocab), len(vocab))
    assert sum(bigram_table(m)[2], []) == [str(n) for n in N.ravel()]
    with pytest.raises(DataError, match="counted, not trained"):
        plot_loss_curve(m)


@pytest.mark.parametrize("encoding", ["joint", "concat"])
def test_ngram_model_with_one_character_of_context(encoding):
    words = ["anna", "bob", "zoë"]
    m = NGramModel.fit(words, context=1, encoding=encoding, steps=3)
    values = [float("0" + t) for t in sum(bigram_table(m)[2], [])]
    P = m.table()
    assert np.allclose(values, P.ravel(), atol=5e-4)


def alphabet_model(V):
    """A count model over V characters: '.', '$' (mathtext's sign), then printable ones."""
    chars = [chr(c) for c in range(0x21, 0x250) if chr(c).isprintable() and chr(c) != "."]
    return CountModel.fit(["".join(chars[: V - 1])], context=1)


def test_large_alphabets_are_a_heat_map_with_the_characters_on_the_edges():
    m = alphabet_model(100)
    fig = plot_bigrams(m)
    ax = fig.axes[0]
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (100, 100)
    itos = m.vocab.itos
    assert [t.get_text() for t in ax.get_xticklabels()] == itos
    assert [t.get_text() for t in ax.get_yticklabels()] == itos
    assert len(plot_bigrams(alphabet_model(66)).axes[0].images) == 2   # still labelled
    with pytest.raises(SettingsError, match=f"more than the {MAX_PLOT_CHARS} .* at most"):
        plot_bigrams(alphabet_model(MAX_PLOT_CHARS + 1))
    assert MAX_PLOT_CHARS == 200


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


def test_unknown_image_format(tmp_path, model):
    with pytest.raises(SettingsError, match=r"give a file name ending in one of .*\.png"):
        save_figure(plot_loss_curve(model), tmp_path / "loss.xyz")
    assert list(tmp_path.iterdir()) == []


def test_the_plot_labels_show_the_boundary_symbol():
    pytest.importorskip("matplotlib")
    from minibigram.plot import bigram_table

    m = CountModel.fit(["a.b", "ab"])
    _, pairs, values, _ = bigram_table(m)
    V = m.V
    dot, a = m.vocab.stoi["."], m.vocab.stoi["a"]
    assert pairs[0][a] == "\u23cea" and pairs[a][dot] == "a." and pairs[dot][0] == ".\u23ce"
    assert values[0][a] == "2" and values[a][dot] == "1" and len(pairs) == V
