"""Exports: the stdlib-only JSON reader of docs/embedding.md and an ARPA read-back agree
with model.score on every name, for every model kind."""

from __future__ import annotations

import io
import json
import math
import os
import random
import re
import sys

import numpy as np
import pytest

import minibigram as mb
from minibigram.export import export_model, to_json, write_arpa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "embedding.md")
MARK = "# stdlib-only reader of minibigram-lm version 1"


def doc_reader() -> dict:
    """The reader block of docs/embedding.md, executed: its functions."""
    with open(DOC, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    (code,) = [b for b in blocks if b.startswith(MARK)]
    imported = set(re.findall(r"^(?:import|from) (\w+)", code, flags=re.M))
    assert imported <= set(sys.stdlib_module_names), imported   # no numpy, no minibigram
    namespace: dict = {"__name__": "reader"}
    exec(compile(code, DOC, "exec"), namespace)
    return namespace


def read_arpa(text: str) -> tuple[int, dict]:
    """A small ARPA reader: (highest order, n-gram -> (log10 p, log10 backoff))."""
    grams: dict[tuple[str, ...], tuple[float, float]] = {}
    counts: dict[int, int] = {}
    order = 0
    lines = iter(text.splitlines())
    assert next(lines) == "\\data\\"
    for line in lines:
        line = line.strip()
        if not line or line == "\\end\\":
            continue
        m = re.fullmatch(r"ngram (\d+)=(\d+)", line)
        if m:
            counts[int(m[1])] = int(m[2])
            continue
        m = re.fullmatch(r"\\(\d+)-grams:", line)
        if m:
            order = int(m[1])
            continue
        fields = line.split("\t")
        gram = tuple(fields[1].split())
        assert len(gram) == order
        grams[gram] = (float(fields[0]), float(fields[2]) if len(fields) > 2 else 0.0)
    for n, c in counts.items():   # the header's counts are the sections' sizes
        assert sum(len(g) == n for g in grams) == c
    return max(counts), grams


def arpa_score(order: int, grams: dict, word: str) -> float:
    """Natural log-probability of ``word`` by standard back-off from <s>."""
    history, total = ["<s>"], 0.0
    for token in [*word, "</s>"]:
        h = tuple(history[-(order - 1):])
        while h + (token,) not in grams:
            total += grams.get(h, (0.0, 0.0))[1]
            h = h[1:]
        total += grams[h + (token,)][0]
        history.append(token)
    return total * math.log(10)


@pytest.fixture(scope="module")
def models():
    words = mb.load_words()
    train = words[:4000]                  # the rest has contexts the models never saw
    vocab = mb.Vocabulary.from_words(words)
    return words, {
        "bigram": mb.BigramModel.fit(train, steps=5, vocab=vocab),
        "counts K=1": mb.CountModel.fit(train, vocab=vocab),
        "counts K=3": mb.CountModel.fit(train, context=3, vocab=vocab),
        "joint K=2": mb.NGramModel.fit(train, context=2, vocab=vocab),
        "concat K=2": mb.NGramModel.fit(train, context=2, encoding="concat", steps=5,
                                        vocab=vocab),
    }


@pytest.mark.parametrize("name", ["bigram", "counts K=1", "counts K=3", "joint K=2",
                                  "concat K=2"])
def test_the_docs_stdlib_reader_agrees_with_score(models, name, tmp_path):
    words, ms = models
    model = ms[name]
    export_model(model, tmp_path / "m.json", "json")
    reader = doc_reader()
    lm = reader["load"](str(tmp_path / "m.json"))
    sample = words[::4] if model.K > 1 else words   # every name for K=1, a quarter else
    ours = np.array([reader["score"](lm, w) for w in sample])
    assert np.abs(ours - model.score(sample)).max() <= 1e-12
    drawn = [reader["sample"](lm, random.Random(s)) for s in range(20)]
    assert drawn == [reader["sample"](lm, random.Random(s)) for s in range(20)]
    assert all(not set(w) - set(model.vocab.itos[1:]) for w in drawn)


def test_json_schema_keys_and_k1_table(models):
    model = models[1]["bigram"]
    doc = to_json(model)
    assert (doc["format"], doc["version"], doc["context"], doc["boundary_id"],
            doc["unseen"]) == ("minibigram-lm", 1, 1, 0, "uniform")
    assert doc["itos"] == model.vocab.itos and len(doc["log_probs"]) == model.V
    table = np.array([doc["log_probs"][c] for c in model.vocab.itos])   # (V, V)
    assert np.allclose(np.exp(table), model.table(), rtol=1e-6, atol=0)   # table: float32 W
    json.dumps(doc, allow_nan=False)


def test_probability_zero_is_null_in_json():
    model = mb.CountModel.fit(["ab", "ba"], smoothing=0)
    doc = to_json(model)
    assert doc["log_probs"]["a"][model.vocab.stoi["a"]] is None


@pytest.mark.parametrize("name", ["bigram", "counts K=1", "counts K=3", "joint K=2",
                                  "concat K=2"])
def test_arpa_read_back_agrees_with_score_on_every_name(models, name):
    words, ms = models
    model = ms[name]
    f = io.StringIO()
    write_arpa(model, f)
    order, grams = read_arpa(f.getvalue())
    assert order == model.K + 1
    ours = np.array([arpa_score(order, grams, w) for w in words])
    assert np.abs(ours - model.score(words)).max() <= 1e-12


def test_arpa_refuses_white_space_in_the_vocabulary():
    model = mb.CountModel.fit(["new york", "paris"])
    with pytest.raises(mb.SettingsError, match="cannot be an ARPA token"):
        write_arpa(model, io.StringIO())
