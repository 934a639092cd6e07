"""The checkers: pass correct gradients and Hessian-vector products, fail wrong ones, truthfully."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from minibigram import (
    ENGINES,
    PASS_RULE,
    REFERENCE_PROBLEMS,
    GradcheckError,
    SettingsError,
    assert_gradcheck,
    bigram_counts,
    concat_newton,
    context_counts,
    counts_loss_and_grad,
    cross_entropy,
    gradcheck,
    hvpcheck,
    loss_and_grad,
    newton,
    reference_problem,
)
from minibigram.checks import DEFAULTS, NOISE_RULE
from minibigram.engines import concat_hvp, concat_loss_and_grad, counts_hvp
from minibigram.functional import softmax
from minibigram.problems import CHECKED_ENGINES, check_engines

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
    assert gradcheck(f, x, eps=1e-3).n_calls == 4 * 6 + 1  # a given step: no search for one
    assert result.max_abs_error < 1e-9  # exact for quadratics, up to rounding
    assert gradcheck(f, x.astype(np.float32)).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_bigram_loss_passes(problem, engine):
    W, xs, ys = problem
    result = assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, REG, engine), W)
    assert result.ok and result.n_checked == W.size and result.dtype == "float64"
    assert result.max_ratio < 0.2  # the defaults leave a margin of 5x or more


def test_float32_passes_when_f_computes_in_float32(problem):
    W, xs, ys = problem
    W32 = W.astype(np.float32)
    # f casts its (float64) input back to float32: the checker must round its steps to match
    result = gradcheck(lambda W: loss_and_grad(W.astype(np.float32), xs, ys, REG), W32)
    assert result.ok, str(result)
    d = DEFAULTS["float32"]
    assert (result.eps, result.rtol, result.atol, result.dtype) == (d.eps, d.rtol, d.atol,
                                                                    "float32")


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
    assert report.startswith("the derivative disagrees with finite differences")
    assert "FAILED" in report and "worst x[2, 3]" in report and "1 of 49" in report


def test_concat_encoding_passes_and_fails_on_swapped_positions():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((2, 5, 5))  # (K, V, V)
    X, ys = rng.integers(0, 5, (30, 2)), rng.integers(0, 5, 30)

    def f(W):
        return concat_loss_and_grad(W, X, ys, REG)

    assert assert_gradcheck(f, W).n_checked == W.size
    assert not gradcheck(lambda W: (f(W)[0], f(W)[1][::-1]), W).ok
    assert not gradcheck(lambda W: (f(W)[0], f(W)[1] * len(ys)), W).ok


def test_near_zero_entries_are_judged_against_their_measured_spread():
    # grad of sum(x**5) at x = 0 is 0; the extrapolated difference gives 4 h**4, not 0: a
    # relative error |a - n| / |n| of 1, within the truncation that the spread measures
    def f(x):
        return (x**5).sum(), 5 * x**4

    result = gradcheck(f, np.zeros(4), eps=1e-2)
    assert result.verdict != "fail" and 0 < result.max_abs_error < 1e-7
    assert result.max_rel_error == 1.0
    assert gradcheck(lambda x: (f(x)[0], f(x)[1] + 1e-3), np.zeros(4), eps=1e-2).verdict == "fail"


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


@pytest.mark.parametrize("kwargs", [dict(eps=0.0), dict(rtol=-1.0), dict(atol=-1.0),
                                    dict(max_entries=0),
                                    dict(fast=True, directions=0)])
def test_bad_settings_raise(kwargs):
    with pytest.raises(SettingsError):
        gradcheck(lambda x: ((x * x).sum(), 2 * x), np.ones(3), **kwargs)


def test_bad_inputs_raise():
    with pytest.raises(SettingsError, match="float array"):
        gradcheck(lambda x: (0.0, x), np.arange(3))
    with pytest.raises(SettingsError, match=r"gradient of shape \(4,\) for x; it must have "
                                            r"shape \(2, 2\)"):
        gradcheck(lambda x: ((x * x).sum(), 2 * x.ravel()), np.ones((2, 2)))
    with pytest.raises(SettingsError, match="pair"):
        gradcheck(lambda x: (x * x).sum(), np.ones(3))
    with pytest.raises(SettingsError, match="resolution"):
        gradcheck(lambda x: ((x * x).sum(), 2 * x), np.full(2, 1e6, np.float32), eps=1e-3)


def test_report_is_readable(problem):
    W, xs, ys = problem
    text = str(gradcheck(lambda W: loss_and_grad(W, xs, ys, REG), W))
    assert text.startswith("gradcheck passed: 0 of 49 checked entries fail and 0 cannot be "
                           f"judged (of 49 entries); rule {PASS_RULE}")
    assert "analytic" in text and "numeric" in text and len(text.splitlines()) == 3 + 5


def test_the_rule_is_stated_in_the_docstrings_and_the_report_header(problem):
    W, xs, ys = problem
    assert "``|a - n| > atol + rtol * |n| + noise``" in gradcheck.__doc__
    assert "Rule: as :func:`gradcheck`'s" in hvpcheck.__doc__
    assert PASS_RULE == "|a - n| <= atol + rtol * |n| + noise" and "spread" in NOISE_RULE
    header = str(gradcheck(lambda W: loss_and_grad(W, xs, ys, REG), W)).splitlines()[0]
    assert PASS_RULE in header and "atol=0" in header and "rtol=1e-06" in header


def test_report_rows_show_analytic_numeric_absolute_and_true_relative_error(problem):
    """The issue's case: an entry off by 10 % is listed as 10 %, not as 3.5e-3."""
    W, xs, ys = problem
    W32 = W.astype(np.float32)

    def f(W):
        loss, dW = loss_and_grad(W, xs, ys, REG)
        dW = dW.copy()
        dW[1, 2] *= 1.1
        return loss, dW

    result = gradcheck(f, W32)   # f computes in float64: its noise is float64's
    true = loss_and_grad(W, xs, ys, REG)[1][1, 2]               # float64 gold
    worst = result.worst[0]
    assert not result.ok and worst.label == "x[1, 2]" and worst.index == (1, 2)
    assert worst.numeric == pytest.approx(true, rel=1e-5)
    assert worst.abs_error == pytest.approx(abs(worst.analytic - worst.numeric), rel=1e-12)
    assert worst.rel_error == pytest.approx(0.1, rel=1e-3)    # the truth: 10 %
    assert worst.ratio == pytest.approx(worst.abs_error / (1e-3 * abs(worst.numeric)
                                                           + worst.noise))
    lines = str(result).splitlines()
    assert lines[1].startswith("  worst x[1, 2]: |a - n| = ") and "> " in lines[1]
    assert float(lines[1].split("|a - n|/|n| = ")[1].rstrip(")")) == pytest.approx(0.1, rel=1e-3)
    row = next(ln for ln in lines[3:] if ln.strip().startswith("x[1, 2]"))
    analytic, numeric, abs_err, rel_err, noise = row.split("]")[1].split()[:5]
    assert float(analytic) == pytest.approx(worst.analytic, rel=1e-6)
    assert float(numeric) == pytest.approx(worst.numeric, rel=1e-6)
    assert float(abs_err) == pytest.approx(worst.abs_error, rel=1e-3)
    assert float(rel_err) == pytest.approx(0.1, rel=1e-3) and row.endswith("<- fails")
    assert float(noise) == pytest.approx(worst.noise, rel=1e-3)


