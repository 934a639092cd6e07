"""count_files on a real Dask LocalCluster equals the single-process counts of the concatenation.

One 2-worker LocalCluster (processes, one thread each) serves the whole module; the
test that kills a worker runs last.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import minibigram as mb

distributed = pytest.importorskip("distributed")

# Four shards with different alphabets: ASCII, 2-, 3- and 4-byte UTF-8, padding, CRLF.
SHARDS = [
    "emma\nolivia\r\n  ava \n",
    "zoë\n\nélise\nbjörn\n",
    "中文\nab\n\u3000李\n",
    "\U0001f600x\nq\nemma",                                    # no final line break
]


FREE_PORT = {"dashboard_address": ":0"}    # the scheduler's HTTP server: not 8787, maybe taken


@pytest.fixture(scope="module")
def cluster():
    import logging
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, scheduler_kwargs=FREE_PORT,
                                  silence_logs=logging.CRITICAL) as c:
        yield c


@pytest.fixture
def shards(tmp_path):
    paths = []
    for i, text in enumerate(SHARDS):
        path = tmp_path / f"shard{i}.txt"
        path.write_bytes(text.encode("utf-8"))
        paths.append(str(path))
    whole = tmp_path / "whole.txt"                             # their concatenation
    whole.write_bytes("\n".join(SHARDS).encode("utf-8"))
    return paths, str(whole)


def test_four_shards_equal_the_concatenation_k1(cluster, shards):
    paths, whole = shards
    counts = mb.count_files(paths, address=cluster.scheduler_address)
    assert isinstance(counts, mb.BigramCounts)
    single = mb.count_bigrams(whole)
    assert counts.vocab == single.vocab
    np.testing.assert_array_equal(counts.N, single.N)          # entry for entry
    words = mb.load_words(whole)                               # and the in-memory gold
    assert counts.num_examples == sum(len(w) + 1 for w in words)


def test_four_shards_equal_the_concatenation_k2(cluster, shards):
    paths, whole = shards
    counts = mb.count_files(os.path.join(os.path.dirname(paths[0]), "shard*.txt"),
                            context=2, address=cluster.scheduler_address)
    assert isinstance(counts, mb.ContextCounts)
    single = mb.count_contexts(whole, 2)
    assert counts.vocab == single.vocab
    np.testing.assert_array_equal(counts.contexts, single.contexts)
    np.testing.assert_array_equal(counts.N, single.N)
    words = mb.load_words(whole)
    vocab = mb.Vocabulary.from_words(words)
    contexts, N = mb.context_counts(*mb.ngrams(words, vocab, 2), len(vocab))
    np.testing.assert_array_equal(counts.N, N)


def test_progress_counts_files_and_bytes(cluster, shards):
    paths, _ = shards
    seen = []
    mb.count_files(paths, context=3, address=cluster.scheduler_address,
                   progress=lambda files, nbytes: seen.append((files, nbytes)))
    assert [f for f, _ in seen] == [1, 2, 3, 4]
    assert seen[-1][1] == sum(os.path.getsize(p) for p in paths)


def test_a_shard_that_is_not_utf8_names_the_shard_and_line(cluster, shards, tmp_path):
    paths, _ = shards
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("anna\nzoë\n".encode("latin-1"))
    for K in (1, 2):
        with pytest.raises(mb.DataError, match=r"latin1\.txt is not UTF-8 text .*at line 2"):
            mb.count_files([*paths, str(bad)], context=K, address=cluster.scheduler_address)


def test_a_glob_that_matches_nothing(tmp_path):
    with pytest.raises(mb.FileAccessError, match=r"matches no file"):
        mb.count_files(str(tmp_path / "*.txt"))


def test_missing_file_and_empty_list(tmp_path):
    with pytest.raises(mb.FileAccessError, match="does not exist"):
        mb.count_files([str(tmp_path / "nope.txt")])
    with pytest.raises(mb.SettingsError, match="no files to count"):
        mb.count_files([])


def test_files_without_words(cluster, tmp_path):
    (tmp_path / "blank.txt").write_text("\n  \n")
    with pytest.raises(mb.DataError, match="there are no words in the 1 file"):
        mb.count_files(str(tmp_path / "*.txt"), address=cluster.scheduler_address)


def test_a_scheduler_that_does_not_answer_is_one_error_within_the_timeout(shards):
    paths, _ = shards
    with socket.socket() as s:                                 # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    with pytest.raises(mb.SettingsError, match=r"scheduler at 'tcp://127\.0\.0\.1:\d+' did not "
                                               r"answer within 1 s"):
        mb.count_files(paths, address=f"tcp://127.0.0.1:{port}", timeout=1)
    assert time.monotonic() - t < 10


def test_a_scheduler_without_workers(shards):
    import logging
    paths, _ = shards
    with distributed.LocalCluster(n_workers=0, dashboard_address=None, scheduler_kwargs=FREE_PORT,
                                  silence_logs=logging.CRITICAL) as empty:
        with pytest.raises(mb.SettingsError, match="has no worker after 1 s"):
            mb.count_files(paths, address=empty.scheduler_address, timeout=1)


def test_without_dask_the_error_says_what_to_install(monkeypatch, shards):
    paths, _ = shards
    monkeypatch.setitem(sys.modules, "dask.distributed", None)   # import fails
    with pytest.raises(mb.DependencyError, match=r'pip install "\.\[dask\]"'):
        mb.count_files(paths)


def test_import_minibigram_does_not_import_dask():
    code = ("import sys, minibigram; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("bad", [{"context": 0}, {"chunk_bytes": 0}, {"timeout": 0},
                                 {"timeout": float("nan")}])
def test_bad_options(shards, bad):
    with pytest.raises(mb.SettingsError):
        mb.count_files(shards[0], **bad)


def test_default_local_cluster(shards):
    # No address: a LocalCluster sized to this machine's cores, closed at the end.
    paths, whole = shards
    assert mb.count_files(paths[:2]) == mb.count_bigrams(paths[0]) + mb.count_bigrams(paths[1])


def test_a_worker_that_dies_mid_run_is_replaced_and_the_counts_stay_exact(cluster, shards,
                                                                           tmp_path):
    # The fourth shard is a named pipe: its task blocks in open() until we write. We kill
    # the worker running it; the scheduler runs the task again on another worker, which
    # opens the pipe anew, and then gets the words.
    paths, whole = shards
    fifo = str(tmp_path / "pipe.txt")
    os.mkfifo(fifo)
    done_files = []
    result = {}

    def run():
        try:
            result["counts"] = mb.count_files(
                [*paths[:3], fifo], address=cluster.scheduler_address,
                progress=lambda files, nbytes: done_files.append(files))
        except BaseException as e:                              # handed to the test thread
            result["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        victim = None
        while victim is None:                                   # the worker reading the pipe
            assert time.monotonic() < deadline, "the pipe's task never started"
            if len(done_files) == 3:
                busy = [w for w, keys in client.processing().items()
                        if any(str(k).startswith("count_file") for k in keys)]
                victim = busy[0] if busy else None
            time.sleep(0.05)
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        while victim in client.scheduler_info()["workers"]:   # gone: no reader is left
            assert time.monotonic() < deadline, "the killed worker was never removed"
            time.sleep(0.05)
    while True:                                                 # wait for the new reader
        assert time.monotonic() < deadline, "the pipe's task was not run again"
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:                                         # ENXIO: no reader yet
            time.sleep(0.05)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as f:
        f.write(SHARDS[3].encode("utf-8"))
    thread.join(60)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert result["counts"] == mb.count_bigrams(whole)
