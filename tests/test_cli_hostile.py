"""Hostile surroundings: closed standard streams, bytes that are not UTF-8, signals during a
save, addresses that are not Dask schedulers, exports of large models, vanished shards.

Each case runs the command line in a subprocess, bounded in time and measured in memory
(the child's peak RSS, from ``wait4``): it ends in one line ``minibigram: error: ...``
and status 2, or simply works, within 10 s and 500 MB.
"""

import http.server
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

import minibigram as mb

LIMIT_SECONDS, LIMIT_MB = 10, 500
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


#: Runs minibigram and, at exit, writes its own peak RSS (VmHWM: of this program only; the
#: ru_maxrss of wait4 would include the RSS of the test process that forked it).
MEASURED = """import atexit, os, runpy, sys
def peak():
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
atexit.register(peak)
sys.argv[0] = "minibigram"
runpy.run_module("minibigram", run_name="__main__", alter_sys=True)
"""


def run(args, *, cwd, shell_tail="", env=None, stdin=subprocess.DEVNULL, timeout=LIMIT_SECONDS):
    """Run ``minibigram args`` (with ``shell_tail`` redirections such as ``>&-``); its
    status, stdout, stderr (bytes), seconds and peak memory in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        command = " ".join(shlex.quote(a) for a in [sys.executable, "-c", MEASURED, *args])
        environ = {**os.environ, "PYTHONPATH": ROOT, "PEAK_FILE": peak_file, **(env or {})}
        with open(os.path.join(tmp, "out"), "w+b") as out, \
                open(os.path.join(tmp, "err"), "w+b") as err:
            start = time.monotonic()
            p = subprocess.run(["sh", "-c", f"exec {command} {shell_tail}"], cwd=cwd,
                               stdin=stdin, stdout=out, stderr=err, env=environ,
                               timeout=timeout + 5)   # a hang fails below, not forever
            seconds = time.monotonic() - start
            out.seek(0)
            err.seek(0)
            r = subprocess.CompletedProcess(args, p.returncode, out.read(), err.read())
        with open(peak_file) as f:
            r.mb = int(f.read().split()[1]) / 1024   # "VmHWM:  123456 kB"
    r.seconds = seconds
    assert seconds < timeout and r.mb < LIMIT_MB, (args, seconds, r.mb, r.stderr)
    return r


def one_error(r, message=""):
    """Status 2, nothing on stdout, one line on stderr that says ``message``."""
    err = r.stderr.decode("utf-8", "replace")
    assert (r.returncode, r.stdout) == (2, b""), (r.returncode, r.stdout, err)
    assert err.startswith("minibigram: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and message in err, err


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("hostile")
    (ws / "w.txt").write_text("anna\nbob\ncara\ndan\nabba\nada\n", encoding="utf-8")
    mb.BigramModel.fit(mb.load_words(ws / "w.txt"), steps=5, lr=5.0).save(ws / "m.npz")
    return ws


# --- standard streams ------------------------------------------------------------------------

READS_STDIN = {"score": ["score", "-m", "m.npz", "-"],
               "train": ["train", "-d", "-", "--steps", "2", "-n", "0"],
               "eval": ["eval", "-m", "m.npz", "-d", "-"]}
WRITES_STDOUT = {"score": ["score", "-m", "m.npz", "anna"],
                 "train": ["train", "-d", "w.txt", "--steps", "2", "-n", "2", "-o", "t.npz"],
                 "eval": ["eval", "-m", "m.npz", "-d", "w.txt"],
                 "sample": ["sample", "-m", "m.npz", "-n", "3"],
                 "info": ["info", "-m", "m.npz"]}


@pytest.mark.parametrize("name", list(READS_STDIN))
def test_a_closed_stdin_is_one_line(ws, name):
    one_error(run(READS_STDIN[name], cwd=ws, shell_tail="<&-"), "standard input is closed")


@pytest.mark.parametrize("name", ["sample", "info"])
def test_a_closed_stdin_not_read_is_no_matter(ws, name):
    r = run(WRITES_STDOUT[name], cwd=ws, shell_tail="<&-")
    assert r.returncode == 0 and r.stdout and not r.stderr, r.stderr


@pytest.mark.parametrize("name", list(WRITES_STDOUT))
def test_a_closed_stdout_is_one_line_on_stderr(ws, name):
    # train fails at its first "step 1" line, before any work is lost
    one_error(run(WRITES_STDOUT[name], cwd=ws, shell_tail=">&-"), "standard output is closed")


@pytest.mark.parametrize("name", list(WRITES_STDOUT))
def test_a_closed_stderr_keeps_status_off_stdout(ws, name):
    closed = run(WRITES_STDOUT[name], cwd=ws, shell_tail="2>&-")
    quiet = run([*WRITES_STDOUT[name], "-q"], cwd=ws)
    assert closed.returncode == 0 and closed.stdout == quiet.stdout != b""


def test_a_closed_stderr_with_an_error_prints_nothing(ws):
    r = run(["score", "-m", "m.npz", "zz.."], cwd=ws, shell_tail="2>&-")
    assert (r.returncode, r.stdout, r.stderr) == (2, b"", b"")


def test_info_of_a_model_trained_from_a_path_that_is_not_utf8(ws):
    name = os.fsdecode(b"d\xff.txt")
    (ws / name).write_text("anna\nbob\n", encoding="utf-8")
    strict = {"PYTHONIOENCODING": "utf-8"}   # a strict stdout, as under an en_US.UTF-8 locale
    r = run(["train", "-d", name, "--steps", "1", "-n", "0", "-q", "-o",
             os.fsdecode(b"x\xff.npz")], cwd=ws, env=strict)
    assert r.returncode == 0, r.stderr
    model = os.fsdecode(b"x\xff.npz")
    text = run(["info", "-m", model], cwd=ws, env=strict)
    assert text.returncode == 0, text.stderr
    assert b"x\\xff.npz" in text.stdout and b"d\\xff.txt" in text.stdout
    js = run(["info", "--json", "-m", model], cwd=ws, env=strict)
    doc = json.loads(js.stdout.decode("utf-8"))           # strict UTF-8: valid, always
    assert doc["model"] == "x\\xff.npz" and doc["data"]["source"].endswith("/d\\xff.txt")


def test_the_escaping_rule():
    from minibigram import escape_bytes, escape_tsv, unescape_tsv
    raw = os.fsdecode(b"a\\b\tc\nd\xffe")
    assert escape_tsv(raw) == "a\\\\b\\tc\\nd\\xffe" and unescape_tsv(escape_tsv(raw)) == raw
    assert escape_bytes(raw) == "a\\b\tc\nd\\xffe"          # JSON keeps tab and newline
    assert escape_tsv("emma") == "emma" and escape_tsv("zoë 中") == "zoë 中"
    assert escape_tsv(raw).encode("utf-8") and escape_bytes(raw).encode("utf-8")


# --- signals -----------------------------------------------------------------------------------

HARNESS = r"""
import glob, os, random, signal, sys, time
import numpy as np
import minibigram as mb
folder, runs = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
model = mb.CountModel(rng.integers(0, 50, (300, 300)),
                      mb.Vocabulary([chr(0x100 + i) for i in range(299)]))