def _bigram_problem(engine, seed=0):
    """The 27 x 27 problem of check_engines, as (f, W) of the engine (concat: K = 1)."""
    rng = np.random.default_rng(seed)
    xs, ys = rng.integers(0, 27, 400), rng.integers(0, 27, 400)
    W = rng.standard_normal((27, 27))
    if engine == "concat":
        return partial(concat_loss_and_grad, X=xs[:, None], ys=ys, reg=0.01), W[None]
    return partial(loss_and_grad, xs=xs, ys=ys, reg=0.01, engine=engine), W


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("engine", CHECKED_ENGINES)
def test_ten_percent_error_on_entries_near_1e_4_fails_and_the_true_gradient_passes(engine, dtype):
    f, W = _bigram_problem(engine)
    W = W.astype(dtype)
    g = f(W.astype(np.float64))[1]
    for size in (1e-4, 3e-4):
        # the five entries closest to that size, each made 10 % too large
        spoiled = np.argsort(np.abs(np.abs(g.ravel()) - size))[:5]
        assert np.allclose(np.abs(g.ravel()[spoiled]), size, rtol=0.3)

        def wrong(W, spoiled=spoiled):
            loss, dW = f(W)
            dW = dW.copy()
            dW.flat[spoiled] *= 1.1
            return loss, dW

        result = gradcheck(wrong, W)
        assert not result.ok and result.n_failed == 5, str(result)
        assert {np.ravel_multi_index(e.index, W.shape) for e in result.worst} == set(spoiled)
        assert all(e.rel_error == pytest.approx(0.1, rel=0.02) for e in result.worst)
    result = gradcheck(f, W)
    assert result.ok and result.max_ratio < 0.2, str(result)


