"""Issue 17: the boundary is not a character of the data.

A word is a line, so it may hold any character but a line break, '.' included; the
boundary (id 0) is the line break. It is shown as '.' when the data has no '.', as
'⏎' when it does. The names give exactly the numbers they gave when '.' was the
boundary, and model files written in that format still load.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import minibigram as mb
from minibigram import BigramModel, CountModel, DataError, ModelFileError, NGramModel, Vocabulary
from minibigram.sampling import adjust_probs
from minibigram.vocab import BOUNDARY_TEXT, boundary_symbol

DOTTED = ["St. Louis", "a.b@example.org", "Jr.", "emma", "...", "x.y.z"]


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=180)


def pairs_by_hand(words, stoi):
    """The (context, target) ids of every word, read as boundary + w + boundary, by a loop."""
    out = []
    for w in words:
        ids = [0] + [stoi[c] for c in w] + [0]
        out += list(zip(ids[:-1], ids[1:]))
    return out


# --- the vocabulary ------------------------------------------------------------------------

def test_a_dot_is_a_character_and_the_boundary_shows_as_return_symbol():
    vocab = Vocabulary.from_words(DOTTED)
    assert vocab.itos[0] == vocab.boundary == "\u23ce" and "." in vocab.itos[1:]
    assert vocab.itos[1:] == sorted(set("".join(DOTTED)))
    assert vocab.stoi["."] == vocab.itos.index(".") > 0
    assert "boundary='⏎'" in repr(vocab)
    # the names keep the notebook's '.': id 0, shown as '.'
    names = Vocabulary.from_words(["emma", "ava"])
    assert names.itos[0] == mb.BOUNDARY == "." and names.stoi["."] == 0


def test_the_display_symbol_is_never_a_character_of_the_data():
    assert boundary_symbol("ab") == "."
    assert boundary_symbol("a.") == "\u23ce"
    assert boundary_symbol(".\u23ce") == "\u21b5"
    assert boundary_symbol(".\u23ce\u21b5\u00b6\ue000") == "\ue001"
    for chars in ("ab", "a.", ".\u23ce", ".\u23ce\u21b5\u00b6"):
        vocab = Vocabulary(chars)
        assert vocab.itos[0] not in vocab.itos[1:]


def test_encoding_maps_every_line_break_to_the_boundary():
    vocab = Vocabulary.from_words(DOTTED)
    text = BOUNDARY_TEXT + "Jr." + "\r\n"[1] + "x.y.z" + "\u2028"
    ids = vocab.encode(text)
    assert ids[0] == ids[4] == ids[-1] == 0 and vocab.decode(ids[1:4]) == "Jr."
    assert vocab.encode(vocab.decode(ids)).tolist() == ids.tolist()   # '⏎' encodes to 0
    # the words of a stream of ids: split at the boundary, never at '.'
    stream = np.concatenate([vocab.encode(w).tolist() + [0] for w in DOTTED])
    assert vocab.decode_words(stream) == DOTTED


def test_a_line_break_cannot_be_part_of_a_word():
    with pytest.raises(DataError, match=r"word 2 \('a\\nb'\) contains a line break"):
        Vocabulary.from_words(["ab", "a\nb"])
    with pytest.raises(DataError, match="line break"):
        Vocabulary("a\u2028")
    m = CountModel.fit(DOTTED)
    with pytest.raises(DataError, match="contains the line break '\\\\r'"):
        m.nll(["St.\rLouis"])
    assert m.log_prob("St.\rLouis", skip_unknown=True) == m.log_prob("St.Louis")
    # a word holding the display symbol would be split by encoding: refused, named
    with pytest.raises(DataError, match="'⏎' shows the boundary"):
        mb.bigrams(["a\u23ceb"], m.vocab)
    with pytest.raises(DataError, match="'⏎' shows the boundary"):
        mb.ngrams(["a\u23ceb"], m.vocab, 3)


# --- examples and counts --------------------------------------------------------------------

@pytest.mark.parametrize("K", [1, 2, 3])
def test_examples_of_dotted_words_equal_a_loop(K):
    vocab = Vocabulary.from_words(DOTTED)
    X, ys = mb.ngrams(DOTTED, vocab, K)
    expected = []
    for w in DOTTED:
        ids = [0] * K + [vocab.stoi[c] for c in w] + [0]
        expected += [(tuple(ids[t:t + K]), ids[t + K]) for t in range(len(w) + 1)]
    assert [(tuple(x), y) for x, y in zip(X.tolist(), ys.tolist())] == expected


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


# --- the names: every number as before -----------------------------------------------------

def test_names_give_the_counts_of_the_dot_boundary(names):
    """The counts of '.' + w + '.', by a Python loop over the old definition, are today's."""
    vocab = Vocabulary.from_words(names)
    assert vocab.itos == [".", *"abcdefghijklmnopqrstuvwxyz"]
    N = np.zeros((27, 27), dtype=np.int64)
    for w in names:
        s = "." + w + "."
        for a, b in zip(s, s[1:]):
            N[vocab.stoi[a], vocab.stoi[b]] += 1
    assert (mb.bigram_counts(*mb.bigrams(names, vocab), 27) == N).all()
    assert (mb.count_bigrams(names).N == N).all()
    assert N.sum() == 228146 and N[0, vocab.stoi["a"]] == 4410


