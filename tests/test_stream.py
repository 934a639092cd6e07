"""Tests of minibigram.stream: count_bigrams and count_contexts equal the in-memory counts."""

import os
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minibigram as mb
from minibigram import Vocabulary

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
    with pytest.raises(mb.DataError, match="line 3 holds a NUL character"):
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


CONTEXT_TRICKY = ("\ufeff  Zoë  \r\n\n\n ana maria\t\nab\n\u2028x\u3000y  \r\n\nåsa\r\n"
                  "\x0cbob\n   \n中文\U0001f600\nélise")                  # no final line break


def context_reference(words, K, vocab=None):
    """The in-memory gold: ngrams, then context_counts, as the n-gram models count."""
    vocab = vocab or mb.Vocabulary.from_words(words)
    contexts, N = mb.context_counts(*mb.ngrams(words, vocab, K), len(vocab))
    return mb.ContextCounts(N, vocab, contexts=contexts)


@pytest.mark.parametrize("K", [1, 2, 3, 5])
@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 1 << 20])
def test_contexts_stream_equals_in_memory_counts(tmp_path, K, chunk_bytes):
    # Chunks of 1-3 bytes fall inside every multi-byte character and every line somewhere.
    path = tmp_path / "tricky.txt"
    path.write_bytes(CONTEXT_TRICKY.encode("utf-8"))
    gold = context_reference(mb.load_words(path), K)
    counts = mb.count_contexts(path, K, chunk_bytes=chunk_bytes)
    assert counts == gold
    assert counts.N.dtype == np.int64 and counts.contexts.dtype == np.int64
    assert counts.context == K and counts.num_examples == gold.N.sum()


@pytest.mark.parametrize("K", [2, 3])
def test_contexts_stream_equals_in_memory_counts_on_names(tmp_path, names, K):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(names) + "\n")
    assert mb.count_contexts(path, K, chunk_bytes=4096) == context_reference(names, K)


def test_k1_is_count_bigrams(names):
    # K = 1 contexts are the characters that occur; their rows are count_bigrams' rows.
    counts = mb.count_contexts(names, 1)
    bigrams = mb.count_bigrams(names)
    np.testing.assert_array_equal(counts.N, bigrams.N[counts.contexts[:, 0]])


def test_iterable_of_lines_and_given_vocab(tmp_path):
    path = tmp_path / "tricky.txt"
    path.write_bytes(CONTEXT_TRICKY.encode("utf-8"))
    words = mb.load_words(path)
    vocab = mb.Vocabulary(set("".join(words)) | {"q"})          # a larger alphabet than seen
    with open(path, encoding="utf-8-sig") as f:
        assert mb.count_contexts(f, 2, vocab=vocab, chunk_bytes=5) == context_reference(words, 2,
                                                                                       vocab)


def test_progress_reports_every_byte(tmp_path, names):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(names) + "\n")
    seen = []
    mb.count_contexts(path, 2, chunk_bytes=10_000, progress=seen.append)
    assert seen == sorted(seen) and len(seen) > 1 and seen[-1] == os.path.getsize(path)


@pytest.mark.parametrize("K", [1, 3])
def test_shards_add_up_to_the_whole_with_merged_alphabets(K):
    a_words, b_words = ["ab", "ba", "zoë"], ["中文", "ab", "q"]
    a, b = mb.count_contexts(a_words, K), mb.count_contexts(b_words, K)
    assert a.vocab != b.vocab
    assert a + b == context_reference(a_words + b_words, K)
    assert b + a == a + b


def test_adding_different_context_lengths_is_refused():
    with pytest.raises(mb.DataError, match="context length 2 and 3"):
        mb.count_contexts(["ab"], 2) + mb.count_contexts(["ab"], 3)


def test_not_utf8_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("anna\nbob\nzoë\n".encode("latin-1"))
    with pytest.raises(mb.DataError, match=r"latin1\.txt is not UTF-8 text .*at line 3"):
        mb.count_contexts(path, 2, chunk_bytes=2)


def test_a_dot_in_a_word_is_counted_as_a_character(tmp_path):
    path = tmp_path / "dots.txt"
    path.write_text("anna\nbob\nst. john\n")
    words = mb.load_words(path)
    vocab = mb.Vocabulary.from_words(words)
    contexts, N = mb.context_counts(*mb.ngrams(words, vocab, 2), len(vocab))
    for chunk_bytes in (1, 3, 1 << 20):
        counts = mb.count_contexts(path, 2, chunk_bytes=chunk_bytes)
        assert counts.vocab == vocab and vocab.itos[:3] == ["\u23ce", " ", "."]
        assert (counts.contexts == contexts).all() and (counts.N == N).all()


