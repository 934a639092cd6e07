"""The command line in general: train, sample, score and export, and the same bytes for the
same command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import pairs_by_hand

import minibigram as mb
from minibigram import BigramModel, CountModel


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=180)


def test_train_json_defaults(tmp_path):
    r = run("train", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["num_examples"] == 228146
    assert len(out["losses"]) == 100 and all(isinstance(x, float) for x in out["losses"])
    assert out["losses"][-1] < out["losses"][0]
    assert out["final_loss"] < out["losses"][-1]
    assert len(out["samples"]) == 15 and all("." not in s for s in out["samples"])
    s = out["settings"]
    assert (s["steps"], s["lr"], s["reg"], s["seed"], s["dtype"]) == (
        100, 50.0, 0.01, 2147483647, "float32")
    assert list(tmp_path.iterdir()) == []   # nothing written without --out


def test_train_human_output_then_sample_and_score(tmp_path):
    words = tmp_path / "w.txt"
    words.write_text("anna\nbob\ncara\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    r = run("train", "--data", str(words), "--steps", "7", "--lr", "2", "--samples", "4",
            "--log-every", "3", "--out", str(model))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()   # the losses asked for, then the samples: no status
    assert [ln.split()[1] for ln in lines[:4]] == ["1", "3", "6", "7"]
    m = BigramModel.load(model)
    assert len(m.history) == 7
    assert lines[4:] == m.sample(4, seed=2147483647)
    status = r.stderr.splitlines()
    assert status[:2] == [f"saved the model to {model}",
                          "trained on 14 examples, vocabulary of 7; final loss "
                          f"{m.final_loss:.7f} (mean NLL + L2 term)"]
    # then how far gradient descent stopped from the optimum, and the flag that closes it
    assert len(status) == 3 and status[2].startswith("after 7 steps of gradient descent the "
                                                     "gradient norm is ")
    assert status[2].endswith("--solver newton reaches the optimum (or give more --steps)")

    r = run("sample", "--model", str(model), "-n", "6", "--seed", "3", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["samples"] == m.sample(6, seed=3)

    r = run("score", "--model", str(model), "anna", "bob", "--json")
    assert r.returncode == 0, r.stderr
    scores = [json.loads(line) for line in r.stdout.splitlines()]   # JSON Lines
    assert [s["word"] for s in scores] == ["anna", "bob"]
    assert np.isclose(scores[0]["nll"], m.nll(["anna"]))
    r = run("score", "--model", str(model), "anna")   # word, nll, log_prob; tab-separated
    assert r.returncode == 0
    word, nll, log_prob = r.stdout.rstrip("\n").split("\t")
    assert word == "anna" and float(log_prob) == m.log_prob("anna")
    assert float(nll) == m.word_scores(["anna"])[1][0] == pytest.approx(m.nll(["anna"]),
                                                                       rel=1e-12)


def test_bad_input_is_one_line_and_status_2(tmp_path):
    for args in (["train", "--data", str(tmp_path / "missing.txt")],
                 ["train", "--lr", "nan"],
                 ["train", "--steps", "-1"],
                 ["sample", "--model", str(tmp_path / "nope.npz")]):
        r = run(*args)
        assert r.returncode == 2, args
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("minibigram: error: "), r.stderr


def test_console_script_and_module_agree(tmp_path):
    """The installed ``minibigram`` command is ``python -m minibigram``.

    It exists once the package is pip-installed (as CI does, where a skip fails).
    """
    exe = shutil.which("minibigram") or os.path.join(os.path.dirname(sys.executable),
                                                     "minibigram")
    if not os.path.exists(exe):
        pytest.skip("the minibigram console script is installed by 'pip install .'")
    args = ["train", "--steps", "3", "--samples", "3", "--json"]
    script = subprocess.run([exe, *args], capture_output=True, text=True, cwd=tmp_path,
                            timeout=120)
    module = run(*args, cwd=tmp_path)
    assert script.returncode == module.returncode == 0, script.stderr
    assert script.stdout == module.stdout and json.loads(script.stdout)["samples"]
    assert run("--version").stdout.startswith("minibigram ")


def test_json_is_strict_when_a_probability_is_zero(tmp_path):
    """A word the k=0 count model calls impossible scores -inf: JSON null, not -Infinity."""
    words = tmp_path / "w.txt"
    words.write_text("ab\nba\n", encoding="utf-8")
    model = tmp_path / "c.npz"
    r = run("train", "--data", str(words), "--family", "counts", "--smoothing", "0",
            "--out", str(model), "--json")
    assert r.returncode == 0, r.stderr
    r = run("score", "--model", str(model), "ab", "aa", "--json")
    assert r.returncode == 0, r.stderr

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    scores = [json.loads(line, parse_constant=refuse) for line in r.stdout.splitlines()]
    assert np.isfinite(scores[0]["log_prob"]) and scores[0]["log_prob"] < 0
    assert scores[1]["log_prob"] is None and scores[1]["nll"] is None


def test_train_stream_equals_reading_the_words(tmp_path):
    """--stream counts the file in chunks; the counts, so the training, are the same."""
    words = tmp_path / "w.txt"
    words.write_text("\ufeff" + "anna\r\nbob\n\n  cara \nzoë\n" * 50, encoding="utf-8")
    for extra in (["--lr", "5"], ["--solver", "newton", "--dtype", "float64"]):
        plain = run("train", "--data", str(words), "--steps", "20", "--json", *extra)
        streamed = run("train", "--data", str(words), "--stream", "--steps", "20", "--json",
                       *extra)
        assert plain.returncode == streamed.returncode == 0, streamed.stderr
        a, b = json.loads(plain.stdout), json.loads(streamed.stdout)
        assert a["num_examples"] == b["num_examples"] == 50 * (5 + 4 + 5 + 4)
        assert a["losses"] == b["losses"] and a["samples"] == b["samples"]
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-12)


def test_train_from_the_text_is_the_fit_of_its_words(tmp_path):
    """train's bigram network counts the file's text without making its words: the same
    losses, to the last bit, and the same record of the data as fitting load_words' words."""
    path = tmp_path / "w.txt"
    path.write_text("anna\nbob\n\ncara\nzoe\n" * 50, encoding="utf-8")   # plain: no words made
    for extra, fit in ((["--steps", "20"], {"steps": 20}),
                       (["--solver", "newton"], {"solver": "newton"})):
        r = run("train", "--data", path, "--json", *extra)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        model = BigramModel.fit(mb.load_words(path), **fit)
        assert out["losses"] == model.history and out["final_loss"] == model.final_loss
        assert out["settings"]["data"] == model.settings["data"]
        assert out["num_examples"] == model.settings["num_examples"] == 50 * 18