def test_float32_f_that_computes_in_float32_rejects_ten_percent_near_1e_3():
    f, W = _bigram_problem("counts")

    def f32(W):
        return f(W.astype(np.float32))

    W32 = W.astype(np.float32)
    assert gradcheck(f32, W32).ok
    g = f(W)[1]
    i = int(np.argmin(np.abs(np.abs(g.ravel()) - 1e-3)))

    def wrong(W):
        loss, dW = f32(W)
        dW = dW.copy()
        dW.flat[i] *= 1.1
        return loss, dW

    result = gradcheck(wrong, W32)
    assert result.verdict == "fail"
    assert np.ravel_multi_index(result.worst[0].index, W.shape) == i


# ---------------------------------------------------------------- fast mode


@pytest.fixture(scope="module")
def big():
    """A 1000 x 1000 parameter: the counts loss of 20000 random pairs, V = 1000."""
    rng = np.random.default_rng(42)
    V, reg = 1000, 0.01
    N = bigram_counts(rng.integers(0, V, 20000), rng.integers(0, V, 20000), V)
    W = rng.standard_normal((V, V))
    return W, N, reg


@pytest.mark.parametrize("k", [1, 3, 7])
def test_fast_mode_calls_f_4k_plus_1_times_at_a_given_step(big, k):
    W, N, reg = big
    calls = []

    def f(W):
        calls.append(1)
        return counts_loss_and_grad(W, N, reg)

    result = gradcheck(f, W, fast=True, directions=k, eps=1e-3)
    assert result.ok, str(result)
    assert len(calls) == result.n_calls == 4 * k + 1 and result.n_checked == k
    assert result.mode == "fast" and result.size == W.size


def _big_mistakes(N, reg):
    def true(W):
        return counts_loss_and_grad(W, N, reg)

    def no_reg(W):
        return true(W)[0], counts_loss_and_grad(W, N, 0.0)[1]

    def transposed(W):
        loss, dW = true(W)
        return loss, dW.T

    def sign_in_one_row(W):
        loss, dW = true(W)
        dW = dW.copy()
        dW[min(17, len(dW) - 1)] *= -1
        return loss, dW

    return true, (no_reg, transposed, sign_in_one_row)


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_mode_default_rejects_what_full_mode_rejects_on_1000_x_1000(big, seed):
    W, N, reg = big
    true, mistakes = _big_mistakes(N, reg)
    assert gradcheck(true, W, fast=True, seed=seed).ok
    for mistake in mistakes:
        result = gradcheck(mistake, W, fast=True, seed=seed)
        assert result.verdict == "fail" and result.max_ratio > 5, (mistake.__name__, str(result))


@pytest.mark.parametrize("engine", ENGINES)
def test_full_mode_rejects_the_same_three_mistakes(problem, engine):
    W, xs, ys = problem
    N = bigram_counts(xs, ys, V)
    true, mistakes = _big_mistakes(N, REG)
    assert gradcheck(true, W).ok
    for mistake in mistakes:
        assert not gradcheck(mistake, W).ok, mistake.__name__


# ---------------------------------------------------------------- several inputs


def _two_inputs(problem, wrong_b=False):
    """logits = W[xs] + b: f(W, b) -> (loss, (dW, db))."""
    W, xs, ys = problem
    b = np.random.default_rng(7).standard_normal(V)

    def f(W, b):
        loss, dlogits = cross_entropy(W[xs] + b, ys)
        dW = np.zeros_like(W)
        np.add.at(dW, xs, dlogits)
        db = dlogits.sum(axis=0)
        return loss, (dW, -db if wrong_b else db)

    return f, (W, b)


