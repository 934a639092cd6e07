"""Tests of minibigram.train: the CLI's train as one Python call, its option rules, provenance."""

import json
import os
import subprocess
import sys

import pytest

import minibigram as mb

WORDS = "anna\nbob\ncara\ndan\nabba\nada\ncarol\nbonnie\nemma\nava\n"


def cli(*args, cwd):
    r = subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, timeout=180)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text(WORDS, encoding="utf-8")
    return path


@pytest.mark.parametrize("options, flags", [
    ({}, []),
    ({"solver": "newton", "samples": 4}, ["--solver", "newton", "--samples", "4"]),
    ({"family": "counts", "context": 2, "smoothing": 0.5},
     ["--family", "counts", "--context", "2", "--smoothing", "0.5"]),
    ({"context": 2, "split": "60/20/20", "split_seed": 3, "steps": 20},
     ["--context", "2", "--split", "60/20/20", "--split-seed", "3", "--steps", "20"]),
    ({"stream": True, "context": 3, "steps": 10}, ["--stream", "--context", "3", "--steps", "10"]),
])
def test_train_from_python_is_the_cli_train(words_file, tmp_path, options, flags):
    r = mb.train(words_file, out=tmp_path / "py.npz", progress=False, **options)
    out = cli("train", "--data", words_file, "--json", "--out", tmp_path / "cli.npz", *flags,
              cwd=tmp_path)
    assert r.losses == out["losses"] and r.final_loss == out["final_loss"]
    assert r.samples == out["samples"]
    assert r.eval == out.get("eval")
    assert r.model.settings == out["settings"]
    saved = mb.load_model(tmp_path / "py.npz")
    assert saved.settings == mb.load_model(tmp_path / "cli.npz").settings


def test_the_notebook_numbers_from_python():
    steps = []
    r = mb.train(callback=lambda step, loss: steps.append((step, loss)), log_every=50,
                 progress=False)
    assert r.losses[0] == pytest.approx(3.768618583679199, abs=1e-6)   # the notebook's
    assert r.losses[99] == pytest.approx(2.4901304, abs=1e-6)
    assert [s for s, _ in steps] == [1, 50, 100]
    assert r.eval is None and len(r.samples) == 15 and r.settings.log_every == 50


def test_newton_reports_the_step_it_stopped_at():
    steps = []
    r = mb.train(solver="newton", samples=0, log_every=3, progress=False,
                 callback=lambda step, loss: steps.append(step))
    assert steps[-1] == len(r.losses) and steps[-1] % 3 != 0
    assert r.losses[-1] == pytest.approx(2.4803990, abs=1e-7)


@pytest.mark.parametrize("options, message", [
    ({"family": "counts", "lr": 5},
     "lr does not apply to the count model (family 'counts': it is counted, not trained): "
     "leave it out."),
    ({"family": "counts", "steps": 5, "reg": 0.1},
     "steps and reg do not apply to the count model (family 'counts': it is counted, not "
     "trained): leave them out."),
    ({"context": 2, "engine": "index"},
     "engine does not apply to the joint network with context 2 (solved exactly by Newton's "
     "method): leave it out."),
    ({"solver": "newton", "lr": 5},
     "lr does not apply to solver 'newton' (the exact optimum, from W = 0): leave it out."),
    ({"smoothing": 0.5}, "smoothing does not apply to the bigram network: leave it out."),
    ({"split_seed": 3},
     "split_seed does not apply to the bigram network without a split: leave it out."),
    ({"stream": True, "dask": True},
     "stream and dask are two ways of counting the data (here, or on a Dask cluster): give one "
     "of them."),
    ({"dask_timeout": 3},
     "dask_timeout applies only to a Dask scheduler's address (a scheduler to wait for): leave "
     "it out."),
    ({"stream": True, "split": (0.8, 0.1, 0.1)},
     "stream counts the whole data without keeping its words, so it cannot be split: leave "
     "out split or stream."),
    ({"stream": True, "engine": "index"},
     "stream trains from counts, which the index engine cannot use: leave out engine, or use "
     "solver newton."),
])
def test_each_option_rule_raises_its_sentence(words_file, options, message):
    with pytest.raises(mb.SettingsError) as info:
        mb.train_settings(words_file, **options)
    assert str(info.value) == message
    with pytest.raises(mb.SettingsError) as info:
        mb.train(words_file, **options)
    assert str(info.value) == message


@pytest.mark.parametrize("data, options, message", [
    (None, {"dask": True},
     "dask counts files on a cluster: give them as the data, e.g. 'corpus/*.txt' (quoted)."),
    ("-", {"dask": True},
     "dask counts files, which standard input is not: give a glob of files as the data, or "
     "leave out dask to read standard input."),
    (["anna", "bob"], {"stream": True},
     "stream counts files, not a list of words: give a path as the data, or leave out stream."),
])
def test_rules_about_the_data(data, options, message):
    with pytest.raises(mb.SettingsError) as info:
        mb.train_settings(data, **options)
    assert str(info.value) == message


def test_options_not_given_take_the_notebooks_defaults():
    assert mb.train_settings(steps=None, lr=None, family=None) == mb.DEFAULTS
    s = mb.train_settings(family="counts", seed=3, samples=2)   # seed and samples: any model
    assert (s.family, s.seed, s.samples, s.steps) == ("counts", 3, 2, 100)
    with pytest.raises(mb.SettingsError, match="no option 'stpes'"):
        mb.train_settings(stpes=5)


def test_provenance_of_words(words_file):
    words = mb.load_words(words_file)
    record = mb.data_provenance(words)
    assert record["source"] == str(words_file) and record["num_words"] == 10
    assert record["sha256"] == mb.WordText(WORDS, "x", record["sha256"]).sha256
    assert mb.data_provenance(list(words)) == {**record, "source": None}   # same bytes
    r = mb.train(words_file, context=2, samples=0, steps=5, progress=False)
    assert r.model.settings["data"] == record


def test_provenance_of_counted_text_and_streamed_counts(words_file):
    import hashlib
    sha = hashlib.sha256(WORDS.encode()).hexdigest()
    expected = {"source": str(words_file), "sha256": sha, "num_words": 10}
    text = mb.load_text(words_file)
    assert mb.data_provenance(text, mb.count_text(text)) == expected
    assert mb.data_provenance(words_file, mb.count_contexts(words_file, 2)) == expected
    counted = mb.train(words_file, samples=0, progress=False)            # the text, counted
    streamed = mb.train(words_file, stream=True, context=2, samples=0, progress=False)
    assert counted.model.settings["data"] == streamed.model.settings["data"] == expected
    assert mb.train(samples=0, steps=1, progress=False).model.settings["data"]["source"] \
        == "embedded:names.txt"


def test_the_model_is_saved_before_sampling_can_fail(tmp_path, words_file):
    out = tmp_path / "m.npz"
    r = mb.train(words_file, out=out, samples=3, progress=False)
    assert r.out == os.fspath(out) and mb.load_model(out).final_loss == r.final_loss
