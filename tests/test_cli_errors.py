"""Every bad input of issue #7, through the CLI and through the library.

The CLI must print exactly one line ``minibigram: error: ...`` on stderr, nothing
on stdout, no traceback, exit with status 2, and leave the folder as it was (no
file written, none clobbered). The library must raise the documented exception
type, with the very message the CLI printed.
"""

import json
import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest

from minibigram import (
    BigramModel,
    DataError,
    FileAccessError,
    ModelFileError,
    TrainingError,
    load_words,
    training,
)
from minibigram import cli as cli_module

PREFIX = "minibigram: error: "


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def cli_error(tmp_path, *args):
    """Run the CLI; check the one-line error contract; return the message."""
    before = snapshot(tmp_path)
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert r.stdout == "", r.stdout
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(PREFIX) and r.stderr.endswith("\n"), r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert snapshot(tmp_path) == before, "the failed command changed files"
    return r.stderr[len(PREFIX):-1]


def same_error(tmp_path, exc_type, call, *args):
    """The library raises ``exc_type`` from ``call()``; the CLI prints its message."""
    with pytest.raises(exc_type) as info:
        call()
    message = cli_error(tmp_path, *args)
    assert message == str(info.value)
    return message


# --- the word list -----------------------------------------------------------------------

def test_missing_data_file(ws):
    p = ws / "missing.txt"
    msg = same_error(ws, FileAccessError, lambda: load_words(p),
                     "train", "--data", p, "--out", ws / "prev.npz")
    assert msg == f"{p} does not exist: check the path, or give no path to use the " \
                  "embedded names."
    assert issubclass(FileAccessError, OSError)


def test_data_path_is_a_folder(ws):
    (ws / "dir").mkdir()
    msg = same_error(ws, FileAccessError, lambda: load_words(ws / "dir"),
                     "train", "--data", ws / "dir")
    assert "is a folder, not a file" in msg


def test_empty_file_and_blank_lines_differ(ws):
    (ws / "empty.txt").write_bytes(b"")
    (ws / "blank.txt").write_bytes(b"\n   \r\n\t\n")
    empty = same_error(ws, DataError, lambda: load_words(ws / "empty.txt"),
                       "train", "--data", ws / "empty.txt", "--out", ws / "prev.npz")
    blank = same_error(ws, DataError, lambda: load_words(ws / "blank.txt"),
                       "train", "--data", ws / "blank.txt")
    assert empty.endswith("empty.txt is empty: give a file with one word per line.")
    assert blank.endswith("blank.txt holds only blank lines: give a file with one word per line.")
    # A file holding just a byte-order mark is empty too.
    (ws / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    assert "is empty" in cli_error(ws, "train", "--data", ws / "bom.txt")


def test_not_utf8_names_the_line(ws):
    (ws / "latin1.txt").write_bytes("anna\nbob\nzo\xeb\n".encode("latin-1"))
    msg = same_error(ws, DataError, lambda: load_words(ws / "latin1.txt"),
                     "train", "--data", ws / "latin1.txt")
    assert "is not UTF-8 text (undecodable byte at line 3)" in msg and "save it as UTF-8" in msg
    (ws / "binary.npz").write_bytes((ws / "m.npz").read_bytes())   # a model given as --data
    assert "is not UTF-8" in cli_error(ws, "train", "--data", ws / "binary.npz")


def test_nul_character_names_its_line(ws):
    # ('.' used to be refused here; it is an ordinary character now: see test_vocab.py.)
    (ws / "nul.txt").write_text("anna\n\nj\x00r\n", encoding="utf-8")
    msg = same_error(ws, DataError, lambda: load_words(ws / "nul.txt"),
                     "train", "--data", ws / "nul.txt")
    assert msg == (f"{ws / 'nul.txt'} line 3 holds a NUL character (U+0000), which is not "
                   "text: give a text file with one word per line.")


def test_bom_and_crlf_are_read_transparently(ws):
    (ws / "win.txt").write_bytes("\ufeffanna\r\nbob\r\ncara\r\n".encode())
    r = run("train", "--data", ws / "win.txt", "--steps", "2", "--lr", "5", "--json", cwd=ws)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["vocab_size"] == 7   # . a b c n o r: no \ufeff, no \r
    assert load_words(ws / "win.txt") == ["anna", "bob", "cara"]


# --- scoring -------------------------------------------------------------------------------

def test_unknown_character_at_score_time(ws):
    m = BigramModel.load(ws / "m.npz")
    msg = same_error(ws, DataError, lambda: m.nll(["anna", "boë"]),
                     "score", "--model", ws / "m.npz", "boë", "anna")
    # every word before it is scored and written first
    r = run("score", "--model", ws / "m.npz", "anna", "boë", cwd=ws)
    assert r.returncode == 2 and r.stdout.startswith("anna\t") and r.stdout.count("\n") == 1
    assert r.stderr == f"minibigram: error: {msg}\n"
    assert msg == ("the word 'boë' contains 'ë' (U+00EB), which is not in the model's "
                   "vocabulary: leave it out with --skip-unknown (skip_unknown=True), or train "
                   "on data that contains it.")
    with pytest.raises(DataError, match=r"'z' \(U\+007A\) and 'ë' \(U\+00EB\), which are"):
        m.log_prob("zoë")


def test_boundary_character_in_a_scored_word(ws):
    m = BigramModel.load(ws / "m.npz")
    msg = same_error(ws, DataError, lambda: m.log_prob("an.na"),
                     "score", "--model", ws / "m.npz", "an.na")
    # The names have no '.': it is a character the model never saw, not a boundary.
    assert msg == ("the word 'an.na' contains '.' (U+002E), which is not in the model's "
                   "vocabulary: leave it out with --skip-unknown (skip_unknown=True), or train "
                   "on data that contains it.")
    assert m.log_prob("an.na", skip_unknown=True) == m.log_prob("anna")


def test_unknown_unk_scores_the_word_without_them_and_skip_leaves_it_out(ws):
    m = BigramModel.load(ws / "m.npz")
    r = run("score", "--model", ws / "m.npz", "--unknown", "unk", "--json", "boë", "bob",
            cwd=ws)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]   # JSON Lines
    assert rows[0]["unknown"] == 1 and rows[1]["unknown"] == 0
    assert rows[0]["nll"] == pytest.approx(m.nll(["bo"]))
    assert rows[0]["log_prob"] == pytest.approx(m.log_prob("bo"))
    assert m.log_prob("boë", skip_unknown=True) == m.log_prob("bo")
    r = run("score", "--model", ws / "m.npz", "--unknown", "unk", "boë", cwd=ws)
    assert r.returncode == 0 and r.stdout.split("\t")[3] == "1\n"   # the unknown count
    r = run("score", "--model", ws / "m.npz", "--skip-unknown", "boë", "bob", cwd=ws)
    assert r.returncode == 0 and [ln.split("\t")[0] for ln in r.stdout.splitlines()] == ["bob"]