def test_train_stream_refuses_what_needs_the_words(tmp_path):
    for args, msg in ((["--stream", "--split", "80/10/10"], "cannot be split"),
                      (["--stream", "--engine", "index"], "the index engine cannot use"),
                      (["--stream", "--dask"], "give one of them")):
        r = run("train", *args, cwd=tmp_path)
        assert r.returncode == 2 and msg in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_cli_solver_newton():
    out = subprocess.run([sys.executable, "-m", "minibigram", "train", "--solver", "newton",
                          "--dtype", "float64", "--samples", "2", "--json"],
                         capture_output=True, text=True, check=True).stdout
    res = json.loads(out)
    assert round(res["final_loss"], 7) == 2.4803990
    assert res["settings"]["solver"] == "newton" and res["settings"]["steps"] <= 10
    assert len(res["losses"]) == res["settings"]["steps"]   # the loss before each step
    assert res["final_loss"] < res["losses"][-1]


def minibigram(*args):
    return [sys.executable, "-m", "minibigram", *map(str, args)]


def run_bytes(*args, cwd=None):
    return subprocess.run(minibigram(*args), capture_output=True, cwd=cwd, timeout=180)


def test_any_alphabet_through_the_cli(tmp_path):
    words = ["Наталья", "Ελένη", "देवनागरी", "Zoë Ågård", "Acme Widgets", "किशोर", "Βασίλης"]
    (tmp_path / "w.txt").write_text("\r\n".join(words), encoding="utf-8-sig")   # Windows-style
    r = run_bytes("train", "--data", "w.txt", "--steps", "5", "--lr", "5", "--samples", "20",
                  "--out", "m.npz", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.decode("utf-8"))
    m = BigramModel.load(tmp_path / "m.npz")
    assert out["vocab_size"] == len(set("".join(words))) + 1 == m.V
    assert all(set(s) <= set(m.vocab.itos[1:]) for s in out["samples"])
    r = run_bytes("score", "--model", "m.npz", "--json", *words, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    scores = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]   # JSON Lines
    assert [s["word"] for s in scores] == words
    assert np.allclose([s["nll"] for s in scores], [m.nll([w]) for w in words])