@pytest.mark.parametrize("fast", [False, True])
def test_several_inputs_are_checked_together_and_the_failing_input_is_named(problem, fast):
    f, x = _two_inputs(problem)
    result = gradcheck(f, x, fast=fast)
    assert result.ok and result.size == V * V + V, str(result)
    if not fast:
        assert result.n_checked == V * V + V
    bad = gradcheck(*_two_inputs(problem, wrong_b=True), fast=fast)
    assert not bad.ok
    assert {e.input for e in bad.worst if e.ratio > 1} == {1}
    assert "args[1]" in bad.worst[0].label and "args[1]" in str(bad).splitlines()[1]
    with pytest.raises(SettingsError, match="tuple of 2 arrays, one per input"):
        gradcheck(lambda W, b: f(W, b)[0:1] + (f(W, b)[1][0],), x)


# ---------------------------------------------------------------- second order


def _counts_case():
    rng = np.random.default_rng(5)
    xs, ys = rng.integers(0, V, 300), rng.integers(0, V, 300)
    N = bigram_counts(xs, ys, V)
    W = rng.standard_normal((V, V))
    return W, N, lambda W: counts_loss_and_grad(W, N, REG)[1], partial(counts_hvp, N=N, reg=REG)


def _concat_case():
    rng = np.random.default_rng(6)
    X, ys = rng.integers(0, V, (300, 2)), rng.integers(0, V, 300)
    W = rng.standard_normal((2, V, V))
    return (W, X, lambda W: concat_loss_and_grad(W, X, ys, REG)[1],
            partial(concat_hvp, X=X, reg=REG))


@pytest.mark.parametrize("fast", [False, True])
def test_hvpcheck_accepts_counts_hvp_and_rejects_one_missing_ppT(fast):
    W, N, grad, hvp = _counts_case()
    result = hvpcheck(grad, hvp, W, fast=fast)
    assert result.ok and result.kind == "hvpcheck" and result.max_ratio < 0.1, str(result)
    assert result.n_checked == (4 if fast else W.size) and result.n_compared == (
        4 * W.size if fast else W.size ** 2)
    share = N.sum(axis=1, keepdims=True) / N.sum()            # (V, 1)

    def no_ppT(W, U):   # (r_i / n) diag(p_i) U_i + c U_i: the - p_i p_i^T term forgotten
        return share * softmax(W) * U + 2 * REG / W.size * U

    bad = hvpcheck(grad, no_ppT, W, fast=fast)
    assert not bad.ok and bad.max_ratio > 10 and str(bad).startswith("hvpcheck FAILED")


@pytest.mark.parametrize("fast", [False, True])
def test_hvpcheck_accepts_concat_hvp_and_rejects_one_missing_ppT(fast):
    W, X, grad, hvp = _concat_case()
    result = hvpcheck(grad, hvp, W, fast=fast)
    assert result.ok and result.max_ratio < 0.1, str(result)
    K = W.shape[0]

    def no_ppT(W, U):
        P = softmax(W[np.arange(K), X].sum(axis=1))           # (n, V)
        dG = P * U[np.arange(K), X].sum(axis=1) / len(X)      # (n, V): - P (P . dz) forgotten
        HU = np.zeros_like(W)
        for p in range(K):
            np.add.at(HU[p], X[:, p], dG)
        return HU + 2 * REG / W.size * U

    assert not hvpcheck(grad, no_ppT, W, fast=fast).ok


def _dense(hvp, W):
    """The Hessian, column by column: H[:, i] = hvp(W, e_i)."""
    return np.stack([hvp(W, e.reshape(W.shape)).ravel() for e in np.eye(W.size)], axis=1)


def test_counts_hvp_is_the_hessian_newton_steps_with():
    rng = np.random.default_rng(4)
    xs, ys = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    N, reg = bigram_counts(xs, ys, 5), 0.5
    W1, history = newton(N, reg, max_iter=1)            # one full step from W = 0
    W0 = np.zeros((5, 5))
    H = _dense(partial(counts_hvp, N=N, reg=reg), W0)
    assert np.array_equal(H, H.T)
    step = np.linalg.solve(H, counts_loss_and_grad(W0, N, reg)[1].ravel()).reshape(5, 5)
    np.testing.assert_allclose(W1, W0 - step, rtol=1e-12, atol=1e-14)
    assert len(history) == 1 and np.abs(step).max() > 0.1


