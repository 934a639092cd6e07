"""`train --dask` trains on the counts of a Dask cluster what `train --stream` trains on the
concatenation of the shards; models fit from counts of any K as from the words.

One 2-worker LocalCluster (processes) serves the module: the CLI is pointed at its
address. One test runs `--dask` without an address, which starts a LocalCluster of its own.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import run_on_a_pty

import minibigram as mb

# Four shards with different alphabets: ASCII, 2-, 3- and 4-byte UTF-8, padding, CRLF, a
# blank line, and a last line without its line break.
SHARDS = [
    "emma\nolivia\r\n  ava \nanna\nelena\n",
    "zoë\n\nélise\nbjörn\nemil\nolaf\n",
    "中文\nab\n\u3000李\nabba\nbob\n",
    "\U0001f600x\nq\nemma\nava\nlena",
]


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minibigram", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=180)


def one_error(r, message):
    """The run failed as bad input: status 2, nothing on stdout, one line on stderr."""
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr.startswith("minibigram: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr, r.stderr


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": ":0"},
                                  silence_logs=logging.CRITICAL) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The folder: shards/shard{0..3}.txt and whole.txt, their concatenation."""
    folder = tmp_path_factory.mktemp("dask")
    (folder / "shards").mkdir()
    for i, text in enumerate(SHARDS):
        (folder / "shards" / f"shard{i}.txt").write_bytes(text.encode("utf-8"))
    (folder / "whole.txt").write_bytes("\n".join(SHARDS).encode("utf-8"))
    return folder


# --- the CLI on a cluster -----------------------------------------------------------------

#: Model settings whose training on the cluster's counts is compared with --stream's.
SETTINGS = [
    ("K=1 bigram network, gd", ["--steps", "20", "--lr", "10"]),
    ("K=1 bigram network, newton", ["--solver", "newton", "--dtype", "float64"]),
    ("K=2 joint network", ["--context", "2", "--steps", "50"]),
    ("K=2 concat network", ["--context", "2", "--encoding", "concat", "--steps", "50"]),
    ("K=2 count model", ["--context", "2", "--family", "counts", "--smoothing", "0.5"]),
]


def test_train_dask_equals_train_stream_on_the_concatenation(cluster, corpus):
    for name, options in SETTINGS:
        streamed = run("train", "--data", "whole.txt", "--stream", "--json", *options,
                       cwd=corpus)
        dask = run("train", "--data", "shards/*.txt", "--dask", cluster, "--json", *options,
                   cwd=corpus)
        assert streamed.returncode == dask.returncode == 0, (name, dask.stderr, streamed.stderr)
        a, b = json.loads(streamed.stdout), json.loads(dask.stdout)
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-12, abs=1e-12), name
        assert a["num_examples"] == b["num_examples"] and a["vocab_size"] == b["vocab_size"]
        assert a["samples"] == b["samples"] and a["losses"] == b["losses"], name
    words = mb.load_words(corpus / "whole.txt")
    assert b["num_examples"] == sum(len(w) + 1 for w in words)   # the words' own examples
    sizes = sum(os.path.getsize(p) for p in (corpus / "shards").iterdir())
    assert b["settings"]["data"] == {"source": str(corpus / "shards" / "*.txt"), "files": 4,
                                     "bytes": sizes, "num_words": len(words)}


def test_train_dask_without_an_address_starts_a_local_cluster(corpus):
    # and prints, on stderr, what it counted where; the results on stdout are --stream's
    dask = run("train", "--data", "shards/*.txt", "--dask", "--context", "2", "--samples", "3",
               cwd=corpus)
    streamed = run("train", "--data", "whole.txt", "--stream", "--context", "2", "--samples",
                   "3", cwd=corpus)
    assert dask.returncode == streamed.returncode == 0, dask.stderr
    assert dask.stdout == streamed.stdout
    n = json.loads(run("train", "--data", "whole.txt", "--stream", "--json", "--samples", "0",
                       "--context", "2", cwd=corpus).stdout)["num_examples"]
    sizes = sum(os.path.getsize(p) for p in (corpus / "shards").iterdir())
    counted = (f"counted 4 files ({sizes} bytes) on a local Dask cluster of "
               f"{os.cpu_count()} workers: {n:,} examples, ")
    assert dask.stderr.startswith(counted), dask.stderr
    assert dask.stderr.splitlines()[1].startswith(f"trained the joint network (K=2, reg 0.01) "
                                                  f"on {n} examples, vocabulary of ")


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals on Windows")
def test_train_dask_shows_the_bytes_counted_on_a_terminal(cluster, corpus):
    pytest.importorskip("pty")
    shown = run_on_a_pty([sys.executable, "-m", "minibigram", "train", "--data",
                          "shards/*.txt", "--dask", cluster, "--steps", "2", "--log-every", "0",
                          "--samples", "0"], corpus)
    size = sum(os.path.getsize(p) for p in (corpus / "shards").iterdir())
    # the last file's bytes are always drawn, in place, then erased before the status line
    assert f"\rbyte {size:,}/{size:,}  " in shown and " byte/s\x1b[K" in shown, shown
    assert "\r\x1b[Kcounted 4 files" in shown, shown


