"""The gradient checker: passes correct gradients, fails wrong ones, subsamples reproducibly."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from minibigram import (
    ENGINES,
    GradcheckError,
    SettingsError,
    assert_gradcheck,
    gradcheck,
    loss_and_grad,
)
from minibigram.engines import concat_loss_and_grad

V, N, REG = 7, 40, 0.1


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((V, V))
    xs = rng.integers(0, V, N)
    ys = rng.integers(0, V, N)
    return W, xs, ys


def test_quadratic_passes_in_float64_and_float32():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((6, 6))
    A = B @ B.T
    b = rng.standard_normal(6)

    def f(x):
        return 0.5 * x @ A @ x + b @ x, A @ x + b

    x = rng.standard_normal(6)
    result = gradcheck(f, x)
    assert result.ok and result.n_checked == 6
    assert result.max_rel_error < 1e-7  # exact for quadratics, up to rounding
    assert gradcheck(f, x.astype(np.float32)).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_bigram_loss_passes(problem, engine):
    W, xs, ys = problem
    result = assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, REG, engine), W)
    assert result.ok and result.n_checked == W.size and result.dtype == "float64"
    assert result.max_rel_error < 1e-6  # defaults leave a wide margin below rtol=1e-5


def test_float32_passes_when_f_computes_in_float32(problem):
    W, xs, ys = problem
    W32 = W.astype(np.float32)
    # f casts its (float64) input back to float32: the checker must round its steps to match
    result = gradcheck(lambda W: loss_and_grad(W.astype(np.float32), xs, ys, REG), W32)
    assert result.ok, str(result)
    assert (result.eps, result.rtol, result.atol, result.dtype) == (1e-2, 1e-2, 1e-3, "float32")


def _spoiled(problem, engine, mistake):
    """The real loss, with its gradient spoiled by mistake(W, dW_data, dW_reg, n)."""
    W, xs, ys = problem

    def f(W):
        loss, dW = loss_and_grad(W, xs, ys, REG, engine)
        _, dW_data = loss_and_grad(W, xs, ys, 0.0, engine)
        return loss, mistake(W, dW_data, dW - dW_data, len(xs))

    return f


def _wrong(problem, engine, mistake):
    return gradcheck(_spoiled(problem, engine, mistake), problem[0])


@pytest.mark.parametrize("engine", ENGINES)
def test_fails_on_missing_1_over_n(problem, engine):
    result = _wrong(problem, engine, lambda W, dW_data, dW_reg, n: dW_data * n + dW_reg)
    assert not result.ok and result.max_rel_error > 0.5


@pytest.mark.parametrize("engine", ENGINES)
def test_fails_on_missing_regularization_term(problem, engine):
    assert not _wrong(problem, engine, lambda W, dW_data, dW_reg, n: dW_data).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_fails_on_transposed_dW(problem, engine):
    assert not _wrong(problem, engine, lambda W, dW_data, dW_reg, n: (dW_data + dW_reg).T).ok


@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("engine", ENGINES)
def test_fails_on_single_entry_off_by_1e_4(problem, engine, relative):
    def mistake(W, dW_data, dW_reg, n):
        dW = dW_data + dW_reg
        dW[2, 3] = dW[2, 3] * (1 + 1e-4) if relative else dW[2, 3] + 1e-4
        return dW

    W, xs, ys = problem
    assert abs(loss_and_grad(W, xs, ys, REG)[1][2, 3]) > 1e-3  # a relative 1e-4 is detectable
    result = _wrong(problem, engine, mistake)
    assert not result.ok and result.n_failed == 1
    assert result.worst[0].index == (2, 3)
    with pytest.raises(GradcheckError) as info:
        assert_gradcheck(_spoiled(problem, engine, mistake), W)
    assert isinstance(info.value, AssertionError)
    report = str(info.value)
    assert "FAILED" in report and "(2, 3)" in report and "1 of 49" in report


def test_concat_encoding_passes_and_fails_on_swapped_positions():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((2, 5, 5))  # (K, V, V)
    X, ys = rng.integers(0, 5, (30, 2)), rng.integers(0, 5, 30)

    def f(W):
        return concat_loss_and_grad(W, X, ys, REG)

    assert assert_gradcheck(f, W).n_checked == W.size
    assert not gradcheck(lambda W: (f(W)[0], f(W)[1][::-1]), W).ok
    assert not gradcheck(lambda W: (f(W)[0], f(W)[1] * len(ys)), W).ok


def test_near_zero_entries_use_atol():
    # grad of sum(x**3) at x = 0 is 0; the central difference gives eps**2 = 1e-12, not 0:
    # a pure relative error would be 1, the atol floor accepts it.
    result = gradcheck(lambda x: ((x**3).sum(), 3 * x**2), np.zeros(4))
    assert result.ok and result.max_rel_error < 1e-5
    assert not gradcheck(lambda x: ((x**3).sum(), 3 * x**2), np.zeros(4), atol=0.0).ok


def test_non_finite_gradient_fails(problem):
    W, xs, ys = problem

    def f(W):
        loss, dW = loss_and_grad(W, xs, ys, REG)
        dW = dW.copy()
        dW[0, 0] = np.nan
        return loss, dW

    result = gradcheck(f, W)
    assert not result.ok and result.max_rel_error == np.inf and result.worst[0].index == (0, 0)


def test_max_entries_subset_is_seeded_and_includes_largest_gradients():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((30, 30))
    xs, ys = rng.integers(0, 30, 500), rng.integers(0, 30, 500)

    def f(W):
        return loss_and_grad(W, xs, ys, REG)

    a = np.abs(f(W)[1]).ravel()
    largest = set(np.argsort(-a)[:10].tolist())
    r1 = gradcheck(f, W, max_entries=40, seed=5)
    assert r1.ok and r1.n_checked == 40 and r1.size == 900
    assert largest <= set(r1.checked)
    assert gradcheck(f, W, max_entries=40, seed=5).checked == r1.checked
    assert gradcheck(f, W, max_entries=40, seed=6).checked != r1.checked
    assert gradcheck(f, W, max_entries=5000).n_checked == 900

    def wrong_at_largest(W):
        loss, dW = f(W)
        dW = dW.copy()
        dW.flat[int(np.argmax(a))] *= 1.01
        return loss, dW

    # the largest-|gradient| entries are always checked, whatever the seed
    assert not any(gradcheck(wrong_at_largest, W, max_entries=12, seed=s).ok for s in range(3))


def test_f_cannot_change_the_callers_array(problem):
    W, xs, ys = problem
    W0 = W.copy()

    def f(W):
        out = loss_and_grad(W, xs, ys, REG)
        W += 1.0
        return out

    assert gradcheck(f, W).ok
    np.testing.assert_array_equal(W, W0)


@pytest.mark.parametrize("kwargs", [dict(eps=0.0), dict(rtol=0.0), dict(atol=-1.0),
                                    dict(max_entries=0)])
def test_bad_settings_raise(kwargs):
    with pytest.raises(SettingsError):
        gradcheck(lambda x: ((x * x).sum(), 2 * x), np.ones(3), **kwargs)


def test_bad_inputs_raise():
    with pytest.raises(SettingsError, match="float array"):
        gradcheck(lambda x: (0.0, x), np.arange(3))
    with pytest.raises(SettingsError, match="same shape"):
        gradcheck(lambda x: ((x * x).sum(), 2 * x.ravel()), np.ones((2, 2)))
    with pytest.raises(SettingsError, match="pair"):
        gradcheck(lambda x: (x * x).sum(), np.ones(3))
    with pytest.raises(SettingsError, match="resolution"):
        gradcheck(lambda x: ((x * x).sum(), 2 * x), np.full(2, 1e6, np.float32), eps=1e-3)


def test_report_is_readable(problem):
    W, xs, ys = problem
    text = str(gradcheck(lambda W: loss_and_grad(W, xs, ys, REG), W))
    assert text.startswith("gradcheck passed: 0 of 49 checked entries (of 49)")
    assert "analytic" in text and "numeric" in text and len(text.splitlines()) == 2 + 5


def test_readme_derive_it_yourself_snippet_prints_what_the_readme_shows(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Derive it yourself"):]
    code, shown = re.search(r"```python\n(.*?)```\n\n```\n(.*?)```", section, re.S).groups()
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    out = capsys.readouterr().out.splitlines()
    expected = shown.splitlines()
    # relative errors of ~1e-8 are rounding noise (they vary with the CPU's exp): mask them
    rel = re.compile(r"\d\.\d{3}e[-+]\d\d(?= \(atol)")
    assert rel.sub("#", out[0]) == rel.sub("#", expected[0])
    assert out[1] == expected[1]
    assert len(out) == len(expected) and out[-1] == expected[-1] == "False"
    # Each reported row's columns, recomputed here: the analytic gradient and an
    # independent central difference of the snippet's own f.
    f, W = ns["f"], ns["W"]
    dW = f(W)[1]
    for row in out[2:-1]:
        i, j, analytic, numeric, _ = re.fullmatch(
            r"\s*\((\d+), (\d+)\)\s+(\S+)\s+(\S+)\s+(\S+)", row).groups()
        e = np.zeros_like(W)
        e[int(i), int(j)] = 1e-6
        central = (f(W + e)[0] - f(W - e)[0]) / 2e-6
        assert float(analytic) == pytest.approx(dW[int(i), int(j)], rel=1e-6)
        assert float(numeric) == pytest.approx(central, rel=1e-5)
