"""Nothing lost (Ctrl-C, failed saves), any alphabet, progress on terminals, determinism."""

import json
import os
import signal
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minibigram import BigramModel, load_words
from minibigram import cli as cli_module
from minibigram import io as model_module


def minibigram(*args):
    return [sys.executable, "-m", "minibigram", *map(str, args)]


def run(*args, cwd=None):
    return subprocess.run(minibigram(*args), capture_output=True, cwd=cwd, timeout=180)


@pytest.fixture
def prev(tmp_path):
    """A model file already at the --out path: it must survive any failure."""
    path = tmp_path / "prev.npz"
    BigramModel.fit(["anna", "bob"], steps=2, lr=5.0).save(path)
    return path


# --- nothing lost --------------------------------------------------------------------------

def test_ctrl_c_during_training_ends_cleanly(tmp_path, prev):
    before = prev.read_bytes()
    # The one-hot engine on the 32,033 names takes a noticeable time per step, and a
    # million steps never finish: the run is surely still training when SIGINT comes.
    p = subprocess.Popen(minibigram("train", "--engine", "onehot", "--steps", "1000000",
                                    "--out", prev),
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()   # blocks until the first step is done: training started
        assert first.startswith("step    1  loss "), first
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130
    assert err == "minibigram: interrupted; no model file was left half-written.\n"
    assert prev.read_bytes() == before
    assert os.listdir(tmp_path) == ["prev.npz"]   # no temporary file left behind


def test_interrupted_or_failed_save_keeps_the_previous_file(tmp_path, prev, monkeypatch):
    before = prev.read_bytes()
    model = BigramModel.fit(["zoë", "åsa"], steps=1, lr=1.0)

    for exc in (KeyboardInterrupt, OSError(28, "No space left on device")):
        def half_write(f, *args, exc=exc, **kwargs):
            f.write(b"PK\x03\x04 half of a model file")
            raise exc

        monkeypatch.setattr(model_module.np, "savez", half_write)
        with pytest.raises((KeyboardInterrupt, OSError)) as info:
            model.save(prev)
        if isinstance(exc, OSError):
            assert str(info.value) == (f"cannot write {prev} (No space left on device): check "
                                       "the free space and that the path is a file you may "
                                       "replace.")
        assert prev.read_bytes() == before
        assert os.listdir(tmp_path) == ["prev.npz"]


def test_saved_files_get_the_permissions_open_would_give(tmp_path):
    """A new file is 0o666 less the umask (not mkstemp's 0o600); a replaced one keeps its mode."""
    model = BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)
    old = os.umask(0o022)
    try:
        model.save(tmp_path / "new.npz")
        (tmp_path / "kept.npz").write_bytes(b"")
        os.chmod(tmp_path / "kept.npz", 0o640)
        model.save(tmp_path / "kept.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "kept.npz").stat().st_mode & 0o777 == 0o640
    assert BigramModel.load(tmp_path / "kept.npz").vocab == model.vocab


def test_ctrl_c_anywhere_in_the_cli_is_one_line(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "load_words", interrupted)
    assert cli_module.main(["train"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err == "minibigram: interrupted; no model file was left half-written.\n"


def test_a_genuine_bug_is_not_swallowed(monkeypatch):
    """Only minibigram's own errors become one-line messages; a bug keeps its traceback."""
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli_module, "load_words", bug)
    with pytest.raises(ZeroDivisionError):
        cli_module.main(["train"])


# --- any alphabet --------------------------------------------------------------------------

# Characters that load_words cannot return inside a word, because a word list is a
# text file of lines: str.splitlines() also breaks lines at \v \f \x1c \x1d \x1e \x85
# \u2028 \u2029, and str.strip() removes any white space (U+00A0, U+3000, ...) at a
# word's ends. So words here hold no line breaks and white space only as inner ' '.
# ('.' is an ordinary character: the boundary is the line break.) Control, unassigned
# and surrogate code points are not text.
_RANGES = [(0x41, 0x7A), (0xC0, 0x17F),        # Latin, accented Latin
           (0x300, 0x36F),                     # combining diacritical marks
           (0x370, 0x3FF), (0x400, 0x4FF),     # Greek, Cyrillic
           (0x900, 0x97F)]                     # Devanagari, with its combining signs
ALPHABET = [c for lo, hi in _RANGES for c in map(chr, range(lo, hi + 1))
            if not c.isspace() and len(f"a{c}b".splitlines()) == 1
            and unicodedata.category(c) not in ("Cc", "Cn", "Cs", "Co")]
assert any(unicodedata.combining(c) for c in ALPHABET)

word = st.text(st.sampled_from([*ALPHABET, " ", "."]), min_size=1, max_size=8).filter(
    lambda w: w == w.strip())
word_lists = st.lists(word, min_size=1, max_size=12)


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=word_lists, seed=st.integers(0, 2**32 - 1))
def test_any_alphabet_trains_samples_scores_saves(tmp_path, words, seed):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    assert load_words(path) == words   # the file keeps every word exactly

    model = BigramModel.fit(load_words(path), steps=3, lr=5.0, seed=seed)
    assert model.vocab.itos[1:] == sorted(set("".join(words)))
    assert model.vocab.itos[0] == ("." if "." not in model.vocab.itos[1:] else "\u23ce")
    samples = model.sample(10, seed=seed)
    alphabet = set(model.vocab.itos[1:])
    assert all(set(s) <= alphabet for s in samples)
    nll = model.nll(words)
    assert np.isfinite(nll) and nll > 0
    assert np.isclose(-sum(model.log_prob(w) for w in words)
                      / sum(len(w) + 1 for w in words), nll)

    model.save(tmp_path / "m.npz")
    loaded = BigramModel.load(tmp_path / "m.npz")
    assert loaded.vocab == model.vocab and np.array_equal(loaded.W, model.W)
    assert loaded.sample(10, seed=seed) == samples
    assert loaded.nll(words) == nll


def test_any_alphabet_through_the_cli(tmp_path):
    words = ["Наталья", "Ελένη", "देवनागरी", "Zoë Ågård", "Acme Widgets", "किशोर", "Βασίλης"]
    (tmp_path / "w.txt").write_text("\r\n".join(words), encoding="utf-8-sig")   # Windows-style
    r = run("train", "--data", "w.txt", "--steps", "5", "--lr", "5", "--samples", "20",
            "--out", "m.npz", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.decode("utf-8"))
    m = BigramModel.load(tmp_path / "m.npz")
    assert out["vocab_size"] == len(set("".join(words))) + 1 == m.V
    assert all(set(s) <= set(m.vocab.itos[1:]) for s in out["samples"])
    r = run("score", "--model", "m.npz", "--json", *words, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    scores = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]   # JSON Lines
    assert [s["word"] for s in scores] == words
    assert np.allclose([s["nll"] for s in scores], [m.nll([w]) for w in words])


# --- progress ------------------------------------------------------------------------------

def test_no_progress_when_not_a_terminal(tmp_path):
    r = run("train", "--steps", "30", "--log-every", "0", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.startswith(b"trained on 228146 examples")
    assert b"\r" not in r.stderr and b"\x1b" not in r.stderr
    assert b"\r" not in r.stdout and b"\x1b" not in r.stdout


def _run_on_a_pty(*args, cwd):
    """Run the CLI with stdout and stderr on a pseudo-terminal; return what it wrote."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    p = subprocess.Popen(minibigram(*args), cwd=cwd, stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert p.wait(timeout=180) == 0
    return b"".join(chunks).decode("utf-8")


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


# --- determinism ---------------------------------------------------------------------------

def test_same_command_same_seed_same_bytes(tmp_path):
    (tmp_path / "w.txt").write_text("anna\nbob\ncara\nzoë\nΕλένη\n", encoding="utf-8")
    commands = [("train", "--steps", "20", "--json", "--out", "m.npz"),
                ("train", "--data", "w.txt", "--steps", "20", "--lr", "10", "--seed", "7",
                 "--samples", "30"),
                ("sample", "--model", "m.npz", "-n", "50", "--json"),
                ("sample", "--model", "m.npz", "-n", "50", "--seed", "123"),
                ("score", "--model", "m.npz", "emma", "xqz")]
    for args in commands:
        first, second = run(*args, cwd=tmp_path), run(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout and first.stdout, args
        assert first.stderr == second.stderr   # the status lines too (no timings without -v)


def test_progress_line_is_redrawn_in_place_and_erased():
    import io

    from minibigram.progress import Progress

    assert not Progress(3, stream=io.StringIO()).enabled   # not a terminal: silent
    out = io.StringIO()
    p = Progress(2000, stream=out, enabled=True, interval=0)
    p.update(1000, loss=2.5)
    p.update(2000, loss=2.25)
    p.close()
    frames = out.getvalue().split("\r")
    assert frames[0] == "" and frames[1].startswith("step 1,000/2,000  loss 2.5000  ")
    assert frames[2].startswith("step 2,000/2,000  loss 2.2500  ")
    assert all(f.endswith(" step/s\x1b[K") for f in frames[1:3]) and frames[3] == "\x1b[K"


def test_streaming_counts_report_progress(tmp_path):
    from minibigram import count_bigrams

    path = tmp_path / "w.txt"
    path.write_text("anna\nbob\ncara\nzoë\n" * 50, encoding="utf-8")
    seen = []
    counts = count_bigrams(path, chunk_bytes=64, progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == path.stat().st_size
    assert np.array_equal(counts.N, count_bigrams(path).N)