def test_concat_hvp_is_the_hessian_concat_newton_steps_with():
    rng = np.random.default_rng(4)
    X, ys, reg = rng.integers(0, 5, (200, 2)), rng.integers(0, 5, 200), 0.5
    contexts, Nc = context_counts(X, ys, 5)
    W1, _ = concat_newton(contexts, Nc, reg, max_iter=1)
    ci, tj = np.nonzero(Nc)
    Xc, wc = contexts[ci], Nc[ci, tj]                     # the counts as weighted examples
    W0 = np.zeros((2, 5, 5))
    H = _dense(partial(concat_hvp, X=Xc, reg=reg, weights=wc), W0)
    np.testing.assert_allclose(H, H.T, atol=1e-15)
    g = concat_loss_and_grad(W0, Xc, tj, reg, wc)[1]
    step = np.linalg.solve(H, g.ravel()).reshape(W0.shape)
    np.testing.assert_allclose(W1, W0 - step, rtol=1e-12, atol=1e-14)
    # and the examples themselves give the same products as their counts
    U = rng.standard_normal(W0.shape)
    np.testing.assert_allclose(concat_hvp(W1, U, X, reg), concat_hvp(W1, U, Xc, reg, wc),
                               rtol=1e-12, atol=1e-15)


def test_check_engines_hessian_passes_for_every_engine():
    rows = check_engines(dtypes=("float64",), hessian=True, max_entries=50)
    assert {c["engine"] for c, _ in rows} == set(CHECKED_ENGINES)
    assert all(r.ok and r.kind == "hvpcheck" for _, r in rows)


# ---------------------------------------------------------------- reference problems


@pytest.mark.parametrize("name", REFERENCE_PROBLEMS)
def test_reference_problems_are_fixed_and_checked(name):
    p = reference_problem(name)
    q = reference_problem(name)
    assert np.array_equal(p.W, q.W) and np.array_equal(p.xs, q.xs) and p.loss == q.loss
    assert not np.array_equal(p.W, reference_problem(name, seed=1).W)
    assert p.W.dtype == p.grad.dtype == np.float64 and p.grad.shape == p.W.shape
    loss, grad = p.loss_and_grad(p.W)
    assert loss == pytest.approx(p.loss, rel=1e-14)
    np.testing.assert_allclose(grad, p.grad, rtol=1e-12, atol=1e-16)
    assert gradcheck(p.loss_and_grad, p.W).ok
    assert hvpcheck(lambda W: p.loss_and_grad(W)[1], lambda W, U: p.hvp(U, W), p.W).ok
    # an independent float64 recomputation of the loss, from the documented formula
    if name == "ngram-concat":
        logits = p.W[np.arange(p.W.shape[0]), p.xs].sum(axis=1)
    else:
        logits = p.W[p.xs]
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    gold = -logp[np.arange(len(p.ys)), p.ys].mean() + p.reg * (p.W**2).mean()
    assert p.loss == pytest.approx(gold, rel=1e-13)


def test_unknown_reference_problem_is_one_sentence():
    with pytest.raises(SettingsError, match="unknown reference problem 'trigram': choose one of"):
        reference_problem("trigram")


# ---------------------------------------------------------------- verdicts


def _offset_linear(slope):
    """A loss of 1e5 whose gradient is ``slope`` everywhere: rounding hides the slope."""
    def f(x):
        return 1e5 + slope * x.sum(), np.full_like(x, slope)
    return f


def test_three_verdicts_and_ok_only_for_pass(problem):
    W, xs, ys = problem
    right = gradcheck(lambda W: loss_and_grad(W, xs, ys, REG), W)
    wrong = gradcheck(lambda W: (loss_and_grad(W, xs, ys, REG)[0], -loss_and_grad(W, xs, ys,
                                                                                    REG)[1]), W)
    hidden = gradcheck(_offset_linear(1e-12), np.ones(5))
    assert (right.verdict, wrong.verdict, hidden.verdict) == ("pass", "fail", "inconclusive")
    assert (right.ok, wrong.ok, hidden.ok) == (True, False, False)
    assert hidden.n_inconclusive == 5 and hidden.n_failed == 0
    assert all(not e.judged and e.noise > 10 * abs(e.analytic) for e in hidden.undecided)