# --- model files ---------------------------------------------------------------------------

def test_missing_model_file_and_folder(ws):
    p = ws / "nope.npz"
    msg = same_error(ws, FileAccessError, lambda: BigramModel.load(p),
                     "sample", "--model", p)
    assert msg == (f"{p} does not exist: check the path, or train a model with "
                   "model.save(path) or 'minibigram train --out MODEL.npz'.")
    msg = same_error(ws, FileAccessError, lambda: BigramModel.load(ws),
                     "score", "--model", ws, "anna")
    assert "is a folder, not a model file" in msg


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_truncated_or_corrupt_model(ws, damage):
    raw = bytearray((ws / "m.npz").read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    else:   # flip bytes inside the stored W: the zip's CRC check catches it
        i = raw.index(b"W.npy") + 200
        raw[i:i + 16] = bytes(b ^ 0xFF for b in raw[i:i + 16])
    p = ws / f"{damage}.npz"
    p.write_bytes(bytes(raw))
    msg = same_error(ws, ModelFileError, lambda: BigramModel.load(p), "sample", "--model", p)
    assert msg == f"{p} is truncated or corrupt: retrain the model or use another copy."


def test_text_or_npy_file_as_model(ws):
    np.save(ws / "one.npy", np.zeros(3))
    for p in (ws / "words.txt", ws / "one.npy"):
        msg = same_error(ws, ModelFileError, lambda p=p: BigramModel.load(p),
                         "sample", "--model", p)
        assert msg == (f"{p} is not a minibigram model file (not an .npz archive): give the "
                       "file written by model.save or 'minibigram train --out'.")


class _Payload:
    """Unpickling this creates a marker file: proof that a pickle was (not) loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_model_file_is_never_unpickled(ws, tmp_path_factory):
    proof = tmp_path_factory.mktemp("proof") / "unpickled"
    pickle.loads(pickle.dumps(_Payload(proof))).close()
    assert proof.exists(), "the payload must be able to create the marker"

    marker = ws.parent / f"{ws.name}-marker"
    (ws / "raw.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    m = BigramModel.load(ws / "m.npz")
    with open(ws / "obj.npz", "wb") as f:   # a real .npz whose W is a pickled object array
        np.savez(f, meta=np.array(json.dumps({"format": "minibigram-1", "kind": "bigram",
                                              "settings": {}})),
                 itos=np.array(m.vocab.itos), history=np.zeros(1),
                 W=np.array([_Payload(marker)], dtype=object))
    for name in ("raw.pkl", "obj.npz"):
        p = ws / name
        for args in (["sample", "--model", p], ["score", "--model", p, "anna"],
                     ["plot", "--model", p, "--out", ws / "x.png"]):
            msg = same_error(ws, ModelFileError, lambda p=p: BigramModel.load(p), *args)
            assert "pickled Python object" in msg and "refuses to load" in msg
    assert not marker.exists(), "a pickle was unpickled"


def _write_model(path, **changes):
    """A model file like :meth:`BigramModel.save` writes, with some arrays replaced."""
    m = BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)
    arrays = {"meta": np.array(json.dumps({"format": "minibigram-1", "kind": "bigram",
                                           "settings": {}})),
              "itos": np.array(m.vocab.itos), "history": np.zeros(1), "W": m.W}
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize("changes, expected", [
    ({"W": np.zeros((6, 6), np.float32)}, "holds W of shape (6, 6) but a vocabulary of 5 "
     "characters, which do not fit together: retrain the model or use another copy."),
    ({"W": np.zeros((5, 5), np.int64)}, "holds W of dtype int64, not float32 or float64"),
    ({"W": np.full((5, 5), np.nan, np.float32)}, "holds NaN or infinite values in W: retrain"),
    ({"W": None}, "lacks the array W: it is not a minibigram bigram model file."),
    ({"itos": np.array([".", "ab", "n", "o", "b", "c"])}, "has an invalid vocabulary"),
    ({"itos": np.array([".", "o", "n", "b", "a", "x"])}, "not sorted or with repeats"),
    ({"history": np.zeros((2, 2))}, "has a training history of shape (2, 2)"),
    ({"meta": np.array("{")}, "has an unreadable header"),
    ({"meta": np.array('{"format": "minibigram-1", "settings": {}}')}, "unreadable header"),
    ({"meta": np.array('{"format": "minibigram-1", "kind": "count", "settings": {}}')},
     "holds a count model, not a bigram model"),
])
def test_arrays_that_do_not_fit_together(ws, changes, expected):
    p = ws / "bad.npz"
    _write_model(p, **changes)
    msg = same_error(ws, ModelFileError, lambda: BigramModel.load(p), "sample", "--model", p)
    assert msg.startswith(str(p)) and expected in msg, msg


# --- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["train", "--samples", "-5"],
     "argument -n/--samples: the number of samples must be a whole number >= 0, got -5"),
    (["train", "--steps", "-1"],
     "argument --steps: the number of steps must be a whole number >= 0, got -1"),
    (["train", "--steps", "ten"],
     "argument --steps: the number of steps must be a whole number >= 0, got 'ten'"),
    (["train", "--lr", "nan"],
     "argument --lr: the learning rate must be a finite number > 0, got nan"),
    (["train", "--lr", "inf"],
     "argument --lr: the learning rate must be a finite number > 0, got inf"),
    (["train", "--lr", "0"], "argument --lr: the learning rate must be a finite number > 0, got 0"),
    (["train", "--lr", "-1"], "argument --lr: the learning rate must be a finite number > 0"),
    (["train", "--reg", "nan"], "argument --reg: reg must be a finite number >= 0, got nan"),
    (["train", "--seed", "-1"],
     "argument -s/--seed: the seed must be a whole number from 0 to 2**64 - 1, got -1"),
    (["gradcheck", "--seed", "-1"],
     "argument -s/--seed: the seed must be a whole number from 0 to 2**64 - 1, got -1"),
    (["sample", "--model", "m.npz", "-n", "-5"],
     "argument -n: the number of samples must be a whole number >= 0"),
    (["sample", "--model", "m.npz", "--seed", str(2**64)],
     "argument -s/--seed: the seed must be a whole number from 0 to 2**64 - 1"),
    (["train", "--engine", "gpu"], "argument --engine: invalid choice: 'gpu'"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_bad_settings_on_the_command_line(ws, args, expected):
    msg = cli_error(ws, *args, *(["--out", ws / "prev.npz"] if args[0] == "train" else []))
    assert msg.startswith(expected) and msg.endswith("--help')."), msg


def test_score_without_words_is_one_line(ws):
    """Words may come from arguments, '-' or --file: none at all is one clear line."""
    msg = cli_error(ws, "score", "--model", "m.npz")
    assert msg == ("there are no words to score: give words, '-' to read them from standard "
                   "input, or a file.")


# --- training that diverges ----------------------------------------------------------------

def test_divergence_stops_names_the_step_and_keeps_the_previous_model(ws):
    words = load_words(ws / "words.txt")
    msg = same_error(ws, TrainingError,
                     lambda: BigramModel.fit(words, lr=1e30, reg=0, steps=50),
                     "train", "--data", ws / "words.txt", "--lr", "1e30", "--reg", "0",
                     "--steps", "50", "--log-every", "0", "--out", ws / "prev.npz")
    assert msg.startswith("training diverged: the loss ")
    assert " at step " in msg
    assert msg.endswith("; try a learning rate smaller than 1e+30, e.g. 1e+29.")
    # cli_error checked that prev.npz is byte-for-byte what it was.
    assert BigramModel.load(ws / "prev.npz").W.shape == (7, 7)


def test_log_lines_before_divergence_are_kept_but_error_is_one_line(ws):
    r = run("train", "--data", ws / "words.txt", "--lr", "1e30", "--reg", "0", "--steps", "50",
            cwd=ws)
    assert r.returncode == 2
    assert r.stdout.startswith("step    1  loss ")   # the steps that did run are shown
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(PREFIX + "training diverged")


# --- writing -------------------------------------------------------------------------------

def test_out_in_a_missing_folder_fails_before_training(ws):
    out = ws / "no" / "such" / "m.npz"
    m = BigramModel.load(ws / "m.npz")
    msg = same_error(ws, FileAccessError, lambda: m.save(out),
                     "train", "--data", ws / "words.txt", "--out", out)
    assert msg == (f"cannot write {out}: the folder {out.parent} does not exist; create it "
                   "first or choose another path.")
    msg = same_error(ws, FileAccessError, lambda: m.save(ws), "train", "--out", ws)
    assert msg == f"{ws} is a folder: give a file name such as {ws}/model.npz."


@pytest.mark.parametrize("kind", ["counts", "ngram"])
def test_every_model_kind_names_the_unknown_character(ws, kind):
    from minibigram import CountModel, NGramModel

    words = ["anna", "bob", "cara"]
    m = CountModel.fit(words, context=2) if kind == "counts" else NGramModel.fit(words, context=2)
    m.save(ws / f"{kind}.npz")
    msg = same_error(ws, DataError, lambda: m.nll(["boë"]),
                     "score", "--model", ws / f"{kind}.npz", "boë")
    assert msg.startswith("the word 'boë' contains 'ë' (U+00EB), which is not in the model's")
    assert m.log_prob("boë", skip_unknown=True) == m.log_prob("bo")


def test_eval_words_with_characters_the_model_lacks(ws):
    (ws / "few.txt").write_text("anna\nbob\n", encoding="utf-8")
    (ws / "more.txt").write_text("anna\ncara\nbob\nnan\n", encoding="utf-8")
    assert run("train", "--data", ws / "few.txt", "--steps", "2", "--out", ws / "m.npz",
               cwd=ws).returncode == 0
    msg = cli_error(ws, "eval", "--model", ws / "m.npz", "--data", ws / "more.txt")
    assert msg == (f"{ws / 'more.txt'} line 2: the word 'cara' contains 'c' (U+0063) and 'r' "
                   "(U+0072), which are not in the model's vocabulary: leave them out with "
                   "--skip-unknown (skip_unknown=True), or train on data that contains them.")
    msg = cli_error(ws, "eval", "--model", ws / "m.npz", "--data", ws / "more.txt",
                    "--split", "50/25/25", "--split-seed", "0")
    assert msg.startswith("the ") and "'c' (U+0063)" in msg and "vocabulary lacks" in msg


def test_a_split_scores_dev_words_with_characters_train_lacks(ws):
    """The vocabulary comes from all the words, so every model kind can score dev and test."""
    (ws / "few.txt").write_text("anna\nbob\ncara\n", encoding="utf-8")
    for kind in ("network", "counts"):
        steps = ["--steps", "2"] if kind == "network" else []
        r = run("train", "--data", ws / "few.txt", "--split", "50/25/25", *steps,
                "--family", kind, "--json", cwd=ws)
        assert r.returncode == 0, r.stderr
        losses = json.loads(r.stdout)["eval"]
        assert set(losses) == {"train", "dev", "test"}
        assert all(v is None or v > 0 for v in losses.values())


def minibigram(*args):
    return [sys.executable, "-m", "minibigram", *map(str, args)]


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


def test_ctrl_c_anywhere_in_the_cli_is_one_line(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "count_stream", interrupted)   # train reads its data
    assert cli_module.main(["train"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err == "minibigram: interrupted; no model file was left half-written.\n"


def test_a_genuine_bug_is_not_swallowed(monkeypatch):
    """Only minibigram's own errors become one-line messages; a bug keeps its traceback."""
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(training, "count_stream", bug)
    with pytest.raises(ZeroDivisionError):
        cli_module.main(["train"])
