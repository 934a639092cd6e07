"""Issue 17: stdout is the product, stderr the status; -q, -v, short options, hints.

Every subcommand runs with stdout and stderr captured apart: no status line reaches
stdout, ``-q`` leaves stderr empty on success without changing stdout, ``--json``
prints exactly one JSON object, and the short options mean the long ones.
"""

import json
import re
import subprocess
import sys

import pytest

from minibigram import BigramModel, CountModel, load_words

#: What a status line looks like: none of these may reach stdout.
STATUS = ("saved the model", "trained on", "trained the", "trained in", "wrote ", "settings in",
          "settings:", "checks in", "sampled ", "\r", "\x1b", "Warning")


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minibigram", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("streams")
    (ws / "w.txt").write_text("anna\nbob\ncara\ndan\nabba\nada\nst. john\n", encoding="utf-8")
    BigramModel.fit(load_words(ws / "w.txt"), steps=5, lr=5.0).save(ws / "m.npz")
    return ws


#: One command of each kind; {out} is a fresh output file.
COMMANDS = {
    "train": ["train", "--data", "w.txt", "--steps", "5", "--lr", "5", "--samples", "4",
              "--out", "{out}.npz"],
    "train-split": ["train", "--data", "w.txt", "--split", "50/25/25", "--steps", "3",
                    "--samples", "2", "--out", "{out}.npz"],
    "train-counts": ["train", "--family", "counts", "--context", "2", "--samples", "3",
                     "--out", "{out}.npz"],
    "train-stream": ["train", "--stream", "--data", "w.txt", "--steps", "2", "--samples", "2"],
    "sample": ["sample", "--model", "m.npz", "-n", "5"],
    "score": ["score", "--model", "m.npz", "anna", "bob"],
    "eval": ["eval", "--model", "m.npz", "--data", "w.txt"],
    "sweep": ["sweep", "--data", "w.txt", "--context", "1", "--reg", "0.1",
              "--smoothing", "1", "--split", "60/20/20"],
    "plot": ["plot", "--model", "m.npz", "--out", "{out}.png"],
    "gradcheck": ["gradcheck", "--engine", "counts", "--dtype", "float64",
                  "--max-entries", "5"],
}


def fill(args, out):
    return [a.format(out=out) for a in args]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_status_on_stdout_and_quiet_leaves_stderr_empty(ws, name):
    if name == "plot":
        pytest.importorskip("matplotlib")
    args = COMMANDS[name]
    plain = run(*fill(args, f"{name}-plain"), cwd=ws)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout or name == "plot", "a command prints its product on stdout"
    assert not [ln for ln in plain.stdout.splitlines() if any(s in ln for s in STATUS)]
    quiet = run(*fill(args, f"{name}-quiet"), "-q", cwd=ws)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert quiet.stdout == plain.stdout.replace(f"{name}-plain", f"{name}-quiet")
    verbose = run(*fill(args, f"{name}-verbose"), "--verbose", cwd=ws)
    assert verbose.returncode == 0 and verbose.stdout == plain.stdout.replace(
        f"{name}-plain", f"{name}-verbose")
    assert set(plain.stderr.splitlines()) <= set(
        verbose.stderr.replace(f"{name}-verbose", f"{name}-plain").splitlines())


def test_the_status_lines_are_on_stderr(ws):
    r = run("train", "-d", "w.txt", "--steps", "2", "-n", "3", "-o", "s.npz", cwd=ws)
    m = BigramModel.load(ws / "s.npz")
    assert r.stdout.splitlines() == [f"step    {s}  loss {loss:.7f}" for s, loss
                                     in enumerate(m.history, 1)] + m.sample(3)
    assert r.stderr.splitlines() == [
        "saved the model to s.npz",
        f"trained on {m.settings['num_examples']} examples, vocabulary of {m.V}; final loss "
        f"{m.final_loss:.7f} (mean NLL + L2 term)", r.stderr.splitlines()[2]]
    assert r.stderr.splitlines()[2].startswith("after 2 steps of gradient descent")
    r = run("plot", "-m", "s.npz", "-o", "s.png", cwd=ws)
    if r.returncode == 0:   # (matplotlib may be absent: the error then is its own test's)
        assert (r.stdout, r.stderr) == ("", "wrote s.png\n")


def test_verbose_adds_the_model_and_its_settings(ws):
    r = run("train", "-d", "w.txt", "--steps", "2", "-n", "0", "-v", cwd=ws)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "training the bigram network (reg 0.01) on w.txt"
    assert lines[1].startswith("trained in ") and ": BigramModel(K=1, V=" in lines[1]
    settings = json.loads(next(ln for ln in lines if ln.startswith("settings: "))[10:])
    assert settings["steps"] == 2 and settings["solver"] == "gd"
    r = run("score", "-m", "m.npz", "anna", "-v", cwd=ws)
    assert r.stderr == f"m.npz: {BigramModel.load(ws / 'm.npz')!r}\n"


