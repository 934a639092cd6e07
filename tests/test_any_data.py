"""Your own data, any size: streams that keep their promise, TSV that survives any word,
any count of samples, deep contexts, and defaults that say how far from the optimum."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from conftest import mixed_words

import minibigram as mb
from minibigram.evaluate import Scores
from minibigram.sampling import (
    BLOCK_WORDS,
    SAMPLERS,
    adjust_probs,
    sample_blocks,
    sample_bulk,
    sample_one_at_a_time,
    sample_words,
)
from minibigram.stream import count_stream
from minibigram.torchrng import TorchGenerator, draw_torch, draw_torch_cdf, draw_torch_mkl
from minibigram.words import escape_bytes, escape_tsv, unescape_tsv

DRAWS = {"torch-mkl": draw_torch_mkl, "torch": draw_torch, "torch-cdf": draw_torch_cdf}


def run(*args, cwd, stdin=None, env=None, timeout=60):
    """The CLI in a subprocess; ``stdin`` bytes, or a file object."""
    kwargs = {"input": stdin} if isinstance(stdin, bytes) or stdin is None else {"stdin": stdin}
    args = [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run([sys.executable, "-m", "minibigram", *args],
                          capture_output=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})}, **kwargs)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A folder with a bigram model of the names, m.npz, and a file of 3,000 names."""
    folder = tmp_path_factory.mktemp("anydata")
    mb.BigramModel.fit(steps=5).save(folder / "m.npz")
    names = mb.load_words()
    (folder / "names3k.txt").write_text("\n".join(names[:3000]) + "\n", encoding="utf-8")
    return folder


# --- 1. score writes what it scored before an error; the unknown-character policy

def test_score_prints_every_result_before_an_unknown_word_then_names_its_line(ws):
    lines = mb.load_words()[:3000]
    lines[2499] = "zoë"
    data = ("\n".join(lines) + "\n").encode()
    r = run("score", "-m", "m.npz", "-", cwd=ws, stdin=data)
    assert r.returncode == 2
    assert len(r.stdout.splitlines()) == 2499
    err = r.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith("minibigram: error: <stdin> line 2500: the word "
                                               "'zoë' contains 'ë'")
    for flag in (["--unknown", "skip"], ["--skip-unknown"]):
        r = run("score", "-m", "m.npz", "-", *flag, cwd=ws, stdin=data)
        assert r.returncode == 0 and len(r.stdout.splitlines()) == 2999
        assert b"skipped 1 word" in r.stderr and b"<stdin> line 2500" in r.stderr
    r = run("score", "-m", "m.npz", "-", "--unknown", "unk", cwd=ws, stdin=data)
    assert r.returncode == 0
    out = r.stdout.decode().splitlines()
    assert len(out) == 3000 and out[2499].split("\t")[3] == "1"
    model = mb.load_model(ws / "m.npz")
    assert float(out[2499].split("\t")[2]) == model.log_prob("zo")   # its known characters


def test_scores_from_python_follow_the_same_policy(ws):
    model = mb.load_model(ws / "m.npz")
    words = ["anna", "zoë", "bob"]
    with pytest.raises(mb.DataError, match="the word 'zoë' contains"):
        list(Scores(model, words))
    got = []
    with pytest.raises(mb.DataError):
        for rows in Scores(model, words):
            got += rows
    assert [r["word"] for r in got] == ["anna"]          # given before the error
    skip = Scores(model, words, unknown="skip")
    assert [r["word"] for rows in skip for r in rows] == ["anna", "bob"] and skip.skipped == 1
    unk = [r for rows in Scores(model, words, unknown="unk") for r in rows]
    assert [r["unknown"] for r in unk] == [0, 1, 0]
    assert unk[1]["log_prob"] == model.log_prob("zo")


def test_eval_takes_the_same_policy(ws):
    (ws / "e.txt").write_text("anna\nzoë\nbob\n", encoding="utf-8")
    model = mb.load_model(ws / "m.npz")
    with pytest.raises(mb.DataError):
        mb.eval_model(model, ws / "e.txt")
    assert mb.eval_model(model, ws / "e.txt", unknown="skip")["all"] == model.nll(["anna", "bob"])
    assert mb.eval_model(model, ws / "e.txt", unknown="unk")["all"] == model.nll(
        ["anna", "zo", "bob"])
    r = run("eval", "-m", "m.npz", "--data", "e.txt", "--unknown", "skip", "--json", cwd=ws)
    assert r.returncode == 0 and json.loads(r.stdout)["eval"]["all"] == pytest.approx(
        model.nll(["anna", "bob"]), rel=1e-12)


