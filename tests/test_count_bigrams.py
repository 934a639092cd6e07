import numpy as np
import pytest

import minibigram as mb

TRICKY = ("\ufeff  Zoë  \r\n\n\n ana maria\t\nab\n\u2028x\u3000y  \r\n\nåsa\r\n"
          "\x0cbob\n   \nélise")                          # no final line break


def reference(words, vocab=None):
    vocab = vocab or mb.Vocabulary.from_words(words)
    return mb.bigram_counts(*mb.bigrams(words, vocab), len(vocab)), vocab


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 64, 1 << 20])
def test_stream_equals_in_memory_counts(tmp_path, chunk_bytes):
    # Chunks of 1, 2, 3 bytes split every multi-byte character and every line somewhere.
    path = tmp_path / "tricky.txt"
    path.write_bytes(TRICKY.encode("utf-8"))
    N, vocab = reference(mb.load_words(path))
    counts = mb.count_bigrams(path, chunk_bytes=chunk_bytes)
    assert counts.vocab == vocab
    np.testing.assert_array_equal(counts.N, N)
    assert counts.N.dtype == np.int64


@pytest.mark.parametrize("chunk_bytes", [100, 4096, 1 << 20])
def test_stream_equals_in_memory_counts_on_names(tmp_path, names, chunk_bytes):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(names) + "\n")
    N, vocab = reference(names)
    assert mb.count_bigrams(path, chunk_bytes=chunk_bytes) == mb.BigramCounts(N, vocab)


def test_iterable_of_lines(tmp_path):
    path = tmp_path / "tricky.txt"
    path.write_bytes(TRICKY.encode("utf-8"))
    N, vocab = reference(mb.load_words(path))
    with open(path, encoding="utf-8-sig") as f:              # lines keep their "\n"
        assert mb.count_bigrams(f, chunk_bytes=7) == mb.BigramCounts(N, vocab)
    assert mb.count_bigrams(mb.load_words(path)) == mb.BigramCounts(N, vocab)


def test_shards_add_up(tmp_path, names):
    shards = [names[:10000], names[10000:10001], names[10001:], ["zoë", "åsa"]]
    paths = []
    for i, shard in enumerate(shards):
        paths.append(tmp_path / f"shard{i}.txt")
        paths[-1].write_text("\n".join(shard), encoding="utf-8")
    parts = [mb.count_bigrams(p, chunk_bytes=4096) for p in paths]
    assert parts[0].vocab != parts[3].vocab                 # different alphabets still add
    total = parts[0] + parts[1] + parts[2] + parts[3]
    every = [w for s in shards for w in s]
    whole = tmp_path / "all.txt"
    whole.write_text("\n".join(every), encoding="utf-8")
    N, vocab = reference(every)
    assert total == mb.count_bigrams(whole) == mb.BigramCounts(N, vocab)
    assert sum(parts[1:], parts[0]) == total
    assert total.num_examples == sum(len(w) + 1 for w in every)


def test_given_vocabulary(names, tmp_path):
    vocab = mb.Vocabulary("abcdefghijklmnopqrstuvwxyzé")
    N, _ = reference(names[:50], vocab)
    counts = mb.count_bigrams(names[:50], vocab=vocab)
    assert counts.vocab == vocab and (counts.N == N).all() and counts.N[:, -1].sum() == 0
    with pytest.raises(mb.DataError, match="'Z' .* not in the given vocabulary"):
        mb.count_bigrams(["abc", "Zed"], vocab=vocab)


def test_bad_input(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"anna\nbob\nmr\x00x\n")
    with pytest.raises(mb.DataError, match="line 3: a NUL character"):
        mb.count_bigrams(bad, chunk_bytes=2)
    bad.write_bytes(b"anna\nbob\n\xff\xfe\n")
    with pytest.raises(mb.DataError, match="not UTF-8 .* line 3"):
        mb.count_bigrams(bad, chunk_bytes=5)
    with pytest.raises(mb.FileAccessError, match="does not exist"):
        mb.count_bigrams(tmp_path / "missing.txt")
    with pytest.raises(mb.FileAccessError, match="folder"):
        mb.count_bigrams(tmp_path)
    with pytest.raises(mb.SettingsError, match="chunk_bytes"):
        mb.count_bigrams(["a"], chunk_bytes=0)
    with pytest.raises(mb.DataError, match="lines of str"):
        mb.count_bigrams([b"abc"])
