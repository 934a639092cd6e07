"""ARPA files: read by hand-checked backoff arithmetic, written and read back to float
precision, and every malformed file refused in one sentence naming its line."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minibigram as mb

read_arpa, write_arpa = mb.load_arpa, mb.write_arpa
BackoffModel = mb.BackoffModel

#: A bigram character model with backoff weights and <unk>, as KenLM writes them.
SMALL = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.3
-0.5\t</s>\t0
-0.6\ta\t-0.2
-0.7\tb\t0

\\2-grams:
-0.1\t<s> a
-0.4\ta b
-0.2\tb </s>

\\end\\
"""


def write(tmp_path, text: str, name: str = "m.arpa") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_backoff_arithmetic_of_a_small_file(tmp_path):
    model = read_arpa(write(tmp_path, SMALL))
    assert model.K == 1 and model.unk and model.vocab.itos == [".", "a", "b"]
    ln10 = math.log(10)
    # listed: P(a | <s>) P(b | a) P(</s> | b)
    assert model.log_prob("ab") == pytest.approx((-0.1 - 0.4 - 0.2) * ln10, abs=1e-13)
    # bo(<s>) P(b), then bo(b) = 1 times P(a), then bo(a) P(</s>)
    assert model.log_prob("ba") == pytest.approx((-0.3 - 0.7 - 0.6 - 0.2 - 0.5) * ln10,
                                                 abs=1e-13)
    # an unknown character is <unk>: bo(<s>) P(<unk>), then P(b) after <unk>
    assert model.score(["zb"], unknown="unk")[0] == pytest.approx(
        (-0.3 - 1.0 - 0.7 - 0.2) * ln10, abs=1e-13)


@pytest.mark.parametrize("method", ["kneser-ney", "modified-kneser-ney", "witten-bell",
                                    "absolute", "add-k"])
@pytest.mark.parametrize("K", [1, 2, 3])
def test_round_trip_keeps_every_probability_and_backoff(names, tmp_path, method, K):
    model = BackoffModel.fit(names, context=K, method=method, unk=K == 2)
    path = tmp_path / "m.arpa"
    with open(path, "w", encoding="utf-8") as f:
        write_arpa(model, f)
    back = read_arpa(str(path))
    assert back.vocab == model.vocab and back.K == K and back.unk == model.unk
    assert np.abs(back.score(names) - model.score(names)).max() < 1e-12
    X = np.random.default_rng(K).integers(0, model.V, (2000, K))
    assert np.abs(back.log_rows(X) - model.log_rows(X)).max() < 1e-13
    again = tmp_path / "again.arpa"
    with open(again, "w", encoding="utf-8") as f:
        write_arpa(back, f)
    assert again.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_kneser_ney_file_carries_backoff_weights_and_unk(names, tmp_path):
    model = BackoffModel.fit(names, context=2, method="kneser-ney", unk=True)
    path = tmp_path / "m.arpa"
    with open(path, "w", encoding="utf-8") as f:
        write_arpa(model, f)
    lines = path.read_text(encoding="utf-8").splitlines()
    unigrams = {ln.split("\t")[1]: ln.split("\t") for ln in lines if ln.count("\t") == 2
                and len(ln.split("\t")[1].split()) == 1}
    assert "<unk>" in unigrams and float(unigrams["<unk>"][0]) < 0
    # the backoff of <s> is the weight of the word start's shorter history
    assert float(unigrams["<s>"][2]) == pytest.approx(
        model.tables.log_backoff[model.rows_of(np.zeros(1, np.int64))[0]] / math.log(10))
    assert sum(float(unigrams[c][2]) != 0 for c in "abc") == 3


MALFORMED = {
    "wrong count": (SMALL.replace("ngram 2=3", "ngram 2=4"), 3,
                    "declares 4 2-grams but the \\2-grams: section lists 3"),
    "no end": (SMALL.replace("\\end\\\n", ""), 16, "without the \\end\\ line"),
    "nan": (SMALL.replace("-0.4\ta b", "nan\ta b"), 14, "is nan, not a log10 probability"),
    "word token": (SMALL.replace("-0.7\tb\t0", "-0.7\tbob\t0"), 10,
                   "the token 'bob' is longer than one character: this is a word-level"),
    "no data": ("hello\n", 1, "without a \\data\\ line"),
    "missing history": (SMALL.replace("<s> a", "c a"), 13, "the token 'c' appears where"),
    "fields": (SMALL.replace("-0.2\tb </s>", "-0.2\tb </s>\t0"), 15, "has 4 fields"),
    "above one": (SMALL.replace("-0.1\t<s> a", "0.5\t<s> a"), 13, "above 0"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_are_refused_naming_the_line(tmp_path, case):
    text, line, what = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(mb.ModelFileError) as e:
        read_arpa(path)
    message = str(e.value)
    assert message.startswith(f"{path}, line {line}: ") and what in message
    assert message.count("\n") == 0