# --- 2. TSV that survives any word; JSON always UTF-8

WORDS = ["mary\tjohn", "back\\slash", "line\u2028sep", "cr\rlf", "x\\ty", "plain", "zoë"]


@pytest.mark.parametrize("word", WORDS + ["ab\udcff", "\\xff"])
def test_escape_tsv_round_trips_and_leaves_no_tab_or_line_break(word):
    field = escape_tsv(word)
    assert unescape_tsv(field) == word
    assert "\t" not in field and len(field.splitlines()) == 1
    field.encode("utf-8")                                 # valid UTF-8, always


def test_score_tsv_has_three_fields_per_word_whatever_it_holds(ws):
    # a word cannot hold a line break in training: scored with unk, it is one unknown char
    chars = "".join(sorted(set("".join(WORDS)) - set("\r\u2028")))
    mb.BigramModel.fit([chars], steps=1).save(ws / "all.npz")
    r = run("score", "-m", "all.npz", *WORDS, "--unknown", "unk", cwd=ws)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode("utf-8").split("\n")[:-1]
    assert len(lines) == len(WORDS)
    assert [unescape_tsv(ln.split("\t")[0]) for ln in lines] == WORDS
    assert [ln.split("\t")[3] for ln in lines] == ["0", "0", "1", "1", "0", "0", "0"]


def test_bytes_that_are_not_utf8_are_escaped_in_tsv_and_json(ws):
    word = os.fsencode("ab") + b"\xff"
    for extra in ([], ["--json"]):
        r = run("score", "-m", "m.npz", word, "--unknown", "unk", *extra, cwd=ws)
        assert r.returncode == 0, r.stderr
        text = r.stdout.decode("utf-8")                   # valid UTF-8
        got = json.loads(text)["word"] if extra else text.split("\t")[0]
        assert got == "ab\\xff" == escape_bytes("ab\udcff")


# --- 3. any file, no flag: read once, in a stream, the sha256 of what was counted

def test_stdin_gives_the_weights_of_the_file_bit_for_bit(ws):
    data = (ws / "names3k.txt").read_bytes()
    for extra in ([], ["--family", "counts", "--context", "3"]):
        a = run("train", "--data", "names3k.txt", "-o", "a.npz", "-n", "0", "-q", *extra, cwd=ws)
        b = run("train", "--data", "-", "-o", "b.npz", "-n", "0", "-q", *extra, cwd=ws,
                stdin=data)
        assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
        ma, mbb = mb.load_model(ws / "a.npz"), mb.load_model(ws / "b.npz")
        for name, arr in ma.to_arrays().items():
            assert np.array_equal(arr, mbb.to_arrays()[name]) and arr.dtype == \
                mbb.to_arrays()[name].dtype
        assert ma.settings["data"]["sha256"] == mbb.settings["data"]["sha256"] == \
            hashlib.sha256(data).hexdigest()
        assert mbb.settings["data"]["source"] == "<stdin>"


def test_a_split_of_standard_input_is_refused_before_it_is_read(ws):
    """The model keeps its split to evaluate on later; standard input cannot be read again."""
    data = (ws / "names3k.txt").read_bytes()
    r = run("train", "--data", "-", "--split", "80/10/10", "-o", "s.npz", cwd=ws, stdin=data)
    err = r.stderr.decode().splitlines()
    assert (r.returncode, r.stdout, len(err)) == (2, b"", 1), err
    assert "standard input cannot be read again" in err[0] and "leave out split" in err[0]
    assert not (ws / "s.npz").exists()
    with pytest.raises(mb.SettingsError, match="standard input cannot be read again"):
        mb.train_settings("-", split="80/10/10")


def test_a_fifo_is_read_once_and_its_record_is_what_was_counted(ws):
    data = (ws / "names3k.txt").read_bytes()
    for args in (["train", "--data", "p", "-o", "f.npz", "-n", "0", "-q"],
                 ["train", "--stream", "--data", "p", "-o", "f.npz", "-n", "0", "-q"],
                 ["score", "-m", "m.npz", "-f", "p"]):
        fifo = ws / "p"
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)

        def write(path=fifo):
            with open(path, "wb") as f:
                f.write(data)
        writer = threading.Thread(target=write)
        writer.start()
        r = run(*args, cwd=ws, timeout=20)
        writer.join()
        assert r.returncode == 0, r.stderr
        if args[0] == "train":
            record = mb.load_model(ws / "f.npz").settings["data"]
            assert record["sha256"] == hashlib.sha256(data).hexdigest()
            assert record["num_words"] == 3000
        else:
            assert len(r.stdout.splitlines()) == 3000


