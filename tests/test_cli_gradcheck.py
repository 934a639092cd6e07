"""`minibigram gradcheck`: a row per (problem, engine, dtype), exit status 1 on any failure."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import numpy as np

from minibigram import loss_and_grad
from minibigram.checks import PASS_RULE
from minibigram.cli import main
from minibigram.functional import softmax
from minibigram.problems import CHECKED_ENGINES, ENGINE_CASES


def run(*args):
    return subprocess.run([sys.executable, "-m", "minibigram", "gradcheck", *args],
                          capture_output=True, text=True, timeout=120)


def test_every_engine_and_dtype_passes_json():
    r = run("--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    checks = out["checks"]
    assert out["ok"] and len(checks) == len(ENGINE_CASES) * len(CHECKED_ENGINES) * 2
    assert {(c["engine"], c["dtype"]) for c in checks} == {
        (e, d) for e in CHECKED_ENGINES for d in ("float64", "float32")}
    for c in checks:  # K = 1: every entry of the small W checked
        assert c["ok"] and c["max_ratio"] <= 1 and c["K"] == 1 and c["kind"] == "gradcheck"
        assert c["verdict"] == "pass" and c["max_abs_error"] <= c["noise_floor"]
        assert c["n_checked"] == np.prod(c["shape"]) <= 27 * 27


def test_human_output_and_selection():
    r = run("--engine", "counts", "--engine", "index", "--dtype", "float64")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["engine", "K", "W", "shape"]
    rows = lines[1:-1]
    assert len(rows) == 2 * len(ENGINE_CASES)
    assert {ln.split()[0] for ln in rows} == {"counts", "index"}
    assert all("float64" in ln.split() and ln.endswith("pass") for ln in rows)
    assert lines[-1].startswith(f"{len(rows)} of {len(rows)} checks passed (rule {PASS_RULE}")


def test_longer_contexts_check_joint_and_concat():
    r = run("--context", "2,3", "--engine", "counts", "--engine", "concat", "--dtype", "float64",
            "--max-entries", "100", "--json")
    assert r.returncode == 0, r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert len(checks) == 2 * len(ENGINE_CASES) * 2 and all(c["ok"] for c in checks)
    for c in checks:
        assert c["n_checked"] == min(100, np.prod(c["shape"]))
        if c["engine"] == "concat":
            V = c["shape"][1]
            assert c["shape"] == [c["K"], V, V]
        else:  # joint: one row per distinct context drawn, at most n and V**K
            C, V = c["shape"]
            assert 1 <= C <= min(c["n"], V ** c["K"])


def test_wrong_gradient_exits_1(monkeypatch, capsys):
    def transposed(W, xs, ys, reg=0.0, engine="onehot"):
        loss, dW = loss_and_grad(W, xs, ys, reg=reg, engine=engine)
        return loss, dW.T

    # the module, not the function of the same name that minibigram re-exports
    module = importlib.import_module("minibigram.problems")
    monkeypatch.setattr(module, "loss_and_grad", transposed)
    assert main(["gradcheck", "--engine", "index"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "gradcheck FAILED" in out and "checks passed" in out


def test_bad_engine_is_one_line_and_status_2():
    r = run("--engine", "nope")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("minibigram: error: ") and len(r.stderr.splitlines()) == 1


def test_hessian_checks_every_engines_hvp():
    r = run("--hessian", "--dtype", "float64", "--max-entries", "30", "--json")
    assert r.returncode == 0, r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert len(checks) == len(ENGINE_CASES) * len(CHECKED_ENGINES)
    assert all(c["ok"] and c["kind"] == "hvpcheck" and c["max_ratio"] <= 1 for c in checks)


def test_hessian_without_the_outer_product_exits_1(monkeypatch, capsys):
    def diag_only(W, U, N, reg=0.0):   # (r_i / n) diag(p_i) U_i + c U_i, no - p_i p_i^T
        share = N.sum(axis=1, keepdims=True) / N.sum()
        return share * softmax(W) * U + 2 * reg / W.size * U

    module = importlib.import_module("minibigram.problems")
    monkeypatch.setattr(module, "counts_hvp", diag_only)
    assert main(["gradcheck", "--hessian", "--engine", "counts", "--dtype", "float64"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "hvpcheck FAILED" in out