def test_names_results_unchanged(names):
    # the figures pinned since issue 1 (test_torchrng, test_ngram, test_newton)
    assert round(CountModel.fit(names, smoothing=1).nll(names), 6) == 2.454577
    m = BigramModel.fit(names, steps=100)
    assert m.history[99] == pytest.approx(2.4901304, abs=1e-6)
    assert round(BigramModel.fit(names, solver="newton").final_loss, 7) == 2.4803990
    assert m.sample(5) == BigramModel.fit(names, steps=100).sample(5)
    assert all("." not in s for s in m.sample(50))


# --- model files ---------------------------------------------------------------------------

def write_old_file(path, kind, settings, itos, history, **arrays):
    """A model file as minibigram wrote it before issue 17, by hand: np.savez of the header
    JSON, itos with '.' first, the history and the kind's arrays."""
    meta = json.dumps({"format": "minibigram-1", "kind": kind, "settings": settings})
    np.savez(path, meta=np.array(meta), itos=np.array(itos),
             history=np.asarray(history, dtype=np.float64), **arrays)


def test_a_model_file_in_the_old_format_loads_and_gives_the_same_results(tmp_path, names):
    itos = [".", *"abcdefghijklmnopqrstuvwxyz"]
    W = np.random.default_rng(0).standard_normal((27, 27)).astype(np.float32)   # (V, V)
    settings = {"solver": "gd", "steps": 2, "lr": 50.0, "reg": 0.01, "seed": 2147483647,
                "dtype": "float32", "engine": "counts", "init": "torch",
                "num_examples": 228146, "final_loss": 3.1}
    write_old_file(tmp_path / "old.npz", "bigram", settings, itos, [3.5, 3.3], W=W)
    m = mb.load_model(tmp_path / "old.npz")
    assert isinstance(m, BigramModel) and m.vocab.itos == itos and m.history == [3.5, 3.3]
    # the same numbers as the model made from the same arrays, and as the softmax by hand
    P = np.exp(W.astype(np.float64))
    P /= P.sum(axis=1, keepdims=True)                                   # (V, V)
    by_hand = -np.mean([np.log(P[a, b]) for a, b in pairs_by_hand(names[:200], m.vocab.stoi)])
    assert m.nll(names[:200]) == pytest.approx(by_hand, rel=1e-6)
    fresh = BigramModel(W, Vocabulary(itos[1:]), settings=settings)
    assert m.sample(20, seed=3) == fresh.sample(20, seed=3)
    assert m.nll(names[:200]) == fresh.nll(names[:200])
    # written again, the file is the same model
    m.save(tmp_path / "again.npz")
    assert np.array_equal(mb.load_model(tmp_path / "again.npz").W, W)

    # a count model and a context network in the old format
    counts = CountModel.fit(names, context=2)
    write_old_file(tmp_path / "c.npz", "counts", {"smoothing": 1.0, "context": 2}, itos, [],
                   N=counts.N, contexts=counts.contexts)
    assert mb.load_model(tmp_path / "c.npz").nll(names[:300]) == counts.nll(names[:300])
    net = NGramModel.fit(names, context=2)
    write_old_file(tmp_path / "n.npz", "ngram", {"context": 2, "encoding": "joint"}, itos,
                   net.history, W=net.W, contexts=net.contexts)
    assert mb.load_model(tmp_path / "n.npz").nll(names[:300]) == net.nll(names[:300])


def test_dotted_model_files_store_the_display_symbol_and_stay_unambiguous(tmp_path):
    m = BigramModel.fit(DOTTED, steps=3, lr=5.0)
    m.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:
        assert z["itos"][0] == "\u23ce" and "." in z["itos"][1:].tolist()
        assert json.loads(str(z["meta"]))["format"] == "minibigram-1"
    loaded = mb.load_model(tmp_path / "m.npz")
    assert loaded.vocab == m.vocab and loaded.nll(DOTTED) == m.nll(DOTTED)
    # '.' first and '.' among the characters, or '⏎' first without '.': not written by us
    chars = sorted(set("".join(DOTTED)))
    W = np.zeros((len(chars) + 1,) * 2, np.float32)
    for itos in ([".", *chars], ["\u23ce", *[c for c in chars if c != "."]]):
        V = len(itos)
        write_old_file(tmp_path / "bad.npz", "bigram", {}, itos, [], W=W[:V, :V])
        with pytest.raises(ModelFileError, match="invalid vocabulary"):
            mb.load_model(tmp_path / "bad.npz")