def test_an_inconclusive_report_names_the_entries_the_floor_and_the_remedies():
    hidden = gradcheck(_offset_linear(1e-12), np.ones(5))
    text = str(hidden)
    assert text.startswith("gradcheck INCONCLUSIVE: 0 of 5 checked entries fail and 5 cannot be "
                           "judged")
    assert f"noise up to {hidden.noise_floor:.3g}" in text
    assert "x[0]" in text and "<- cannot tell" in text
    assert "compute in float64" in text and "scale the loss down" in text and "wider eps" in text
    # a doubled gradient is just as hidden: the checker says it cannot tell, not "pass"
    assert gradcheck(_offset_linear(2e-12), np.ones(5)).verdict == "inconclusive"


def test_a_float32_loss_of_1e6_is_inconclusive_not_failed():
    def f(x):
        x = x.astype(np.float32)
        return float(np.float32(1e6) + (x * x).sum()), 2 * x

    x = np.random.default_rng(0).standard_normal(10).astype(np.float32)
    result = gradcheck(f, x)
    assert result.verdict == "inconclusive" and result.n_failed == 0, str(result)


def test_assert_gradcheck_raises_with_a_message_per_verdict(problem):
    W, xs, ys = problem
    with pytest.raises(GradcheckError, match="^the derivative disagrees with finite diff"):
        assert_gradcheck(lambda W: (loss_and_grad(W, xs, ys, REG)[0], W), W)
    with pytest.raises(GradcheckError, match="^cannot tell whether the derivative is right"):
        assert_gradcheck(_offset_linear(1e-12), np.ones(5))
    result = assert_gradcheck(_offset_linear(1e-12), np.ones(5), allow_inconclusive=True)
    assert result.verdict == "inconclusive"
    with pytest.raises(GradcheckError, match="^the derivative disagrees"):
        assert_gradcheck(lambda W: (loss_and_grad(W, xs, ys, REG)[0], W), W,
                         allow_inconclusive=True)
    assert assert_gradcheck(lambda W: loss_and_grad(W, xs, ys, REG), W).ok


def test_float32_defaults_pass_a_correct_float32_tanh_network_without_an_eps():
    from minibigram.battery import battery

    mlp = next(c for c in battery(max_size=300) if c.name.startswith("tanh MLP mean 10-16-5")
               and c.reg == 0 and "weights" not in c.name)
    x = {k: v.astype(np.float32) for k, v in mlp.params.items()}
    assert mlp.size == 261
    result = gradcheck(mlp.function("float32"), x)
    assert result.verdict == "pass", str(result)
    assert gradcheck(mlp.function("float32", "transposed"), x).verdict == "fail"


# ---------------------------------------------------------------- vector outputs, named inputs


def _tanh_layer():
    rng = np.random.default_rng(3)
    A, x = rng.standard_normal((4, 6)), rng.standard_normal(6)   # y = tanh(A x), y of 4

    def jac(x):
        y = np.tanh(A @ x)                                     # (4,)
        return y, (1 - y * y)[:, None] * A                     # (4, 6) = J

    def vjp(x):
        y = np.tanh(A @ x)                                     # (4,)
        return y, lambda v: A.T @ (v * (1 - y * y))            # (6,) = v J

    def wrong_jac(x):
        y, J = jac(x)
        return y, J * np.array([1, 1, -1, 1])[:, None]         # the sign of output 2's row
    return x, jac, vjp, wrong_jac


@pytest.mark.parametrize("fast", [False, True])
def test_vector_outputs_check_a_jacobian_or_a_vjp(fast):
    x, jac, vjp, wrong_jac = _tanh_layer()
    for f in (jac, vjp):
        result = gradcheck(f, x, fast=fast)
        assert result.verdict == "pass", str(result)
        assert result.n_checked == (4 if fast else 6)
        assert result.n_compared == (4 if fast else 4 * 6)
    bad = gradcheck(wrong_jac, x, fast=fast)
    assert bad.verdict == "fail"
    if not fast:
        assert {e.index[0] for e in bad.worst if e.ratio > 1} == {2}
        assert bad.worst[0].label.startswith("d y[2] / d x[")


