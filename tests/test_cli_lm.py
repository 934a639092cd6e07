"""The command line of smoothed models: train --method, ARPA files in score, sample and
eval, the perplexity record, and malformed ARPA files refused in one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import cli_error, run_cli

import minibigram as mb

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila"]


@pytest.fixture
def lm(tmp_path):
    (tmp_path / "words.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    r = run_cli("train", "--data", "words.txt", "--family", "counts", "--method",
                "kneser-ney", "--discount", "0.7", "--context", "2", "--unk", "--out", "m.npz",
                "-n", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("export", "-m", "m.npz", "--format", "arpa", "-o", "m.arpa", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_train_method_is_the_library_model(lm):
    model = mb.load_model(lm / "m.npz")
    want = mb.BackoffModel.fit(WORDS, context=2, method="kneser-ney", discount=0.7, unk=True)
    assert isinstance(model, mb.BackoffModel) and model.unk
    assert np.abs(model.score(WORDS) - want.score(WORDS)).max() < 1e-12


def test_score_reads_an_arpa_file_and_scores_unk(lm):
    model = mb.load_arpa(lm / "m.arpa")
    r = run_cli("score", "--model", "m.arpa", "emma", "zoë", "--unknown", "unk", cwd=lm)
    assert r.returncode == 0, r.stderr
    got = [float(line.split("\t")[2]) for line in r.stdout.splitlines()]
    assert np.abs(np.array(got) - model.score(["emma", "zoë"], unknown="unk")).max() < 1e-12


def test_score_and_eval_report_the_perplexity_record(lm):
    model = mb.load_arpa(lm / "m.arpa")
    r = run_cli("score", "--model", "m.arpa", "--json", "--perplexity", *WORDS, cwd=lm)
    assert r.returncode == 0, r.stderr
    last = json.loads(r.stdout.splitlines()[-1])["perplexity"]
    want = model.perplexity(WORDS).as_dict()
    assert last.keys() == want.keys()
    assert all(abs(last[k] - want[k]) <= 1e-9 * max(1, abs(want[k])) for k in want)
    r = run_cli("eval", "--model", "m.arpa", "--data", "words.txt", "--json", cwd=lm)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)["perplexity"]["all"]
    assert record["perplexity"] == pytest.approx(want["perplexity"], rel=1e-12)
    r = run_cli("eval", "--model", "m.arpa", "--data", "words.txt", cwd=lm)
    assert "perplexity per token" in r.stdout and "bits per character" in r.stdout


def test_sample_reads_an_arpa_file(lm):
    r = run_cli("sample", "--model", "m.arpa", "-n", "5", "--sampler", "numpy", cwd=lm)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == mb.load_arpa(lm / "m.arpa").sample(5, sampler="numpy")


ARPA = ("\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-99\t<s>\t-0.3\n-0.5\t</s>\t0\n"
        "-0.6\ta\t-0.2\n-0.7\tb\t0\n\n\\2-grams:\n-0.1\t<s> a\n-0.4\ta b\n\n\\end\\\n")


@pytest.mark.parametrize("case, text, says", [
    ("counts", ARPA.replace("ngram 2=2", "ngram 2=3"), "line 3: \\data\\ declares 3 2-grams"),
    ("end", ARPA.replace("\\end\\\n", ""), "line 14: the file ends without the \\end\\"),
    ("nan", ARPA.replace("-0.4\ta b", "nan\ta b"), "line 13: the log10 probability is nan"),
    ("token", ARPA.replace("-0.7\tb\t0", "-0.7\tbob\t0"), "line 9: the token 'bob' is longer"),
])
def test_malformed_arpa_is_one_line_and_exit_2(tmp_path, case, text, says):
    (tmp_path / "ok.arpa").write_text(ARPA, encoding="utf-8")
    assert mb.load_arpa(tmp_path / "ok.arpa").K == 1   # the file before the damage reads
    (tmp_path / "bad.arpa").write_text(text, encoding="utf-8")
    message = cli_error(tmp_path, "score", "--model", "bad.arpa", "ab")
    assert message.startswith("bad.arpa, ") and says in message


def test_refusals_are_one_line(lm):
    plain = mb.CountModel.fit(WORDS)
    plain.save(lm / "plain.npz")
    # a model that reserves no <unk>: the API refuses unk, the command line scores the
    # characters the model knows and counts the others in a 4th column
    with pytest.raises(mb.SettingsError, match="reserves no <unk>"):
        plain.perplexity(["zoë"], unknown="unk")
    r = run_cli("score", "--model", "plain.npz", "zoë", "--unknown", "unk", cwd=lm)
    word, _, log_prob, unknown = r.stdout.split("\t")
    assert (r.returncode, word, unknown) == (0, "zoë", "1\n")
    assert float(log_prob) == plain.log_prob("zo")
    assert cli_error(lm, "train", "--data", "words.txt", "--family", "counts", "--method",
                     "witten-bell", "--smoothing", "1").startswith("smoothing does not apply")
    assert cli_error(lm, "train", "--data", "words.txt", "--method",
                     "kneser-ney").startswith("method does not apply to the bigram network")

