"""Hostile sizes and numbers on the command line (issue 11): one error line, bounded memory.

Each case runs the command in a fresh process that reports its own peak resident
memory (Linux ``VmHWM``) when it ends; every case must end in one line
``minibigram: error: ...`` and exit status 2 (or simply work), under 500 MB.
Timing is not asserted (that is the benchmarks' business); the timeout only
turns a hang into a failure.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minibigram as mb
from minibigram.archive import save_npz

PREFIX = "minibigram: error: "
# Runs the CLI in this process, then prints the peak RSS (MB) on stderr's last line.
PROBE = """
import sys
from minibigram.cli import main
try:
    status = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as f:
        peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    print(f"PEAK {peak / 1024:.0f}", file=sys.stderr)
sys.exit(status)
"""


#: The memory budget of these runs (MINIBIGRAM_MAX_MEMORY): refusals are checked against it,
#: before allocating, whatever the machine has free.
BUDGET = "256M"


def run(*args, cwd, stdout=subprocess.PIPE):
    r = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], cwd=cwd, text=True,
                       stdout=stdout, stderr=subprocess.PIPE, timeout=120,
                       env={**os.environ, "MINIBIGRAM_MAX_MEMORY": BUDGET})
    *lines, peak = r.stderr.splitlines()
    assert peak.startswith("PEAK ")
    r.peak_mb = int(peak.split()[1])
    r.stderr_lines = lines
    return r


def refused(r, *phrases):
    """One error line naming the problem, exit status 2, bounded memory."""
    assert r.returncode == 2, r.stderr
    assert len(r.stderr_lines) == 1 and r.stderr_lines[0].startswith(PREFIX), r.stderr
    for phrase in phrases:
        assert phrase in r.stderr_lines[0], r.stderr
    assert r.peak_mb < 500
    return r.stderr_lines[0]


@pytest.fixture()
def ws(tmp_path):
    return tmp_path


@pytest.mark.parametrize("K", ["1000", "100000", "1000000000", "100000000000000000000"])
def test_huge_contexts_are_refused_before_any_work(ws, K):
    r = run("train", "--context", K, cwd=ws)
    refused(r, "use a shorter context")
    assert r.stdout == ""                                  # no step was trained


def test_a_model_with_a_long_context_samples_from_its_seen_contexts(ws):
    # K = 5: V**(K+1) = 27**6 would be too large a dense table; the rows of the 41,000
    # contexts seen are not
    r = run("train", "--context", "5", "--steps", "2", "--samples", "5", "--out", "j.npz",
            "--log-every", "0", cwd=ws)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()   # the train NLL, then the samples
    assert r.peak_mb < 500 and len(lines) == 6 and lines[0].startswith("mean NLL")
    m = mb.load_model(ws / "j.npz")
    assert m.K == 5 and np.isfinite(m.nll(["anna"]))
    # the concat network builds the dense table: refused before training, nothing written
    r = run("train", "--context", "5", "--encoding", "concat", "--steps", "2", "--out",
            "k.npz", cwd=ws)
    refused(r, "27**6", "sample no words")
    assert not (ws / "k.npz").exists() and r.stdout == ""


def test_a_billion_samples_are_refused_in_a_list_and_streamed_by_sample(ws):
    r = run("train", "--samples", "1000000000", "--sampler", "numpy", "--out", "b.npz", cwd=ws)
    refused(r, "holding 1,000,000,000 sampled words", "sample -n 1000000000")
    assert not (ws / "b.npz").exists() and r.stdout == ""
    mb.BigramModel.fit(["anna", "bob"], steps=1).save(ws / "m.npz")
    with pytest.raises(mb.SettingsError, match="iter_samples"):
        mb.load_model(ws / "m.npz").sample(10**12)


@pytest.mark.parametrize("V", [20_000, 100_000])
def test_huge_alphabets_are_refused_by_their_size(ws, V):
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + V)] if V <= 20_000 else \
        [chr(c) for c in range(0x20000, 0x20000 + V)]
    (ws / "w.txt").write_text("\n".join("".join(chars[i:i + 5]) for i in range(0, V, 5)),
                              encoding="utf-8")
    for extra in ([], ["--stream"], ["--family", "counts", "--samples", "0"]):
        refused(run("train", "--data", "w.txt", *extra, cwd=ws), "smaller alphabet")


def test_a_long_line_streams_in_bounded_memory(ws):
    line = np.random.default_rng(0).integers(97, 123, 64 << 20, dtype=np.uint8).tobytes()
    (ws / "long.txt").write_bytes(line + b"\nanna\n")
    r = run("train", "--data", "long.txt", "--stream", "--steps", "1", "--samples", "0",
            "--json", cwd=ws)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["num_examples"] == (64 << 20) + 1 + 5
    assert r.peak_mb < 200                                 # the line is never held whole


def test_a_learning_rate_that_makes_the_loss_rise_is_an_error(ws):
    line = refused(run("train", "--lr", "10000", "--samples", "0", "--log-every", "0", cwd=ws),
                   "the loss rose from", "try a learning rate smaller than 10000")
    assert "at step 100" in line


def test_a_huge_reg_names_reg_not_only_the_learning_rate(ws):
    refused(run("train", "--reg", "1e308", "--samples", "0", cwd=ws), "reg 1e+308",
            "lower the learning rate or reg")


def test_a_full_stdout_is_one_error_line(ws):
    mb.BigramModel.fit(["anna", "bob"], steps=1).save(ws / "m.npz")
    with open("/dev/full", "w") as full:
        r = run("sample", "--model", "m.npz", "-n", "2000", cwd=ws, stdout=full)
    refused(r, "cannot write the output")


def test_extreme_weights_give_honest_probabilities_without_warnings(ws):
    m = mb.BigramModel.fit(["anna", "bob", "cara"], steps=2)
    W = np.full_like(m.W, 3e38)
    W[0, 0] = -3e38
    mb.BigramModel(W, m.vocab).save(ws / "w.npz")
    r = run("sample", "--model", "w.npz", "-n", "3", cwd=ws)
    assert r.returncode == 0 and r.stderr_lines == [], r.stderr
    P = mb.load_model(ws / "w.npz").table()
    assert P[0, 0] == 0 and np.allclose(P.sum(axis=1), 1)   # the boundary row never ends


def test_counts_whose_sum_overflows_are_refused(ws):
    c = mb.CountModel.fit(["anna", "bob"])
    with pytest.raises(mb.DataError, match="overflows"):     # refused when built, and read
        mb.CountModel(np.full(c.N.shape, 1e308), c.vocab)
    save_npz(ws / "c.npz", kind="counts", arrays={"N": np.full(c.N.shape, 1e308),
                                                 "contexts": c.contexts},
             vocab=c.vocab, history=[], settings=c.settings)
    refused(run("sample", "--model", "c.npz", cwd=ws), "overflows")


def test_the_numpy_sampler_of_a_large_alphabet_needs_no_guide_table(ws):
    # V = 2000: a guide table of 64 V buckets a row would be 2 GB; the sampler skips it
    rng = np.random.default_rng(1)
    V = 2000
    N = rng.integers(0, 3, (V, V))
    vocab = mb.Vocabulary(chr(c) for c in range(0x4E00, 0x4E00 + V - 1))
    mb.CountModel(N, vocab).save(ws / "c.npz")
    r = run("sample", "--model", "c.npz", "-n", "5", "--sampler", "numpy", cwd=ws)
    assert r.returncode == 0, r.stderr
    assert r.peak_mb < 500 and len(r.stdout.splitlines()) == 5


def test_a_file_too_large_to_hold_trains_in_a_stream_and_its_split_is_refused(ws):
    from minibigram.words import WORD_BYTES

    big = ("anna\n" * ((256 << 20) // WORD_BYTES // 5 + 1)).encode()
    (ws / "big.txt").write_bytes(big)
    r = run("train", "--data", "big.txt", "-n", "0", "--family", "counts", cwd=ws)
    assert r.returncode == 0 and r.peak_mb < 150, r.stderr        # counted in a stream
    r = run("train", "--data", "big.txt", "--split", "80/10/10", cwd=ws)
    refused(r, "more than", "without split")
    assert r.peak_mb < 100                                 # refused before it is read whole
    r = subprocess.run([sys.executable, "-c", PROBE, "train", "--data", "-", "--split",
                        "80/10/10"], input=big, capture_output=True, cwd=ws, timeout=120,
                       env={**os.environ, "MINIBIGRAM_MAX_MEMORY": BUDGET})
    assert r.returncode == 2 and b"standard input cannot be read again" in r.stderr
