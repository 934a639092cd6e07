"""Tests of minibigram.examples."""

import numpy as np

from minibigram import Vocabulary, bigram_counts, bigrams


def test_bigrams_count_matches_notebook(names):
    vocab = Vocabulary.from_words(names)
    xs, ys = bigrams(names, vocab)
    assert len(xs) == len(ys) == 228146 == sum(len(w) + 1 for w in names)
    assert xs.dtype == np.int64
    # emma: .e em mm ma a.
    assert vocab.decode(xs[:5]) == ".emma" and vocab.decode(ys[:5]) == "emma."


def test_bigrams_equal_a_python_loop():
    words = ["ab", "b", "cab", "a"]
    vocab = Vocabulary.from_words(words)
    expected = [(vocab.stoi[a], vocab.stoi[b]) for w in words
                for a, b in zip("." + w, w + ".")]
    xs, ys = bigrams(words, vocab)
    assert list(zip(xs.tolist(), ys.tolist())) == expected


def test_bigram_counts_weighted():
    xs, ys = np.array([0, 1, 1]), np.array([1, 0, 0])
    N = bigram_counts(xs, ys, 2)
    assert N.tolist() == [[0, 1], [2, 0]]
    Nw = bigram_counts(xs, ys, 2, weights=np.array([0.5, 1.0, 2.0]))
    assert Nw.tolist() == [[0, 0.5], [3.0, 0]]
