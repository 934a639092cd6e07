"""Writing through the CLI: a bad --out is refused before training, in one line, exit status 2."""

import os
import stat

import pytest
from conftest import cli_error

from minibigram import BigramModel


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