out = os.path.join(folder, "m.npz")
model.save(out)
offsets = random.Random(0)
for i in range(runs):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                  # the child saves over and over until the signal
        os.close(r)
        os.dup2(w, 2)
        os.write(w, b"R")
        while True:
            model.save(out)
    os.close(w)
    os.read(r, 1)
    time.sleep(offsets.uniform(0, 0.02))
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while not (got := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            print("hung", i)
            sys.exit(1)
        time.sleep(0.001)
    err = b""
    while chunk := os.read(r, 1 << 16):
        err += chunk
    os.close(r)
    status = got[1]
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM) or err:
        print("run", i, "status", status, err.decode(errors="replace"))
        sys.exit(1)
    if glob.glob(os.path.join(folder, ".minibigram-*")):
        print("run", i, "left a temporary file")
        sys.exit(1)
    mb.load_model(out)
print("ok", runs)
"""


def test_sigterm_during_a_save_200_times_dies_by_the_signal(tmp_path):
    """Each run forks a child that saves a 300 x 300 count model in a loop and sends it
    SIGTERM at a random offset: it dies by SIGTERM, prints nothing (no traceback from
    inside zipfile's close), leaves no temporary file, and the model file loads."""
    (tmp_path / "harness.py").write_text(HARNESS)
    r = subprocess.run([sys.executable, "harness.py", str(tmp_path), "200"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0 and r.stdout == "ok 200\n", r.stdout + r.stderr


# --- Dask --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def listeners():
    """An HTTP server and a listener that never answers, on 127.0.0.1, for this module."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    yield httpd.server_address[1], silent.getsockname()[1]
    httpd.shutdown()
    httpd.server_close()
    silent.close()


def test_dask_timeout_defaults_to_10_seconds():
    assert mb.training.DEFAULTS.dask_timeout == 10


def test_what_is_not_a_scheduler_is_one_line_within_the_timeout(ws, listeners):
    pytest.importorskip("distributed")
    http_port, silent_port = listeners
    (ws / "shards").mkdir(exist_ok=True)
    (ws / "shards" / "a.txt").write_text("anna\nbob\n")
    waits = {f"tcp://127.0.0.1:{http_port}": "did not answer within 2 s",
             f"127.0.0.1:{http_port}": "did not answer within 2 s",
             f"tcp://127.0.0.1:{silent_port}": "did not answer within 2 s",
             f"ws://127.0.0.1:{silent_port}": "did not answer within 2 s",
             f"ws://127.0.0.1:{http_port}": "could not be reached",
             "foo://bar:1": "is not the address of a Dask scheduler",
             "tcp://[::1": "is not the address of a Dask scheduler",
             "not an address": "is not the address of a Dask scheduler"}
    results = {}

    def one(address):
        results[address] = run(["train", "-d", "shards/*.txt", "--dask", address,
                                "--dask-timeout", "2", "-n", "0"], cwd=ws)

    timed = [a for a, m in waits.items() if "within" in m]
    for batch in [a for a in waits if a not in timed], timed[:3], timed[3:]:
        threads = [threading.Thread(target=one, args=(a,)) for a in batch]   # side by side,
        for t in threads:                                                    # a few at a time
            t.start()
        for t in threads:
            t.join()
    for address, message in waits.items():
        r = results[address]
        one_error(r, message)                 # nothing after it: no Client.__del__ noise
        if "within" in message:
            assert r.seconds >= 2, (address, r.seconds)


def test_a_fifo_matched_by_the_glob_is_one_line(ws):
    pytest.importorskip("distributed")
    (ws / "fifos").mkdir(exist_ok=True)
    (ws / "fifos" / "a.txt").write_text("anna\n")
    os.mkfifo(ws / "fifos" / "b.txt")
    one_error(run(["train", "-d", "fifos/*.txt", "--dask", "tcp://127.0.0.1:1", "-n", "0"],
                  cwd=ws), "is a named pipe (FIFO), not a regular file")


SHARD_GONE = r"""
import os, sys, warnings
import minibigram as mb
if __name__ == "__main__":
    gone = "shards/b.txt"
    def remove(step, loss):                          # after counting, while training
        if os.path.exists(gone):
            os.remove(gone)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mb.train("shards/*.txt", dask=True, out="m7.npz", steps=2, samples=3,
                 callback=remove, progress=False)
    print(len(caught), caught[0].message)
    print(mb.load_model("m7.npz").settings["data"])
"""


def test_a_shard_removed_after_counting_keeps_the_model(tmp_path):
    pytest.importorskip("distributed")
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "a.txt").write_text("anna\nbob\n")
    (tmp_path / "shards" / "b.txt").write_text("cara\ndan\n")
    (tmp_path / "gone.py").write_text(SHARD_GONE)
    r = subprocess.run([sys.executable, "gone.py"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("1 shards/b.txt was removed after it was counted: the model is "
                        "trained on its words, but records no size of the data.")
    assert "'bytes': None" in lines[1] and "'num_words': 4" in lines[1]


# --- exports -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """Count models of 1,000 and 4,001 characters (the sizes that took 22 s and 735 s)."""
    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    for V in (1000, 4001):
        vocab = mb.Vocabulary([chr(0x4E00 + i) for i in range(V - 1)])
        mb.CountModel(rng.integers(0, 3, (V, V)), vocab).save(folder / f"c{V}.npz")
    return folder


def test_an_export_is_sized_first_and_streamed(wide):
    r = run(["export", "-m", "c1000.npz", "--format", "json", "-o", "c.json"], cwd=wide)
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    first = r.stderr.decode().splitlines()[0]
    assert first.startswith("writing c.json: about ") and first.endswith(" s")
    estimate = float(first.split("about ")[1].split(" MB")[0])
    actual = (wide / "c.json").stat().st_size / 1e6
    assert abs(estimate - actual) < 0.1 * actual, (estimate, actual)
    doc = json.loads((wide / "c.json").read_text(encoding="utf-8"))
    model = mb.load_model(wide / "c1000.npz")
    assert doc == mb.to_json(model)   # the same document as the one built in memory


def test_an_arpa_export_beyond_memory_is_refused_before_it_starts(wide):
    # the budget of a smaller machine: minibigram sizes work against the memory it may use
    one_error(run(["export", "-m", "c4001.npz", "--format", "arpa", "-o", "c.arpa"],
                  cwd=wide, env={"MINIBIGRAM_MAX_MEMORY": "256M"}), "export as json instead")
    assert not (wide / "c.arpa").exists()


def test_export_quiet_prints_nothing(ws):
    r = run(["export", "-q", "-m", "m.npz", "--format", "json", "-o", "q.json"], cwd=ws)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    assert (ws / "q.json").exists()


# --- messages ----------------------------------------------------------------------------------

def test_eval_and_mark_on_a_model_streamed_from_a_large_file(ws):
    text = "\n".join(mb.load_words()) + "\n"
    big = ws / "big.txt"
    with open(big, "w", encoding="utf-8") as f:
        for _ in range(7_000_000 // len(text) + 1):
            f.write(text)
    r = run(["train", "--stream", "-d", "big.txt", "-n", "0", "--steps", "2", "-q",
             "-o", "big.npz"], cwd=ws)
    assert r.returncode == 0, r.stderr
    small = {"MINIBIGRAM_MAX_MEMORY": "256M"}   # a budget the 7 MB file's words exceed
    r = run(["eval", "-m", "big.npz", "--json"], cwd=ws, env=small)   # read in a stream
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    record = json.loads(r.stdout)["perplexity"]["all"]
    assert record["words"] == mb.load_model(ws / "big.npz").settings["data"]["num_words"]
    one_error(run(["eval", "-m", "big.npz", "--split", "80/10/10"], cwd=ws, env=small),
              "MiB, more than the 256 MiB this machine has free for it (MINIBIGRAM_MAX_MEMORY "
              "sets it): evaluate without a split (no --split)")
    one_error(run(["sample", "-m", "big.npz", "--mark", "-n", "2"], cwd=ws, env=small),
              "give a smaller word file as the data (--data), e.g. a sample of it.")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_stored_loss_history_with_nan_or_inf_is_refused(ws, value):
    model = mb.load_model(ws / "m.npz")
    model.history = [*model.history, float(value)]
    model.save(ws / f"h{value}.npz")
    one_error(run(["info", "-m", f"h{value}.npz"], cwd=ws),
              "holds NaN or infinite values in its training history")


def test_sweep_json_is_the_same_run_to_run(ws):
    args = ["sweep", "-d", "w.txt", "--context", "1", "--reg", "0.1", "--smoothing", "1",
            "--split", "60/20/20", "--json"]
    first, second = run(args, cwd=ws), run(args, cwd=ws)
    assert first.returncode == 0 and first.stdout == second.stdout
    assert "seconds" not in json.loads(first.stdout)
    timed = run([*args, "-v"], cwd=ws)
    assert b" settings in " in timed.stderr and timed.stdout == first.stdout


@pytest.mark.parametrize("args, message", [
    (["sample", "-m", "m.npz", "--top-k", "-1"], "top_k must be a whole number >= 1, got -1"),
    (["sample", "-m", "m.npz", "--top-k", "0"], "top_k must be a whole number >= 1, got 0"),
    (["train", "--context", "-1"], "the context length must be a whole number >= 1, got -1"),
    (["train", "--family", "counts", "--smoothing", "1e308", "-n", "0"],
     "smoothing 1e+308, added to each of the 729 counts, makes their sum overflow"),
])
def test_a_bound_is_stated_as_it_is(ws, args, message):
    r = run(args, cwd=ws)
    err = r.stderr.decode()
    assert (r.returncode, r.stdout) == (2, b"") and message in err and err.count("\n") == 1
