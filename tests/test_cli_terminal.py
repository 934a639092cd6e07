"""The command line at a terminal: progress drawn in place on a terminal, never elsewhere."""

import json
import subprocess
import sys

import pytest
from conftest import run_on_a_pty


def minibigram(*args):
    return [sys.executable, "-m", "minibigram", *map(str, args)]


def run(*args, cwd=None):
    return subprocess.run(minibigram(*args), capture_output=True, cwd=cwd, timeout=180)


def test_no_progress_when_not_a_terminal(tmp_path):
    r = run("train", "--steps", "30", "--log-every", "0", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.startswith(b"trained on 228146 examples")
    assert b"\r" not in r.stderr and b"\x1b" not in r.stderr
    assert b"\r" not in r.stdout and b"\x1b" not in r.stdout


def _run_on_a_pty(*args, cwd):
    pytest.importorskip("pty")
    return run_on_a_pty(minibigram(*args), cwd)


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals on Windows")
def test_progress_on_a_terminal(tmp_path):
    shown = _run_on_a_pty("train", "--steps", "30", "--log-every", "0", cwd=tmp_path)
    # The last step is always drawn, in place, then erased before the results.
    assert "\rstep 30/30  loss " in shown and " step/s\x1b[K" in shown
    assert "\r\x1b[Ktrained on 228146 examples" in shown
    shown = _run_on_a_pty("train", "--steps", "30", "--json", cwd=tmp_path)
    assert "\x1b[K" not in shown and "step/s" not in shown
    assert json.loads(shown)["settings"]["steps"] == 30


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals on Windows")
def test_streaming_counts_show_progress_on_a_terminal(tmp_path):
    (tmp_path / "big.txt").write_text("anna\nbob\n" * 300_000, encoding="utf-8")   # 2.7 MB
    size = (tmp_path / "big.txt").stat().st_size
    shown = _run_on_a_pty("train", "--stream", "--data", "big.txt", "--steps", "2",
                          "--log-every", "0", "--samples", "0", cwd=tmp_path)
    # the last chunk is always drawn: every byte of the file counted, then erased
    assert f"\rbyte {size:,}/{size:,}  " in shown and " byte/s\x1b[K" in shown
    assert f"\r\x1b[Ktrained on {size} examples" in shown   # 'anna\n' is 5 pairs, 5 bytes