def test_bad_input_on_a_cluster_is_one_line(cluster, corpus, tmp_path):
    (tmp_path / "a.txt").write_text("anna\nbob\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("anna\nzoë\n".encode("latin-1"))
    one_error(run("train", "--data", "*.txt", "--dask", cluster, cwd=tmp_path),
              "latin1.txt is not UTF-8 text (undecodable byte at line 2)")
    one_error(run("train", "--data", "*.txt", "--dask", cluster, "--context", "3",
                  "--family", "counts", cwd=tmp_path),
              "latin1.txt is not UTF-8 text (undecodable byte at line 2)")


def test_bad_input_before_any_cluster_is_one_line(corpus):
    one_error(run("train", "--data", "nothing/*.txt", "--dask", cwd=corpus),
              "the pattern 'nothing/*.txt' matches no file")
    one_error(run("train", "--dask", cwd=corpus), "dask counts files on a cluster: give them "
                                                  "as the data")
    for refused, message in ((["--stream"], "stream and dask are two ways"),
                             (["--split", "80/10/10"], "dask counts the whole data without "
                                                       "keeping its words, so it cannot be split"),
                             (["--engine", "index"], "the index engine cannot use"),
                             (["--context", "2", "--lr", "5"], "lr does not apply")):
        one_error(run("train", "--data", "shards/*.txt", "--dask", *refused, cwd=corpus),
                  message)
    one_error(run("train", "--data", "shards/*.txt", "--dask-timeout", "3", cwd=corpus),
              "dask_timeout applies only to a Dask scheduler's address")


def test_a_scheduler_that_does_not_answer_is_one_line_within_the_timeout(corpus):
    with socket.socket() as s:                                 # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    r = run("train", "--data", "shards/*.txt", "--dask", f"tcp://127.0.0.1:{port}",
            "--dask-timeout", "1", cwd=corpus)
    one_error(r, f"the Dask scheduler at 'tcp://127.0.0.1:{port}' did not answer within 1 s")
    assert time.monotonic() - start < 15                       # start-up, imports, 1 s


# --- --stream with any K, without a cluster ------------------------------------------------

def test_train_stream_with_a_context_equals_reading_the_words(corpus):
    for options in (["--context", "2"], ["--context", "3", "--encoding", "concat"],
                    ["--context", "2", "--family", "counts"]):
        plain = run("train", "--data", "whole.txt", "--json", "--samples", "5", *options,
                    cwd=corpus)
        streamed = run("train", "--data", "whole.txt", "--stream", "--json", "--samples", "5",
                       *options, cwd=corpus)
        assert plain.returncode == streamed.returncode == 0, streamed.stderr
        a, b = json.loads(plain.stdout), json.loads(streamed.stdout)
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-12, abs=1e-12), options
        assert a["num_examples"] == b["num_examples"] and a["samples"] == b["samples"]
        assert a["settings"]["data"]["sha256"] == b["settings"]["data"]["sha256"]
        # --stream changes nothing: both count in a stream, and score the counts
        assert a["eval"] == b["eval"] and b["eval"]["train"] == pytest.approx(
            b["final_loss"] if "counts" in options else b["eval"]["train"])


# --- the library: fit from counts of any K --------------------------------------------------

@pytest.mark.parametrize("K", [1, 2, 3])
def test_fit_from_counts_equals_fit_from_words(names, K):
    words = names[:2000]
    counts = mb.count_contexts(words, K)                       # ContextCounts, also for K = 1
    for encoding in ("joint", "concat"):
        a = mb.NGramModel.fit(words, context=K, encoding=encoding, steps=30)
        b = mb.NGramModel.fit(counts=counts, context=K, encoding=encoding, steps=30)
        assert a.final_loss == b.final_loss and a.history == b.history
        np.testing.assert_array_equal(a.W, b.W)
    gd = {"solver": "gd", "steps": 5, "lr": 10.0}
    assert (mb.NGramModel.fit(words, context=K, **gd).history
            == mb.NGramModel.fit(counts=counts, context=K, **gd).history)
    a, b = mb.CountModel.fit(words, context=K), mb.CountModel.fit(counts=counts, context=K)
    np.testing.assert_array_equal(a.contexts, b.contexts)
    np.testing.assert_array_equal(a.N, b.N)
    assert a.final_loss == b.final_loss and b.settings["num_examples"] == counts.num_examples


def test_fit_from_counts_refuses_another_context_and_the_example_engines(names):
    counts = mb.count_contexts(names[:100], 2)
    with pytest.raises(mb.SettingsError, match="contexts of 2 character.*context 3"):
        mb.NGramModel.fit(counts=counts, context=3)
    with pytest.raises(mb.SettingsError, match="contexts of 2 character.*context 1"):
        mb.CountModel.fit(counts=counts)
    with pytest.raises(mb.SettingsError, match="the index engine needs the words"):
        mb.NGramModel.fit(counts=counts, context=2, solver="gd", engine="index")
    with pytest.raises(mb.SettingsError, match="either words or counts"):
        mb.CountModel.fit(names[:100], counts=counts, context=2)
