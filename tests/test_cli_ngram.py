"""Issue 5 on the command line: model kinds, contexts, splits, eval, sweep, sampling controls."""

import json
import subprocess
import sys

import numpy as np
import pytest

from minibigram import CountModel, NGramModel, load_model, load_words, split_words


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "minibigram", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_train_counts_with_split_then_eval_sample_score(tmp_path):
    out = tmp_path / "c.npz"
    r = run("train", "--family", "counts", "--context", "2", "--smoothing", "0.1",
            "--split", "80/10/10", "--split-seed", "3", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    names = load_words()
    train, dev, test = split_words(names, (0.8, 0.1, 0.1), seed=3)
    ref = CountModel.fit(train, context=2, smoothing=0.1)
    assert res["eval"]["train"] == pytest.approx(ref.nll(train), rel=1e-12)
    assert res["eval"]["dev"] == pytest.approx(ref.nll(dev), rel=1e-12)
    assert res["eval"]["test"] == pytest.approx(ref.nll(test), rel=1e-12)
    assert res["num_examples"] == sum(len(w) + 1 for w in train)
    assert isinstance(load_model(out), CountModel)

    r = run("eval", "--model", str(out), "--json")          # the model's own split
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["eval"] == res["eval"]
    r = run("eval", "--model", str(out))
    assert r.returncode == 0 and "dev" in r.stdout and "test" in r.stdout

    r = run("sample", "--model", str(out), "-n", "30", "--mark", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    where = {**dict.fromkeys(test, "in-test"), **dict.fromkeys(dev, "in-dev"),
             **dict.fromkeys(train, "in-train")}
    assert s["marks"] == [where.get(w, "new") for w in s["samples"]]
    assert "new" in s["marks"] and "in-train" in s["marks"]
    r = run("sample", "--model", str(out), "-n", "5", "--mark")
    assert r.returncode == 0 and all(ln.split()[-1] in ("in-train", "in-dev", "in-test", "new")
                                     for ln in r.stdout.splitlines())

    r = run("sample", "--model", str(out), "-n", "20", "--top-k", "1", "--temperature", "0.5",
            "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["samples"] == load_model(out).sample(
        20, seed=2147483647, top_k=1, temperature=0.5)

    r = run("score", "--model", str(out), "anna", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["nll"] == pytest.approx(ref.nll(["anna"]))


@pytest.mark.parametrize("encoding", ["joint", "concat"])
def test_train_context_network(tmp_path, encoding):
    words = tmp_path / "w.txt"
    words.write_text("anna\nbob\ncara\ndan\nabba\nada\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    r = run("train", "--data", str(words), "--context", "3", "--encoding", encoding,
            "--steps", "20", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    m = load_model(out)
    assert isinstance(m, NGramModel) and (m.K, m.encoding) == (3, encoding)
    assert res["eval"]["train"] == pytest.approx(m.nll(["anna", "bob", "cara", "dan", "abba",
                                                        "ada"]))
    assert res["eval"]["dev"] is None and res["eval"]["test"] is None
    r = run("eval", "--model", str(out), "--data", str(words), "--json")
    # train's number is from the counts it streamed, eval's from the words: the same sum
    assert r.returncode == 0 and json.loads(r.stdout)["eval"]["all"] == pytest.approx(
        res["eval"]["train"], rel=1e-13)


def test_sweep_json_and_table(tmp_path):
    r = run("sweep", "--context", "1,2", "--reg", "0,0.01", "--smoothing", "0,0.5", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert len(res["rows"]) == 8 and len(res["groups"]) == 4
    assert any(row["dev"] is None for row in res["rows"])   # reg 0 / k 0: inf on dev -> null
    assert all(g["dev"] is not None and g["test"] is not None for g in res["groups"])
    dev = {(g["family"], g["context"]): g["dev"] for g in res["groups"]}
    assert dev["network", 2] < dev["network", 1]
    r = run("sweep", "--context", "1", "--model-kind", "counts", "--smoothing", "0.5,1")
    assert r.returncode == 0, r.stderr
    assert "best on dev: counts K=1" in r.stdout and "test" in r.stdout
    assert r.stdout.count("<- best on dev") == 1


def test_bad_input_is_one_line_and_status_2(tmp_path):
    for args in (["train", "--split", "80/10"],
                 ["train", "--context", "0"],
                 ["train", "--family", "magic"],
                 ["train", "--model-kind", "counts", "--smoothing", "-1"],
                 ["sweep", "--model-kind", "network,magic"],
                 ["sweep", "--split", "90/0/10"],
                 ["sweep", "--reg", "0.1,x"],
                 ["eval", "--model", str(tmp_path / "nope.npz")],
                 ["sample", "--model", str(tmp_path / "nope.npz"), "--temperature", "-1"]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("minibigram: error: "), r.stderr
    assert list(tmp_path.iterdir()) == []


def test_plain_train_is_unchanged():
    """No issue-5 option given: the notebook's bigram path, its losses unchanged."""
    r = run("train", "--json", "--samples", "0")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert "eval" not in res and len(res["losses"]) == 100
    assert np.isfinite(res["final_loss"])


def test_train_refuses_options_the_model_does_not_use(tmp_path):
    """An option that would be silently ignored is an error naming it (nothing written)."""
    cases = [
        (["--family", "counts", "--lr", "5"],
         "lr does not apply to the count model (family 'counts': it is counted, not trained): "
         "leave it out."),
        (["--model-kind", "counts", "--steps", "5", "--reg", "0.1"],
         "steps and reg do not apply to the count model (family 'counts': it is counted, not "
         "trained): leave them out."),
        (["--context", "2", "--engine", "index"],
         "engine does not apply to the joint network with context 2 (solved exactly by "
         "Newton's method): leave it out."),
        (["--smoothing", "0.5"], "smoothing does not apply to the bigram network: leave it out."),
    ]
    for extra, message in cases:
        r = run("train", *extra, "--out", str(tmp_path / "m.npz"), cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == "", (extra, r.stderr)
        assert r.stderr == f"minibigram: error: {message}\n"
        assert list(tmp_path.iterdir()) == []


def test_log_every_works_beyond_the_plain_bigram(tmp_path):
    words = tmp_path / "w.txt"
    words.write_text("anna\nbob\ncara\ndan\nabba\nada\n", encoding="utf-8")
    r = run("train", "--data", str(words), "--split", "50/25/25", "--steps", "4",
            "--log-every", "2", "--samples", "0")
    assert r.returncode == 0, r.stderr
    assert [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("step")] == [
        "1", "2", "4"]


def test_train_refuses_newton_and_split_options_it_would_ignore(tmp_path):
    for extra, message in (
            (["--solver", "newton", "--lr", "5"],
             "lr does not apply to solver 'newton' (the exact optimum, from W = 0): leave it "
             "out."),
            (["--split-seed", "3"],
             "split_seed does not apply to the bigram network without a split: leave it out."),
            (["--stream", "--family", "counts", "--engine", "index", "--lr", "5"],
             "lr and engine do not apply to the count model (family 'counts': it is "
             "counted, not trained): leave them out.")):
        r = run("train", *extra, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (2, ""), r.stderr
        assert r.stderr == f"minibigram: error: {message}\n"


def test_newton_prints_its_last_iterate(tmp_path):
    r = run("train", "--solver", "newton", "--log-every", "3", "--samples", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    steps = [int(ln.split()[1]) for ln in r.stdout.splitlines() if ln.startswith("step")]
    assert steps[:3] == [1, 3, 6] and steps[-1] > 6 and steps[-1] % 3 != 0   # converged at 8
    assert r.stdout.splitlines()[len(steps) - 1].endswith("loss 2.4803990")


def test_stream_of_an_empty_file_names_it(tmp_path):
    (tmp_path / "e.txt").write_text("\n  \n", encoding="utf-8")
    for extra in (["--stream"], []):   # --stream changes nothing: load_words' sentence
        r = run("train", *extra, "--data", "e.txt", cwd=tmp_path)
        assert r.returncode == 2 and r.stderr == (
            "minibigram: error: e.txt holds only blank lines: give a file with one word per "
            "line.\n")