def test_count_stream_hashes_exactly_the_bytes_it_counted(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"anna\nbob\n" * 70000)   # several pieces, a BOM
    counted = count_stream(path, 2, chunk_bytes=1 << 16)
    assert counted.record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert counted.nbytes == path.stat().st_size
    assert np.array_equal(counted.counts.N, mb.count_contexts(["anna", "bob"] * 70000, 2).N)


def test_a_large_file_trains_within_a_small_memory_budget_and_split_is_refused(ws):
    lines = ("\n".join(mb.load_words()) + "\n").encode() * 8      # 2.3 MB
    (ws / "big.txt").write_bytes(lines)
    env = {"MINIBIGRAM_MAX_MEMORY": "20M"}                      # words whole: 0.5 MB at most
    r = run("train", "--data", "big.txt", "-n", "0", "-q", "-o", "big.npz", cwd=ws, env=env)
    assert r.returncode == 0, r.stderr
    assert mb.load_model(ws / "big.npz").settings["data"]["num_words"] == 8 * 32033
    r = run("train", "--data", "big.txt", "--split", "80/10/10", "-n", "0", cwd=ws, env=env)
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.splitlines()) == 1
    assert "big.txt holds more than" in err and "without split" in err
    r = run("train", "--data", "big.txt", "--engine", "onehot", cwd=ws, env=env)
    assert r.returncode == 2 and "without split and with the counts engine" in r.stderr.decode()


EVAL_MODELS = {
    "bigram network": lambda words: mb.BigramModel.fit(words, steps=5),
    "count model": lambda words: mb.CountModel.fit(words),
    "count model K=3": lambda words: mb.CountModel.fit(words, context=3),
    "backoff <unk> K=2": lambda words: mb.BackoffModel.fit(words, context=2,
                                                           method="kneser-ney", unk=True),
}
#: Words the first 2,000 names lack characters of: "ññ" has no character they know.
STRANGERS = ["zoë", "émile", "ññ"]


def whole_list(model, words, unknown):
    """The perplexity totals of ``words`` under ``unknown``, from one call on the whole list."""
    bad = set("ëéñ")
    if unknown == "skip":
        words = [w for w in words if bad.isdisjoint(w)]
    if unknown != "unk":
        r = model.perplexity(words)
        return r.words, r.tokens, r.log_prob, r.unknowns, model.nll(words)
    if model.unk:   # <unk> scores the unknown characters
        r = model.perplexity(words, unknown="unk")
        return r.words, r.tokens, r.log_prob, r.unknowns, -r.log_prob / r.tokens
    known = ["".join(c for c in w if c not in bad) for w in words]
    full = [w for w in known if w]
    r = model.perplexity(full)
    empty = len(known) - len(full)   # each is its end token after the K boundaries
    end = model.log_rows(np.zeros((1, model.K), dtype=np.int64))[0, 0]
    log_prob = r.log_prob + empty * end
    tokens = r.tokens + empty
    unknowns = sum(map(len, words)) - sum(map(len, known))
    return r.words + empty, tokens, log_prob, unknowns, -log_prob / tokens


@pytest.mark.parametrize("kind", list(EVAL_MODELS))
@pytest.mark.parametrize("unknown", ["error", "skip", "unk"])
def test_eval_in_chunks_equals_the_whole_list(tmp_path, kind, unknown):
    names = mb.load_words()
    model = EVAL_MODELS[kind](names[:2000])
    words = names[2000:5000]
    if unknown != "error":
        words = words[:700] + STRANGERS[:2] + words[700:2100] + STRANGERS[2:] + words[2100:]
    path = tmp_path / "e.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    n, tokens, log_prob, unknowns, nll = whole_list(model, words, unknown)
    streamed = mb.eval_records(model, path, unknown=unknown, chunk_bytes=2048)["all"]  # 11 chunks
    assert (streamed.words, streamed.tokens, streamed.unknowns) == (n, tokens, unknowns)
    assert streamed.log_prob == pytest.approx(log_prob, rel=1e-12)
    assert streamed.nll == pytest.approx(nll, rel=1e-12)
    assert mb.eval_model(model, path, unknown=unknown)["all"] == pytest.approx(nll, rel=1e-12)
    if unknown == "unk":
        assert unknowns == 4   # ë, é, ñ, ñ: scored as <unk>, or left out