def test_same_command_same_seed_same_bytes(tmp_path):
    (tmp_path / "w.txt").write_text("anna\nbob\ncara\nzoë\nΕλένη\n", encoding="utf-8")
    commands = [("train", "--steps", "20", "--json", "--out", "m.npz"),
                ("train", "--data", "w.txt", "--steps", "20", "--lr", "10", "--seed", "7",
                 "--samples", "30"),
                ("sample", "--model", "m.npz", "-n", "50", "--json"),
                ("sample", "--model", "m.npz", "-n", "50", "--seed", "123"),
                ("score", "--model", "m.npz", "emma", "xqz")]
    for args in commands:
        first, second = run_bytes(*args, cwd=tmp_path), run_bytes(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout and first.stdout, args
        assert first.stderr == second.stderr   # the status lines too (no timings without -v)


def test_train_score_sample_on_dotted_words(tmp_path):
    (tmp_path / "w.txt").write_text("St. Louis\na.b@example.org\nJr.\n", encoding="utf-8")
    r = run("train", "-d", "w.txt", "--steps", "20", "--lr", "5", "-n", "30", "-o", "m.npz",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = BigramModel.load(tmp_path / "m.npz")
    assert m.vocab.itos[0] == "\u23ce" and "." in m.vocab.itos
    samples = r.stdout.splitlines()[20:]
    assert samples == m.sample(30) and any("." in s for s in samples)
    assert all(set(s) <= set(m.vocab.itos[1:]) for s in samples)

    r = run("score", "-m", "m.npz", "--json", "St. Louis", "a.b@example.org", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    scores = [json.loads(line) for line in r.stdout.splitlines()]   # JSON Lines
    P = m.table()
    for s, w in zip(scores, ["St. Louis", "a.b@example.org"]):
        by_hand = sum(np.log(P[a, b]) for a, b in pairs_by_hand([w], m.vocab.stoi))
        assert s["log_prob"] == pytest.approx(by_hand, rel=1e-6)

    r = run("sample", "-m", "m.npz", "-n", "30", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines() == samples, r.stderr


def test_temperature_zero_on_the_command_line(tmp_path):
    CountModel.fit(["ab", "ab", "b"]).save(tmp_path / "c.npz")   # . -> a -> b -> .
    r = run("sample", "-m", "c.npz", "-n", "3", "--temperature", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == CountModel.load(tmp_path / "c.npz").sample(
        3, temperature=0) == ["ab"] * 3


def test_cli_export_both_formats(tmp_path):
    model = mb.CountModel.fit(context=2)
    model.save(tmp_path / "m.npz")
    for fmt in ("json", "arpa"):
        out = tmp_path / f"m.{fmt}"
        r = subprocess.run([sys.executable, "-m", "minibigram", "export", "--model",
                            str(tmp_path / "m.npz"), "--format", fmt, "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert out.read_text(encoding="utf-8").startswith("{" if fmt == "json" else "\\data\\")
    r = subprocess.run([sys.executable, "-m", "minibigram", "export", "--model",
                        str(tmp_path / "m.npz"), "--format", "json", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is a folder" in r.stderr


def test_cli_train_replays_the_notebook_without_torch(tmp_path):
    """`minibigram train --json`, no other option, in a Python where torch cannot be imported."""
    code = ("import runpy, sys; sys.modules['torch'] = None; "
            "sys.argv = ['minibigram', 'train', '--json']; "
            "runpy.run_module('minibigram', run_name='__main__')")  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    notebook = [3.768618583679199, 3.3788068294525146, 3.161090850830078]
    np.testing.assert_allclose(out["losses"][:3], notebook, rtol=0, atol=1e-6)
    assert out["losses"][53] == pytest.approx(2.507380247116089, abs=1e-6)
    assert len(out["losses"]) == 100
    assert out["losses"][99] == pytest.approx(2.4901304, abs=1e-6)   # where the notebook stops
    # the published notebook's era: its names after 100 steps (it printed them after more)
    assert out["samples"][:4] == ["mor", "axx", "minaymoryles", "kondmaisah"]
    assert (out["settings"]["init"], out["sampler"]) == ("torch", "torch-cdf")