def test_unknown_character_with_a_given_vocab():
    with pytest.raises(mb.DataError, match="'z' .* is not in the given vocabulary"):
        mb.count_contexts(["ab", "az"], 2, vocab=mb.Vocabulary("ab"))


@pytest.mark.parametrize("context", [0, -1, 1.5, True])
def test_bad_context_length(context):
    with pytest.raises(mb.SettingsError, match="context length must be a whole number"):
        mb.count_contexts(["ab"], context)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(mb.FileAccessError, match="does not exist"):
        mb.count_contexts(tmp_path / "nope.txt", 2)
    with pytest.raises(mb.FileAccessError, match="is a folder"):
        mb.count_contexts(tmp_path, 2)


# Words of ASCII, 2-, 3- and 4-byte UTF-8 characters and inner spaces; lines padded with
# white space, blank lines and Windows line endings, cut into chunks of 1 to 16 bytes.
_CHARS = st.sampled_from(list("abz -é中\U0001f600ß"))
_LINE = st.tuples(st.sampled_from(["", " ", "\t", "\u3000"]),
                  st.text(_CHARS, min_size=0, max_size=8),
                  st.sampled_from(["", " ", "\t "]),
                  st.sampled_from(["\n", "\r\n", "\u2028"]))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_LINE, min_size=1, max_size=12), K=st.integers(1, 4),
       chunk_bytes=st.integers(1, 16), final_break=st.booleans())
def test_property_stream_equals_in_memory(lines, K, chunk_bytes, final_break):
    text = "".join(a + w + b + end for a, w, b, end in lines)
    if not final_break:
        text = text.rstrip("\n")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "words.txt")
        with open(path, "wb") as f:
            f.write(text.encode("utf-8"))
        try:
            words = mb.load_words(path)
        except mb.DataError:                                   # only blank lines: no words
            words = []
        counts = mb.count_contexts(path, K, chunk_bytes=chunk_bytes)
    if words:
        assert counts == context_reference(words, K)
    else:
        assert counts.num_examples == 0 and len(counts.contexts) == 0


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(st.sampled_from(list("abé中\U0001f600")), min_size=1,
                              max_size=6), min_size=2, max_size=10),
       cut=st.integers(1, 9), K=st.integers(1, 3))
def test_property_any_split_adds_up(words, cut, K):
    cut = min(cut, len(words) - 1)
    whole = mb.count_contexts(words, K)
    assert mb.count_contexts(words[:cut], K) + mb.count_contexts(words[cut:], K) == whole


def test_streaming_counts_report_progress(tmp_path):
    from minibigram import count_bigrams

    path = tmp_path / "w.txt"
    path.write_text("anna\nbob\ncara\nzoë\n" * 50, encoding="utf-8")
    seen = []
    counts = count_bigrams(path, chunk_bytes=64, progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == path.stat().st_size
    assert np.array_equal(counts.N, count_bigrams(path).N)


DOTTED = ["St. Louis", "a.b@example.org", "Jr.", "emma", "...", "x.y.z"]


@pytest.mark.parametrize("chunk_bytes", [1, 3, 1 << 20])
def test_stream_counts_of_dotted_words_equal_in_memory(tmp_path, chunk_bytes):
    path = tmp_path / "dots.txt"
    path.write_text("\n".join(DOTTED) + "\n", encoding="utf-8")
    vocab = Vocabulary.from_words(DOTTED)
    counts = mb.count_bigrams(path, chunk_bytes=chunk_bytes)
    assert counts.vocab == vocab
    assert (counts.N == mb.bigram_counts(*mb.bigrams(DOTTED, vocab), len(vocab))).all()
    c3 = mb.count_contexts(path, 3, chunk_bytes=chunk_bytes)
    contexts, N = mb.context_counts(*mb.ngrams(DOTTED, vocab, 3), len(vocab))
    assert (c3.contexts == contexts).all() and (c3.N == N).all()


def test_counts_of_shards_add_across_boundary_symbols():
    # one shard shows the boundary as '.', the other as '⏎': the sum is the whole's counts
    a, b = mb.count_bigrams(["anna", "bob"]), mb.count_bigrams(["a.b", "bob."])
    assert a.vocab.itos[0] == "." and b.vocab.itos[0] == "\u23ce"
    whole = mb.count_bigrams(["anna", "bob", "a.b", "bob."])
    assert a + b == whole and b + a == whole
