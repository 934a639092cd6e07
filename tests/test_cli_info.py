"""Provenance: a model records its data; info shows it; eval and sample --mark use it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

import minibigram as mb


def run(*args, cwd, stdin=None):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)], input=stdin,
                          capture_output=True, text=True, cwd=cwd, timeout=300)


WORDS = "anna\nbob\ncara\ndave\nemma\nfred\ngina\nhank\nida\njoe\n"


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "w.txt").write_text(WORDS, encoding="utf-8")
    return tmp_path


def test_info_shows_the_training_files_sha256(ws):
    r = run("train", "--data", "w.txt", "--split", "80/10/10", "--split-seed", "3",
            "--steps", "2", "--out", "m.npz", "--samples", "0", cwd=ws)
    assert r.returncode == 0, r.stderr
    info = json.loads(run("info", "--model", "m.npz", "--json", cwd=ws).stdout)
    digest = hashlib.sha256(WORDS.encode()).hexdigest()
    assert info["data"] == {"source": str(ws / "w.txt"), "sha256": digest, "num_words": 10}
    assert (info["split"], info["split_seed"], info["minibigram"]) == ("80/10/10", 3,
                                                                       mb.__version__)
    assert (info["kind"], info["context"], info["vocab_size"]) == ("bigram", 1, 17)
    assert info["settings"]["steps"] == 2 and info["final_loss"] > 0
    text = run("info", "--model", "m.npz", cwd=ws).stdout
    assert digest in text and "80/10/10 (seed 3)" in text


def test_eval_without_data_scores_the_models_own_data(ws):
    assert run("train", "--data", "w.txt", "--family", "counts", "--out", "m.npz",
               "--samples", "0", cwd=ws).returncode == 0
    model = mb.load_model(ws / "m.npz")
    r = run("eval", "--model", "m.npz", "--json", cwd=ws)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert json.loads(r.stdout)["eval"]["all"] == model.nll(mb.load_words(ws / "w.txt"))
    r = run("eval", "--model", "m.npz", "--split", "80/10/10", cwd=ws)
    assert r.returncode == 0
    assert "trained on all of these words, so its dev and test words were seen" in r.stderr
    r = run("sample", "--model", "m.npz", "--mark", "-n", "40", "--json", cwd=ws)
    out = json.loads(r.stdout)
    assert all((m == "in-train") == (s in WORDS.split()) for s, m in
               zip(out["samples"], out["marks"]))
    (ws / "w.txt").write_text(WORDS + "kim\n", encoding="utf-8")   # changed since training
    r = run("eval", "--model", "m.npz", cwd=ws)
    assert "has changed since training (its sha256 differs); using the embedded names" \
        in r.stderr


def test_fallback_to_the_embedded_names_is_said(ws):
    model = mb.BigramModel.fit(steps=2)
    model.settings.pop("data")   # as a model file from before provenance
    model.save(ws / "old.npz")
    r = run("eval", "--model", "old.npz", "--json", cwd=ws)
    assert r.returncode == 0
    assert r.stderr == ("minibigram: note: the model does not record its training data; "
                        "using the embedded names (give the data to choose).\n")
    assert json.loads(r.stdout)["eval"]["all"] == pytest.approx(model.nll(mb.load_words()))
    info = json.loads(run("info", "--model", "old.npz", "--json", cwd=ws).stdout)
    assert info["data"] is None
    assert "not recorded" in run("info", "--model", "old.npz", cwd=ws).stdout
    r = run("eval", "--model", "old.npz", "--split", "80/10/10", cwd=ws)
    assert "records no split" in r.stderr
