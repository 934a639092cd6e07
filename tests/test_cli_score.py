"""`minibigram score` over arguments, stdin and files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import minibigram as mb


def run(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)], input=stdin,
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def names():
    return mb.load_words()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score")
    model = mb.CountModel.fit(context=2, smoothing=0.5)
    model.save(folder / "m.npz")
    return folder, model


def test_stdin_lines_agree_with_score_to_1e_12(saved, names):
    """20,000 words through a pipe: one TSV line each, equal to model.score."""
    folder, model = saved
    words = (names * 1)[:20000]
    r = run("score", "--model", folder / "m.npz", "-", stdin="\n".join(words) + "\n")
    assert r.returncode == 0, r.stderr
    lines = [ln.split("\t") for ln in r.stdout.splitlines()]
    assert [ln[0] for ln in lines] == words
    logp = np.array([float(ln[2]) for ln in lines])
    nll = np.array([float(ln[1]) for ln in lines])
    ref = model.score(words)
    assert np.abs(logp - ref).max() <= 1e-12
    assert np.abs(nll - (-ref / [len(w) + 1 for w in words])).max() <= 1e-12


def test_words_files_and_stdin_in_the_documented_order(saved, tmp_path):
    folder, model = saved
    (tmp_path / "a.txt").write_text("\ufeffcara\r\n\n  dave \n", encoding="utf-8")
    r = run("score", "--model", folder / "m.npz", "anna", "-", "bob", "--file",
            tmp_path / "a.txt", "-f", tmp_path / "a.txt", "--json", stdin="emma\nzed\n")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]   # JSON Lines
    order = ["anna", "emma", "zed", "bob", "cara", "dave", "cara", "dave"]
    assert [row["word"] for row in rows] == order
    assert [row["log_prob"] for row in rows] == model.score(order).tolist()


def test_skip_unknown_leaves_words_out_and_unk_scores_their_known_characters(saved):
    folder, model = saved
    r = run("score", "--model", folder / "m.npz", "--skip-unknown", "--json", "-",
            stdin="zoë\na.b\nANNA\nbob\n")
    assert r.returncode == 0   # --skip-unknown is --unknown skip: the words are left out
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["word"] for row in rows] == ["bob"]
    r = run("score", "--model", folder / "m.npz", "--skip-unknown", "-",
            stdin="zoë\na.b\nANNA\nbob\n")   # without --json, stderr says what was left out
    assert r.stderr.count("\n") == 1 and "skipped 3 words" in r.stderr
    assert "the first at <stdin> line 1" in r.stderr
    r = run("score", "--model", folder / "m.npz", "--unknown", "unk", "--json", "-",
            stdin="zoë\na.b\nANNA\nbob\n")
    assert r.returncode == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["unknown"] for row in rows] == [1, 1, 4, 0]
    assert [row["log_prob"] for i, row in enumerate(rows) if i != 2] == [
        model.log_prob(w) for w in ("zo", "ab", "bob")]
    # nothing known is left of ANNA: the empty word, the end token after the start
    assert rows[2]["log_prob"] == model.log_rows([[0] * model.K])[0, 0] == -rows[2]["nll"]


def test_bad_input_files_are_one_line(saved, tmp_path):
    folder, _ = saved
    (tmp_path / "bad.txt").write_bytes(b"anna\nb\xffb\n")
    for args, stdin, msg in (
            (["--file", tmp_path / "nope.txt"], None, "does not exist"),
            (["--file", tmp_path / "bad.txt"], None, "not UTF-8 text (undecodable byte at "
                                                      "line 2)"),
            (["-"], "anna\nzoë\n", "<stdin> line 2: the word 'zoë' contains 'ë'")):
        r = run("score", "--model", folder / "m.npz", *args, stdin=stdin)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and msg in r.stderr, r.stderr


def test_train_reads_stdin(tmp_path):
    words = "anna\nbob\ncara\n"
    r = run("train", "--data", "-", "--family", "counts", "--out", tmp_path / "m.npz",
            "--json", stdin=words)
    assert r.returncode == 0, r.stderr
    model = mb.load_model(tmp_path / "m.npz")
    assert model.settings["data"]["source"] == "<stdin>"
    assert model.settings["data"]["num_words"] == 3
    assert model.score(["anna"]).tolist() == mb.CountModel.fit(["anna", "bob", "cara"]).score(
        ["anna"]).tolist()