def test_the_plot_labels_show_the_boundary_symbol():
    pytest.importorskip("matplotlib")
    from minibigram.plot import bigram_table

    m = CountModel.fit(["a.b", "ab"])
    _, pairs, values, _ = bigram_table(m)
    V = m.V
    dot, a = m.vocab.stoi["."], m.vocab.stoi["a"]
    assert pairs[0][a] == "\u23cea" and pairs[a][dot] == "a." and pairs[dot][0] == ".\u23ce"
    assert values[0][a] == "2" and values[a][dot] == "1" and len(pairs) == V


# --- the command line on dotted data -------------------------------------------------------

def test_train_score_sample_on_dotted_words(tmp_path):
    (tmp_path / "w.txt").write_text("St. Louis\na.b@example.org\nJr.\n", encoding="utf-8")
    r = run("train", "-d", "w.txt", "--steps", "20", "--lr", "5", "-n", "30", "-o", "m.npz",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = BigramModel.load(tmp_path / "m.npz")
    assert m.vocab.itos[0] == "\u23ce" and "." in m.vocab.itos
    samples = r.stdout.splitlines()[20:]
    assert samples == m.sample(30) and any("." in s for s in samples)
    assert all(set(s) <= set(m.vocab.itos[1:]) for s in samples)

    r = run("score", "-m", "m.npz", "--json", "St. Louis", "a.b@example.org", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    scores = [json.loads(line) for line in r.stdout.splitlines()]   # JSON Lines
    P = m.table()
    for s, w in zip(scores, ["St. Louis", "a.b@example.org"]):
        by_hand = sum(np.log(P[a, b]) for a, b in pairs_by_hand([w], m.vocab.stoi))
        assert s["log_prob"] == pytest.approx(by_hand, rel=1e-6)

    r = run("sample", "-m", "m.npz", "-n", "30", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines() == samples, r.stderr


# --- temperature 0 -------------------------------------------------------------------------

def test_temperature_zero_is_greedy_with_ties_to_the_lowest_id():
    P = np.array([[0.2, 0.5, 0.3], [0.4, 0.2, 0.4], [0.1, 0.45, 0.45]])
    np.testing.assert_array_equal(adjust_probs(P, 0), np.eye(3)[[1, 0, 1]])
    np.testing.assert_array_equal(adjust_probs(P, 0, top_k=2), np.eye(3)[[1, 0, 1]])
    with pytest.raises(mb.SettingsError, match=">= 0"):
        adjust_probs(P, -0.5)


@pytest.mark.parametrize("kind", ["bigram", "counts3"])
def test_greedy_words_follow_the_likeliest_character(names, kind):
    m = BigramModel.fit(names, steps=20) if kind == "bigram" else CountModel.fit(names, context=3)
    T, V, K = m.table(), m.V, m.K
    # by hand: from the all-boundary context, take the argmax until it is the boundary
    code, word = 0, ""
    while len(word) < 1000:
        t = int(np.argmax(T[code]))
        if t == 0:
            break
        word += m.vocab.itos[t]
        code = (code * V + t) % V**K
    for sampler in mb.SAMPLERS:
        assert m.sample(4, seed=1, sampler=sampler, temperature=0) == [word] * 4
    assert m.sample(3, seed=99, temperature=0) == [word] * 3


def test_temperature_zero_on_the_command_line(tmp_path):
    CountModel.fit(["ab", "ab", "b"]).save(tmp_path / "c.npz")   # . -> a -> b -> .
    r = run("sample", "-m", "c.npz", "-n", "3", "--temperature", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == CountModel.load(tmp_path / "c.npz").sample(
        3, temperature=0) == ["ab"] * 3


# --- repr ----------------------------------------------------------------------------------

def test_every_model_says_what_it_is_and_how_it_was_trained(names):
    words = names[:500]
    n = sum(len(w) + 1 for w in words)
    assert repr(BigramModel.fit(words, steps=3)) == (
        f"BigramModel(K=1, V=27; gd, 3 steps at lr 50, reg 0.01, float32; {n:,} examples, "
        f"final loss {BigramModel.fit(words, steps=3).final_loss:.4f})")
    newton = BigramModel.fit(words, solver="newton")
    assert repr(newton).startswith(f"BigramModel(K=1, V=27; newton, {len(newton.history)} "
                                   f"steps, reg 0.01, float32; {n:,} examples, final loss ")
    c = CountModel.fit(words, context=3, smoothing=0.5)
    assert repr(c) == (f"CountModel(K=3, V=27, {len(c.contexts):,} contexts; counted, "
                       f"smoothing 0.5; {n:,} examples, final loss {c.final_loss:.4f})")
    concat = NGramModel.fit(words, context=2, encoding="concat", steps=4)
    assert repr(concat).startswith("NGramModel(concat, K=2, V=27; newton, ")
    j = NGramModel.fit(words, context=2)
    assert repr(j).startswith(f"NGramModel(joint, K=2, V=27, {len(j.contexts)} contexts; ")
    assert repr(BigramModel(np.zeros((3, 3)), Vocabulary("ab"))) == (
        "BigramModel(K=1, V=3; no training record)")