@pytest.mark.parametrize("extra", [[], ["-q"], ["-v"]])
def test_json_is_exactly_one_object_on_stdout(ws, extra):
    for args in (["train", "--steps", "2", "--samples", "2", "-o", "j.npz", "--json"],
                 ["sample", "-m", "m.npz", "--json"], ["score", "-m", "m.npz", "--json", "ab"],
                 ["eval", "-m", "m.npz", "-d", "w.txt", "--json"]):
        r = run(*args, *extra, cwd=ws)
        assert r.returncode == 0, r.stderr
        assert isinstance(json.loads(r.stdout), dict) and r.stdout.count("\n") == 1
        if extra != ["-v"]:   # --json is for programs: status only when asked with -v
            assert r.stderr == ""


def test_short_options_mean_the_long_ones(ws):
    long = run("train", "--data", "w.txt", "--steps", "3", "--samples", "5", "--seed", "7",
               "--out", "long.npz", "--quiet", cwd=ws)
    short = run("train", "-d", "w.txt", "--steps", "3", "-n5", "-s", "7", "-o", "short.npz",
                "-q", cwd=ws)
    assert long.returncode == short.returncode == 0, short.stderr
    assert long.stdout == short.stdout and long.stderr == short.stderr == ""
    a, b = BigramModel.load(ws / "long.npz"), BigramModel.load(ws / "short.npz")
    assert (a.W == b.W).all() and a.settings == b.settings
    r = run("sample", "-m", "long.npz", "-n", "5", "-s", "7", cwd=ws)
    assert r.stdout.splitlines() == a.sample(5, seed=7)
    # every subcommand documents them in its help
    for cmd, flags in (("train", ("-d, --data", "-o, --out", "-n, --samples", "-s, --seed",
                                  "-q, --quiet", "-v, --verbose")),
                       ("sample", ("-m, --model", "-n", "-s, --seed", "-d, --data", "-q, --quiet")),
                       ("score", ("-m, --model", "-q, --quiet")),
                       ("plot", ("-m, --model", "-o, --out")),
                       ("eval", ("-m, --model", "-d, --data")),
                       ("sweep", ("-d, --data",)), ("gradcheck", ("-s, --seed",))):
        text = run(cmd, "--help", cwd=ws).stdout
        for f in flags:   # "-d PATH, --data PATH" or "-q, --quiet", at the start of a line
            short, _, long = f.partition(", ")
            pattern = rf"^  {short}( \S+)?" + (rf", {long}\b" if long else " ")
            assert re.search(pattern, text, re.M), (cmd, f, text)


def test_train_still_refuses_unused_options_given_short_or_long(ws):
    # -s (the seed) and -n (samples) apply to every model: accepted with a count model
    r = run("train", "--family", "counts", "-s", "3", "-n", "2", "-q", cwd=ws)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.splitlines()[1:] == CountModel.fit().sample(2, seed=3)
    for extra in (["--steps=3"], ["-qn2", "--lr", "5"]):
        r = run("train", "--family", "counts", *extra, cwd=ws)
        assert r.returncode == 2 and r.stdout == ""
        assert "do not apply to the count model" in r.stderr or \
            "does not apply to the count model" in r.stderr
    r = run("train", "-s3", "--split-seed", "4", cwd=ws)   # --split-seed without --split
    assert r.returncode == 2 and "split_seed does not apply" in r.stderr


@pytest.mark.parametrize("args, hint", [
    (["train", "--st", "5"], "did you mean --steps or --stream? (see 'minibigram train --help')"),
    (["train", "--setps", "5"], "did you mean --steps, "),
    (["sample", "-m", "m.npz", "--tempreature", "0"],
     "did you mean --temperature? (see 'minibigram sample --help')"),
    (["sample", "-m", "m.npz", "--s", "3"], "did you mean --seed or --sampler?"),
    (["sample", "-m", "m.npz", "--sampler", "torch-mk"], "did you mean torch-mkl?"),
    (["trian"], "did you mean train? (see 'minibigram --help')"),
    (["score", "-m", "m.npz", "-x", "anna"], "unrecognized arguments: -x "
                                              "(see 'minibigram score --help')"),
])
def test_unknown_options_name_the_closest_and_the_command_help(ws, args, hint):
    r = run(*args, cwd=ws)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("minibigram: error: ") and r.stderr.count("\n") == 1
    assert hint in r.stderr, r.stderr