def test_named_inputs_are_reported_by_name():
    from minibigram.battery import battery

    mlp = next(c for c in battery(max_size=300) if c.name.startswith("tanh MLP mean 10-16-5"))
    result = gradcheck(mlp.function(), mlp.params)
    assert result.verdict == "pass" and result.size == 261
    f = mlp.function()

    def wrong(params):
        loss, grads = f(params)
        grads["W1"][3, 7] *= 1.5
        return loss, grads

    bad = gradcheck(wrong, mlp.params)
    assert bad.verdict == "fail" and bad.n_failed == 1
    assert bad.worst[0].label == "W1[3, 7]" and bad.worst[0].input == 0
    assert "worst W1[3, 7]" in str(bad)
    fast = gradcheck(lambda p: (f(p)[0], {**f(p)[1], "b2": -f(p)[1]["b2"]}), mlp.params,
                     fast=True)
    assert fast.verdict == "fail" and fast.worst[0].label.endswith("of b2")
    with pytest.raises(SettingsError, match="dict with the same keys"):
        gradcheck(lambda p: (f(p)[0], f(p)[1]["W1"]), mlp.params)


# ---------------------------------------------------------------- errors, progress, names


def test_a_loss_of_shape_1_is_a_settings_error_naming_the_fix():
    with pytest.raises(SettingsError, match=r"loss of shape \(1,\).*loss.item\(\)"):
        gradcheck(lambda x: (np.array([(x * x).sum()]), 2 * x), np.ones(3))


def test_a_nan_loss_is_a_settings_error_that_says_nan():
    with pytest.raises(SettingsError, match="f returned nan as its output at x itself"):
        gradcheck(lambda x: (np.log(x).sum(), 1 / x), -np.ones(3))
    with pytest.raises(SettingsError, match="nan as its output at a step of x"):
        gradcheck(lambda x: (np.sqrt(x).sum(), 0.5 / np.sqrt(x)), np.array([1.0, 1e-4]),
                  eps=1e-3)


def test_a_list_as_x_is_a_settings_error_naming_the_fix():
    with pytest.raises(SettingsError, match=r"x is a list.*np.asarray\(x\).*tuple"):
        gradcheck(lambda x: ((x * x).sum(), 2 * x), [1.0, 2.0])


def test_a_long_check_shows_progress_on_stderr(monkeypatch, capsys):
    import minibigram.checks as checks

    monkeypatch.setattr(checks, "PROGRESS_AFTER", 0.0)
    gradcheck(lambda x: ((x * x).sum(), 2 * x), np.ones(40), progress=True)
    err = capsys.readouterr().err
    assert "entry 40/40" in err and err.endswith("\r\x1b[K")
    gradcheck(lambda x: ((x * x).sum(), 2 * x), np.ones(40), progress=False)
    assert capsys.readouterr().err == ""


def test_the_lazy_names_are_in_dir():
    import minibigram

    names = dir(minibigram)
    assert {"gradcheck", "assert_gradcheck", "load_model", "to_json", "reference_problem",
            "BigramModel"} <= set(names)
    assert set(minibigram.__all__) <= set(names)


def test_fast_hvpcheck_counts_directions_and_the_entries_compared():
    W, N, grad, hvp = _counts_case()
    text = str(hvpcheck(grad, hvp, W, fast=True))
    assert text.startswith(f"hvpcheck passed: 0 of 4 checked directions fail and 0 cannot be "
                           f"judged (of {W.size} entries, {4 * W.size} values compared)")


# ---------------------------------------------------------------- the battery, small


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_battery_true_gradients_never_fail_and_visible_mistakes_fail_in_full_mode(dtype):
    """The battery's 13 cases of at most 120 entries; benchmarks/run.py runs all 45."""
    from minibigram.battery import battery, gradcheck_verdict, tally

    cases = battery(max_size=120)
    assert len(cases) == 13
    full = tally(gradcheck_verdict, cases, dtype, fast=False)
    fast = tally(gradcheck_verdict, cases, dtype, fast=True, seeds=(0,))
    assert "fail" not in full.true and "fail" not in fast.true, full.missed + fast.missed
    if dtype == "float64":
        assert set(full.true) == {"pass"} and set(full.wrong) == {"fail"}, full.missed
        assert sum(full.wrong.values()) == 53