def test_eval_on_the_command_line_is_the_library_stream(tmp_path):
    names = mb.load_words()
    mb.CountModel.fit(names[:2000], context=3).save(tmp_path / "m.npz")
    model = mb.load_model(tmp_path / "m.npz")
    words = names[2000:2700] + STRANGERS + names[2700:5000]
    (tmp_path / "e.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    for unknown in ("skip", "unk"):
        r = run("eval", "-m", "m.npz", "--data", "e.txt", "--unknown", unknown, "--json",
                cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        want = mb.eval_records(model, tmp_path / "e.txt", unknown=unknown)["all"]
        assert out["perplexity"]["all"] == want.as_dict()
        assert out["eval"]["all"] == want.nll == pytest.approx(
            whole_list(model, words, unknown)[4], rel=1e-12)
    r = run("eval", "-m", "m.npz", "--data", "-", "--skip-unknown", "--json", cwd=tmp_path,
            stdin=(tmp_path / "e.txt").read_bytes())
    assert r.returncode == 0 and json.loads(r.stdout)["eval"]["all"] == pytest.approx(
        whole_list(model, words, "skip")[4], rel=1e-12)


def test_an_unknown_character_in_eval_names_the_file_and_line(tmp_path):
    names = mb.load_words()
    model = mb.CountModel.fit(names[:2000])
    model.save(tmp_path / "m.npz")
    words = names[2000:3499] + ["zoë"] + names[3499:5000]   # zoë on line 1500
    (tmp_path / "e.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    with pytest.raises(mb.DataError) as e:
        mb.eval_model(model, tmp_path / "e.txt")
    assert str(e.value).startswith(f"{tmp_path / 'e.txt'} line 1500: the word 'zoë' contains "
                                   "'ë' (U+00EB)")
    r = run("eval", "-m", "m.npz", "--data", "e.txt", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, b"")
    assert r.stderr.decode() == f"minibigram: error: {e.value}\n".replace(
        str(tmp_path / "e.txt"), "e.txt")
    r = run("eval", "-m", "m.npz", "--data", "-", cwd=tmp_path,
            stdin=(tmp_path / "e.txt").read_bytes())
    assert r.returncode == 2 and r.stderr.decode().startswith(
        "minibigram: error: <stdin> line 1500: the word 'zoë'")


#: Python run in a child, which writes its peak resident memory (VmHWM, of the child
#: alone) to $PEAK_FILE at exit; ARGS, a command line for minibigram, or CODE to run.
MEASURED = """import atexit, os, runpy, sys
def peak():
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
atexit.register(peak)
if sys.argv[1] == "-c":
    exec(sys.argv[2])
else:
    sys.argv = ["minibigram", *sys.argv[1:]]
    runpy.run_module("minibigram", run_name="__main__", alter_sys=True)
"""


def measured(*args, cwd, env):
    """``minibigram ARGS`` (or ``-c CODE``) in a child: its status, output and peak MB."""
    peak = cwd / "peak"
    r = subprocess.run([sys.executable, "-c", MEASURED, *map(str, args)], capture_output=True,
                       cwd=cwd, timeout=120,
                       env={**os.environ, **env, "PEAK_FILE": str(peak)})
    r.mb = int(peak.read_text().split()[1]) / 1024
    return r


def test_eval_reads_a_file_larger_than_the_memory_budget_in_a_stream(tmp_path, monkeypatch):
    names = mb.load_words()
    copies = 70                                                   # 16 MB of words
    (tmp_path / "big.txt").write_bytes(("\n".join(names) + "\n").encode() * copies)
    model = mb.BigramModel.fit(steps=5)
    model.save(tmp_path / "m.npz")
    whole = model.perplexity(names)
    env = {"MINIBIGRAM_MAX_MEMORY": "64M"}
    # a split needs every word in memory: sized before reading, refused in one line
    r = measured("eval", "-m", "m.npz", "--data", "big.txt", "--split", "80/10/10", cwd=tmp_path,
                 env=env)
    err = r.stderr.decode()
    assert (r.returncode, r.stdout, err.count("\n")) == (2, b"", 1), err
    assert err.startswith("minibigram: error: reading the 16.0 MB of words of big.txt into "
                          "memory would need ")
    assert "more than the 64 MiB" in err and "(no --split)" in err and "(--data)" in err
    in_memory = float(err.split("would need ")[1].split(" MiB")[0].replace(",", ""))
    assert in_memory > 500 and r.mb < 100   # nothing read before the refusal
    # standard input has no size to check first: read up to the budget, then the same advice
    r = subprocess.run([sys.executable, "-m", "minibigram", "eval", "-m", "m.npz", "--data",
                        "-", "--split", "80/10/10"], input=(tmp_path / "big.txt").read_bytes(),
                       capture_output=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, **env})
    err = r.stderr.decode()
    assert (r.returncode, r.stdout, err.count("\n")) == (2, b"", 1), err
    assert err.startswith("minibigram: error: <stdin> holds more than ") and "(no --split)" in err
    monkeypatch.setenv("MINIBIGRAM_MAX_MEMORY", "64M")
    with pytest.raises(mb.SettingsError, match=r"reading the 16.0 MB .* \(no --split\)"):
        mb.eval_model(model, tmp_path / "big.txt", split="80/10/10")
    # without a split, the words are read in a stream: the whole list's totals, little memory
    r = measured("eval", "-m", "m.npz", "--data", "big.txt", "--json", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    api = measured("-c", "import json, minibigram as mb\n"
                   "r = mb.eval_records(mb.load_model('m.npz'), 'big.txt')['all']\n"
                   "print(json.dumps(r.as_dict()))", cwd=tmp_path, env=env)
    assert api.returncode == 0, api.stderr
    for record, peak in ((out["perplexity"]["all"], r.mb), (json.loads(api.stdout), api.mb)):
        assert (record["words"], record["tokens"]) == (copies * whole.words,
                                                       copies * whole.tokens)
        assert record["log_prob"] == pytest.approx(copies * whole.log_prob, rel=1e-12)
        assert peak < in_memory / 4, (peak, in_memory)
    assert out["eval"]["all"] == pytest.approx(model.nll(names), rel=1e-12)
    # the same without --data, from the model's record of the file it was trained on
    assert run("train", "--data", "big.txt", "-n", "0", "-q", "-o", "t.npz", cwd=tmp_path,
               env=env).returncode == 0
    r = measured("eval", "-m", "t.npz", "--json", cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert json.loads(r.stdout)["perplexity"]["all"]["words"] == copies * whole.words
    assert r.mb < in_memory / 4


def test_the_memory_override_is_checked():
    os.environ["MINIBIGRAM_MAX_MEMORY"] = "lots"
    try:
        with pytest.raises(mb.SettingsError, match="MINIBIGRAM_MAX_MEMORY='lots'"):
            mb.errors.memory_budget()
    finally:
        del os.environ["MINIBIGRAM_MAX_MEMORY"]
    assert mb.errors.memory_budget() > 0


def test_score_lines_have_a_bound_and_stdin_that_cannot_be_read_says_so(ws):
    with open("/dev/zero", "rb") as zero:
        r = run("score", "-m", "m.npz", "-", cwd=ws, stdin=zero, timeout=10)
    err = r.stderr.decode().splitlines()
    assert r.returncode == 2 and len(err) == 1 and "line 1" in err[0]
    (ws / "long.txt").write_bytes(b"a" * 3_000_000 + b"\n")
    r = run("score", "-m", "m.npz", "-f", "long.txt", cwd=ws, timeout=10)
    err = r.stderr.decode()
    assert r.returncode == 2 and "is longer than 1,048,576 bytes" in err and "context" not in err
    with open(ws / "wo.txt", "wb") as write_only:
        r = run("score", "-m", "m.npz", "-", cwd=ws, stdin=write_only)
    assert r.returncode == 2 and b"<stdin> cannot be read" in r.stderr


# --- 4. any count, bounded memory; the same words in blocks

def test_sample_writes_as_it_goes_and_head_ends_it_at_once_with_status_0(ws):
    p = subprocess.Popen([sys.executable, "-m", "minibigram", "sample", "-m", "m.npz", "-n",
                          "100000000", "--sampler", "numpy"], cwd=ws, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    assert p.wait(timeout=20) == 0 and first.strip()
    assert p.stderr.read() == b""


@pytest.mark.parametrize("sampler", ["torch-mkl", "torch", "torch-cdf"])
def test_each_torch_sampler_gives_the_same_words_in_blocks_as_in_one_call(sampler):
    P = mb.BigramModel.fit(steps=5).table()
    n = 3000
    whole = SAMPLERS[sampler](P, n, 7)
    ends = np.flatnonzero(whole == 0)
    for m in (1, 999, 2000):   # the first m words of n are the m words of one call
        assert np.array_equal(SAMPLERS[sampler](P, m, 7), whole[:ends[m - 1] + 1])


def test_numpy_blocks_continue_one_generator():
    P = mb.BigramModel.fit(steps=5).table()
    blocks = list(sample_blocks(P, 25, 3, block=10))
    assert len(blocks) == 3 and np.array_equal(blocks[0], sample_bulk(P, 10, 3))
    assert np.count_nonzero(np.concatenate(blocks) == 0) == 25
    model = mb.BigramModel.fit(steps=5)
    assert [w for b in model.iter_samples(50, seed=1) for w in b] == model.sample(50, seed=1)


# --- 5. deep contexts sample from the rows of the contexts seen

@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_seen_rows_give_the_words_of_the_dense_table(sampler):
    words = mb.load_words()[:2000]
    model = mb.NGramModel.fit(words, context=2)
    assert len(model.chain(sampler).P) == len(model.contexts) + 1
    assert model.sample(300, seed=4, sampler=sampler) == sample_words(
        model.table(), 300, 4, sampler, model.vocab)
    counts = mb.CountModel.fit(words, context=2)
    if sampler == "numpy":
        assert counts.sample(300, seed=4, sampler=sampler) == sample_words(
            counts.table(), 300, 4, sampler, counts.vocab)


def test_a_count_model_of_four_characters_on_66_samples_without_the_dense_table():
    words = mixed_words()
    model = mb.CountModel.fit(words, context=4)
    assert model.V >= 60
    with pytest.raises(mb.SettingsError):
        mb.errors.check_size("x", float(model.V) ** 5 * 24 * 10**6, "y")   # dense is out
    samples = model.sample(2000, seed=1, sampler="numpy")
    assert len(samples) == 2000 and all(set(w) <= set(model.vocab.itos[1:]) for w in samples)


def test_add_k_smoothing_is_the_notebooks_for_bigrams_and_small_beyond():
    assert mb.CountModel.fit(["anna"]).smoothing == 1.0
    assert mb.CountModel.fit(["anna"], context=3).smoothing == 1e-3
    assert mb.train_settings(family="counts", context=2, method="add-k").smoothing == 1e-2
    assert mb.train_settings(family="counts", context=2, smoothing=1).smoothing == 1.0


def context_rows(model, contexts):
    """P(next | context) (n, V) of contexts (n, K) of ids: the model's log_rows, <unk>
    dropped and the rest renormalized, as its dense table has them."""
    P = np.exp(model.log_rows(contexts)[:, :model.V])                 # (n, V)
    return P / P.sum(axis=1, keepdims=True)


class RowsOnDemand:
    """A model's (V**K, V) table that computes the row of a context code when asked for."""

    def __init__(self, model):
        self.model, self.shape = model, (model.V ** model.K, model.V)

    def __getitem__(self, code):
        V, K = self.model.V, self.model.K
        ids = [code // V ** j % V for j in range(K - 1, -1, -1)]        # oldest first
        return context_rows(self.model, np.array([ids]))[0]


def reference_words(model, n, seed, sampler, max_len=1000):
    """The words a sampler must give, one plain loop over the rows of contexts: the
    notebook's loop of one torch draw at a time, or numpy's inverse CDF of one uniform
    per unfinished word per step."""
    if sampler != "numpy":
        ids = sample_one_at_a_time(RowsOnDemand(model), n, TorchGenerator(seed),
                                   DRAWS[sampler], max_len=max_len)
        return [model.vocab.decode(w) for w in ids]
    rng = np.random.default_rng(seed)
    words = [[] for _ in range(n)]
    active, contexts = np.arange(n), np.zeros((n, model.K), np.int64)   # (m,), (m, K)
    for _ in range(max_len):
        if not len(active):
            break
        u = rng.random(len(active))
        C = np.cumsum(context_rows(model, contexts), axis=1)             # (m, V)
        nxt = (C / C[:, -1:] <= u[:, None]).sum(axis=1)
        for w, c in zip(active, nxt):
            words[w] += [int(c)] if c else []
        going = nxt != 0
        active = active[going]
        contexts = np.column_stack([contexts[going, 1:], nxt[going]])
    return [model.vocab.decode(w) for w in words]


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_a_backoff_model_samples_the_words_of_its_dense_table(sampler):
    names = mb.load_words()[:2000]
    for words, K, method, unk in [(names, 1, "kneser-ney", False),
                                  (names, 3, "witten-bell", False),
                                  (mixed_words(), 2, "modified-kneser-ney", True)]:
        model = mb.BackoffModel.fit(words, context=K, method=method, unk=unk)
        P = model.table()
        assert model.sample(300, seed=4, sampler=sampler) == sample_words(
            P, 300, 4, sampler, model.vocab)
        assert model.sample(300, seed=4, sampler=sampler, temperature=0.7, top_k=5) == (
            sample_words(adjust_probs(P, 0.7, 5), 300, 4, sampler, model.vocab))


@pytest.fixture(scope="module")
def deep_backoff():
    """Backoff models of contexts of four characters on the 66-character mixed words."""
    words = mixed_words()
    return {method: mb.BackoffModel.fit(words, context=4, method=method, unk=True)
            for method in ("kneser-ney", "modified-kneser-ney", "witten-bell")}


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("method", ["kneser-ney", "modified-kneser-ney", "witten-bell"])
def test_a_backoff_model_of_four_characters_on_66_samples_without_the_dense_table(
        deep_backoff, monkeypatch, method, sampler):
    model = deep_backoff[method]
    assert model.V >= 66
    monkeypatch.setenv("MINIBIGRAM_MAX_MEMORY", "256M")
    with pytest.raises(mb.SettingsError, match=r"V\*\*\(K\+1\)"):
        model.table()                                    # 67**5 entries: out of the budget
    assert model.sample(40, seed=2, sampler=sampler) == reference_words(model, 40, 2, sampler)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_a_deep_backoff_model_gives_the_same_words_in_blocks_as_in_one_call(deep_backoff,
                                                                             sampler):
    model = deep_backoff["kneser-ney"]
    if sampler == "numpy":   # one generator across blocks of BLOCK_WORDS words
        n = BLOCK_WORDS + 500
        blocks = list(model.iter_samples(n, seed=3, sampler=sampler))
        assert [len(b) for b in blocks] == [BLOCK_WORDS, 500]
        assert blocks[0] == model.sample(BLOCK_WORDS, seed=3, sampler=sampler)
        assert blocks[0] + blocks[1] == model.sample(n, seed=3, sampler=sampler)
        return
    whole = model.sample(3000, seed=7, sampler=sampler)
    blocks = list(model.iter_samples(3000, seed=7, sampler=sampler))
    assert len(blocks) > 1 and [w for b in blocks for w in b] == whole
    for m in (1, 999, 2000):   # the first m words of n are the m words of one call
        assert model.sample(m, seed=7, sampler=sampler) == whole[:m]


def test_a_deep_backoff_model_samples_200000_words_in_bounded_memory(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        import minibigram as mb
        from conftest import mixed_words

        def peak_kb():
            with open("/proc/self/status") as f:
                return next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))

        model = mb.BackoffModel.fit(mixed_words(), context=4, method="kneser-ney")
        model.sample(10, sampler="numpy")                 # the lookup tables, made once
        before = peak_kb()
        n = sum(len(b) for b in model.iter_samples(200_000, seed=1, sampler="numpy"))
        print(n, (peak_kb() - before) / 1024)
    """), encoding="utf-8")
    r = subprocess.run([sys.executable, str(probe), os.path.dirname(__file__)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n, grew_mb = r.stdout.split()
    # one (n, max_len + 1) array of ids would be 1.6 GB; blocks of 65,536 words, a few MB
    assert int(n) == 200_000 and float(grew_mb) < 100


# --- 6. how far gradient descent stopped from the optimum

def test_train_reports_the_gap_to_the_optimum_after_gradient_descent():
    r = mb.train(steps=5, samples=0)
    gap = r.gap
    assert gap["grad_norm"] > 0 and gap["loss"] == pytest.approx(r.final_loss, rel=1e-6)
    exact = mb.train(solver="newton", samples=0)
    assert gap["optimum"] == pytest.approx(exact.final_loss, abs=1e-9)
    assert gap["loss"] > gap["optimum"] and exact.gap is None
