"""Safe writing (minibigram.safewrite): only a regular file is replaced, whole or not at all.

Devices, FIFOs, sockets, folders and the input are never replaced; symbolic links are
followed; a signal or an error during a save removes the temporary file and keeps the
previous file; stale temporary files of killed saves are cleared.
"""

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap

import pytest

from minibigram import BigramModel, FileAccessError
from minibigram.safewrite import atomic_write, check_writable, remove_stale_temporaries

# --- writing: only a regular file (or nothing) is replaced -----------------------------------

@pytest.fixture
def model():
    return BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_a_device_is_never_replaced(model, device):
    with pytest.raises(FileAccessError, match="is a character device, not a regular file"):
        check_writable(device)
    with pytest.raises(FileAccessError, match="is a character device"):
        model.save(device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_fifo_a_socket_or_a_folder_is_never_replaced(tmp_path, model):
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        for name, what in (("fifo", "a named pipe (FIFO)"), ("sock", "a socket"),
                           (".", "a folder")):
            with pytest.raises(FileAccessError, match=what.replace("(", r"\(").replace(")",
                                                                                      r"\)")):
                model.save(tmp_path / name)
        assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
        assert stat.S_ISSOCK(os.lstat(tmp_path / "sock").st_mode)
    finally:
        sock.close()


def test_an_input_is_never_replaced(tmp_path, model):
    data = tmp_path / "words.txt"
    data.write_text("anna\nbob\n")
    os.link(data, tmp_path / "hard.txt")
    os.symlink(data, tmp_path / "soft.npz")
    for out in (data, tmp_path / "hard.txt", tmp_path / "soft.npz"):
        with pytest.raises(FileAccessError, match="is the input file .*words.txt, which "
                                                  "minibigram never replaces"):
            check_writable(out, inputs=(None, data))
    check_writable(tmp_path / "other.npz", inputs=(data,))   # and others are fine
    assert data.read_text() == "anna\nbob\n"


def test_a_symlink_is_followed_to_the_regular_file_it_names(tmp_path, model):
    target = tmp_path / "real.npz"
    target.write_bytes(b"old")
    os.symlink("real.npz", tmp_path / "link.npz")
    model.save(tmp_path / "link.npz")
    assert os.path.islink(tmp_path / "link.npz")   # the link stays, and names the new file
    assert BigramModel.load(target).vocab == model.vocab
    os.symlink("missing.npz", tmp_path / "dangling.npz")
    with pytest.raises(FileAccessError, match="which does not exist; give the path of a file"):
        model.save(tmp_path / "dangling.npz")
    os.symlink("/dev/null", tmp_path / "null.npz")
    with pytest.raises(FileAccessError, match="is a character device"):
        model.save(tmp_path / "null.npz")
    assert sorted(os.listdir(tmp_path)) == ["dangling.npz", "link.npz", "null.npz", "real.npz"]


@pytest.mark.parametrize("out, phrase", [
    ("", "the output path is empty"),
    ("/proc/m.npz", "cannot write /proc/m.npz"),
    ("/proc/self/comm", "cannot write /proc/self/comm"),
    ("/sys/m.npz", "cannot write /sys/m.npz"),
    ("x" * 300 + ".npz", "its name is 304 bytes long, more than the 255"),
])
def test_paths_that_cannot_take_a_file_are_refused_early(tmp_path, model, out, phrase):
    with pytest.raises(FileAccessError, match=phrase):
        check_writable(tmp_path / out if out.startswith("x") else out)
    assert os.listdir(tmp_path) == []   # the probe's temporary file is gone


# --- writing through the CLI: refused before training, one line, exit 2 ---------------------


# --- temporary files -------------------------------------------------------------------------

SLOW_SAVE = textwrap.dedent("""
    import signal, sys, time
    from minibigram.safewrite import atomic_write
    if sys.argv[2] == "custom":
        signal.signal(signal.SIGTERM, lambda s, f: sys.exit(7))
    def write(f):
        f.write(b"half a model")
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
    try:
        atomic_write(sys.argv[1], write)
    except KeyboardInterrupt:
        sys.exit(130)
""")


@pytest.mark.parametrize("sig, handler, status", [
    (signal.SIGTERM, "default", -signal.SIGTERM),   # the process still ends by SIGTERM
    (signal.SIGTERM, "custom", 7),                  # the program's own handler still runs
    (signal.SIGINT, "default", 130),                # KeyboardInterrupt, as before
])
def test_a_signal_during_a_save_removes_the_temporary_file(tmp_path, sig, handler, status):
    (tmp_path / "m.npz").write_bytes(b"previous")
    p = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(tmp_path / "m.npz"), handler],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "writing\n"
        assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))
        p.send_signal(sig)
        assert p.wait(timeout=60) == status
    finally:
        if p.poll() is None:
            p.kill()
        p.stdout.close()
    assert os.listdir(tmp_path) == ["m.npz"]
    assert (tmp_path / "m.npz").read_bytes() == b"previous"


def test_a_save_restores_the_signal_handlers(tmp_path, model):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    model.save(tmp_path / "m.npz")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_later_save_clears_stale_temporary_files(tmp_path, model):
    dead = tmp_path / f".minibigram-{_dead_pid()}-0badf00d.tmp"
    alive = tmp_path / f".minibigram-{os.getpid()}-0123abcd.tmp"   # a live process's
    other = tmp_path / ".minibigram-notes.tmp"                      # not one of ours
    for p in (dead, alive, other):
        p.write_bytes(b"half a model")
    model.save(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == sorted([alive.name, other.name, "m.npz"])


def test_a_locked_temporary_file_is_kept_whatever_its_pid(tmp_path):
    """A writer in another PID namespace has a PID we cannot see, but holds its lock."""
    fcntl = pytest.importorskip("fcntl")
    locked = tmp_path / f".minibigram-{_dead_pid()}-0badf00d.tmp"
    locked.write_bytes(b"being written")
    with open(locked, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        assert remove_stale_temporaries(tmp_path) == []
    assert remove_stale_temporaries(tmp_path) == [locked.name]


def test_a_failed_write_leaves_nothing(tmp_path):
    def fail(f):
        f.write(b"half")
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        atomic_write(tmp_path / "m.npz", fail)
    assert os.listdir(tmp_path) == []
