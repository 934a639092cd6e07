"""Writing through the CLI: a bad --out is refused before training, in one line, exit status 2."""

import os
import stat
import subprocess
import sys

import pytest

from minibigram import (
    BigramModel,
)

PREFIX = "minibigram: error: "


def run(*args, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def snapshot(folder):
    return {p.name: p.read_bytes() if p.is_file() and not p.is_symlink() else p.lstat().st_mode
            for p in sorted(folder.iterdir())}


def cli_error(cwd, *args, timeout=120):
    """Run the CLI: exit 2, one line ``minibigram: error: ...``, no file changed."""
    before = snapshot(cwd)
    r = run(*args, cwd=cwd, timeout=timeout)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(PREFIX) and r.stderr.count("\n") == 1, r.stderr
    assert snapshot(cwd) == before, "the failed command changed files"
    return r.stderr[len(PREFIX):-1]


@pytest.fixture
def model():
    return BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_cli_train_out_device(tmp_path, device):
    msg = cli_error(tmp_path, "train", "--steps", "1", "--samples", "0", "--out", device)
    assert msg.startswith(f"{device} is a character device, not a regular file")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_cli_train_out_is_the_data(tmp_path):
    (tmp_path / "w.txt").write_text("anna\nbob\ncara\n")
    msg = cli_error(tmp_path, "train", "--steps", "1", "--samples", "0", "--data", "w.txt",
                    "--out", "w.txt")
    assert msg == "w.txt is the input file w.txt, which minibigram never replaces: choose " \
                  "another output path."
    msg = cli_error(tmp_path, "train", "--stream", "--steps", "1", "--samples", "0",
                    "--data", "w.txt", "--out", "./w.txt")
    assert "never replaces" in msg


@pytest.mark.parametrize("out, phrase", [
    ("", "the output path is empty"),
    ("fifo", "is a named pipe (FIFO)"),
    (".", "is a folder"),
    ("/proc/m.npz", "cannot write /proc/m.npz"),
    ("/sys/m.npz", "cannot write /sys/m.npz"),
    ("x" * 300, "more than the 255 this file system allows"),
])
def test_cli_train_out_refused_before_training(tmp_path, out, phrase):
    os.mkfifo(tmp_path / "fifo")
    msg = cli_error(tmp_path, "train", "--steps", "1", "--samples", "0", "--out", out)
    assert phrase in msg, msg


def test_cli_plot_never_replaces_its_model(tmp_path, model):
    model.save(tmp_path / "m.npz")
    assert "never replaces" in cli_error(tmp_path, "plot", "--model", "m.npz", "--out",
                                         "m.npz")
    assert "character device" in cli_error(tmp_path, "plot", "--model", "m.npz", "--out",
                                           "/dev/null")
