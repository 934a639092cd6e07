"""TorchGenerator against torch 2.13 (when installed) and against the lecture's names (always)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import PROPS
from hypothesis import given
from hypothesis import strategies as st

from minibigram import BigramModel, Vocabulary, bigram_counts, bigrams
from minibigram.errors import DataError, SettingsError
from minibigram.models import init_weights
from minibigram.sampling import sample_one_at_a_time
from minibigram.torchrng import (
    ERAS,
    MersenneTwister,
    TorchGenerator,
    draw_torch,
    draw_torch_cdf,
    draw_torch_mkl,
    fma32,
    mcg31_uniforms,
)

SEEDS = [0, 1, 7, 42, 1234, 2147483647, 2**32 - 1, 987654321]
SIZES = [1, 2, 3, 5, 8, 15, 16, 17, 31, 32, 33, 48, 100, 729, 1000]


# -- torch-free ------------------------------------------------------------------------------


def test_lecture_count_model_names_torch_cdf(names):
    """The lecture video (torch 1.x) sampled P = (N + 1) row-normalized as these five names."""
    vocab = Vocabulary.from_words(names)
    N = bigram_counts(*bigrams(names, vocab), len(vocab))
    P = (N + 1).astype(np.float32)
    P /= P.sum(axis=1, keepdims=True)
    words = sample_one_at_a_time(P, 5, TorchGenerator(2147483647), draw_torch_cdf)
    assert [vocab.decode(w) for w in words] == [
        "mor", "axx", "minaymoryles", "kondlaisah", "anchshizarie"]  # fmt: skip


def test_notebook_replay_without_torch(names):
    """init="torch" (the default) replays the notebook's loop; each era its names.

    The losses are torch 2.13.0's (CPU, 2 threads; with 1 thread steps 1 and 3 differ by two
    float32 ulp), which minibigram's float32 steps meet within 1e-6; minibigram's own
    history is pinned exactly by docs/makemore_part1.ipynb (cell 58). The default sampler is
    the published notebook's era, "torch-cdf"; "torch-mkl" gives torch 2.0-2.6's names."""
    model = BigramModel.fit(names)
    for step, loss in [(1, 3.768618583679199), (2, 3.3788068294525146),
                       (3, 3.161090850830078), (54, 2.507380247116089)]:  # fmt: skip
        assert model.history[step - 1] == pytest.approx(loss, abs=1e-6)
    assert model.sample(3, sampler="torch-mkl") == ["junide", "janasah", "p"]
    assert model.sample(3) == model.sample(3, sampler="torch-cdf") == ["mor", "axx",
                                                                       "minaymoryles"]


def test_init_choices():
    W = init_weights(27, 5, "float64", "torch")
    np.testing.assert_array_equal(W, TorchGenerator(5).randn(27, 27).astype(np.float64))
    expect = np.random.default_rng(5).standard_normal((27, 27)).astype(np.float32)
    np.testing.assert_array_equal(init_weights(27, 5, "float32", "normal"), expect)
    with pytest.raises(SettingsError):
        BigramModel.fit(["ab"], steps=1, init="uniform")


def test_word_accounting():
    g = TorchGenerator(5)
    words = np.random.RandomState(5).randint(0, 2**32, size=5, dtype=np.uint32)
    assert g.random() == words[0]
    assert g.random64() == (int(words[1]) << 32) | int(words[2])
    assert g.position == 3
    g.uniform64(1)
    assert g.position == 5
    draw_torch(np.ones(4, dtype=np.float32), g)  # 4 float64 uniforms
    assert g.position == 13
    draw_torch_mkl(np.ones(27, dtype=np.float32), g)  # one word seeds MKL's stream
    assert g.position == 14
    draw_torch_cdf(np.ones(27, dtype=np.float32), g)  # one float64 uniform
    assert g.position == 16


def _randomstate_words(seed: int, n: int) -> np.ndarray:
    """The gold reference: NumPy's legacy RandomState is MT19937 seeded by init_genrand too."""
    return np.random.RandomState(seed % 2**32).randint(0, 2**32, size=n, dtype=np.uint32)


@pytest.mark.parametrize("seed", [0, 1, 5, 2147483647, 2**32 - 1, 2**40 + 7])
def test_words_equal_randomstate_whatever_the_request_sizes(seed):
    """Requests of no word, one, a round (623), a block (624), many blocks: one stream."""
    sizes = [0, 1, 623, 624, 625, 1, 5000, 100000, 0, 622, 1247]
    g = TorchGenerator(seed)
    pieces = []
    for n in sizes:
        w = g.words(n)
        assert w.shape == (n,) and w.dtype == np.uint32
        pieces.append(w.copy())
        w[:] = 0  # the words handed out are the caller's own: the stream does not change
    np.testing.assert_array_equal(np.concatenate(pieces), _randomstate_words(seed, sum(sizes)))
    assert g.position == sum(sizes)


@PROPS
@given(st.integers(0, 2**64 - 1),
       st.lists(st.one_of(st.integers(0, 700), st.integers(600, 4000)), max_size=12))
def test_words_equal_randomstate_for_any_chunking(seed, sizes):
    """Requests may be empty, end inside a round of 623 words or span several: one stream."""
    mt = MersenneTwister(seed)
    got = np.concatenate([mt.words(n) for n in sizes] + [mt.words(3)])
    np.testing.assert_array_equal(got, _randomstate_words(seed, sum(sizes) + 3))


def test_mt19937_reference_outputs():
    """MT19937 seeded with 5489 (the reference seed) starts 3499211612, 581869302, ... and its
    10000th word is 4123659995 (C++'s std::mt19937 check value)."""
    first = [3499211612, 581869302, 3890346734, 3586334585, 545404204, 4161255391, 3922919429]
    w = MersenneTwister(5489).words(10000)
    assert w[: len(first)].tolist() == first and w[9999] == 4123659995
    np.testing.assert_array_equal(w, _randomstate_words(5489, 10000))


def test_mcg31_block_doubling_equals_recurrence():
    for seed, n in [(0, 1), (2**31 - 1, 5), (123456789, 27), (4294967295, 100)]:
        x = seed % (2**31 - 1) or 1
        expect = []
        for _ in range(n):
            expect.append(x / (2**31 - 1))
            x = 1132489760 * x % (2**31 - 1)
        np.testing.assert_array_equal(mcg31_uniforms(seed, n), expect)


def _round_to_float32(x: Fraction) -> np.float32:
    """Correctly rounded float32 of an exact rational (nearest, ties to even)."""
    guess = np.float32(float(x))
    near = [
        np.nextafter(guess, np.float32(-np.inf)),
        guess,
        np.nextafter(guess, np.float32(np.inf)),
    ]
    return min(near, key=lambda y: (abs(Fraction(float(y)) - x), int(y.view(np.int32)) & 1))


def test_fma32_rounds_once():
    # 641 * 6700417 = 2**32 + 1: the exact sum lies just above a float32 tie, and the float64 sum
    # lands exactly on it, so rounding twice would give 2**30, once gives 2**30 + 2**7
    a, b, c = np.float32(641), np.float32(6700417 * 2.0**-26), np.float32(2**30)
    assert (a.astype(np.float64) * b + c).astype(np.float32) == 2**30  # the trap is real
    assert fma32(a, b, c) == 2**30 + 2**7
    rng = np.random.default_rng(4)
    a, b, c = (rng.standard_normal(2000).astype(np.float32) for _ in range(3))
    got = fma32(a, b, c)
    for i in range(len(a)):
        exact = Fraction(float(a[i])) * Fraction(float(b[i])) + Fraction(float(c[i]))
        assert got[i] == _round_to_float32(exact)


def test_manual_seed_restarts_stream_and_cache():
    g = TorchGenerator(11)
    first = g.randn(3)  # leaves a cached normal
    g.manual_seed(11)
    np.testing.assert_array_equal(g.randn(3), first)


def test_shapes_and_dtypes():
    g = TorchGenerator(0)
    assert g.randn(27, 27).shape == (27, 27) and g.randn((27, 27)).dtype == np.float32
    assert g.rand(2, 3, dtype="float64").dtype == np.float64
    assert g.randn(0).shape == (0,)
    assert g.multinomial(np.ones((3, 4)), 2, era="torch").shape == (3, 2)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda g: g.multinomial([0.5, 0.5], 1, era="torch-9"), SettingsError),
        (lambda g: g.multinomial([0.5, 0.5], 0), SettingsError),
        (lambda g: g.multinomial([0.5, 0.5], 1, replacement=False), SettingsError),
        (lambda g: g.multinomial([0.0, 0.0], 1), DataError),
        (lambda g: g.multinomial([0.5, -0.1], 1), DataError),
        (lambda g: g.multinomial([0.5, np.nan], 1), DataError),
        (lambda g: g.multinomial(np.ones((2, 3)), 1, era="torch-mkl"), SettingsError),
        (lambda g: g.randn(2, -1), SettingsError),
        (lambda g: g.rand(2, dtype="int32"), SettingsError),
        (lambda g: TorchGenerator("seed"), SettingsError),
    ],
)
def test_bad_input_raises_clear_errors(call, error):
    with pytest.raises(error):
        call(TorchGenerator(0))


# -- against torch 2.13 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("seed", [0, 3, 2**32 + 3, 2**64 - 1, -1, -5])
def test_seed_reduction_like_torch(torch, seed):
    g = torch.Generator().manual_seed(seed)
    ours = TorchGenerator(seed)
    assert ours.seed == g.initial_seed()
    np.testing.assert_array_equal(ours.rand(4), torch.rand(4, generator=g).numpy())


def test_random_and_random64_words_like_torch(torch):
    # a float32 rand is the low 24 bits of random(); int64 randint is random64() % range
    for seed in SEEDS:
        g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
        for _ in range(3):
            assert torch.rand(1, generator=g).item() == (ours.random() & (2**24 - 1)) * 2**-24
            assert torch.randint(0, 2**62, (1,), generator=g).item() == ours.random64() % 2**62


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rand_exactly_equal(torch, dtype):
    for seed in SEEDS:
        g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
        for n in SIZES:
            expect = torch.rand(n, generator=g, dtype=getattr(torch, dtype)).numpy()
            got = ours.rand(n, dtype=dtype)
            assert got.dtype == expect.dtype
            np.testing.assert_array_equal(got, expect)


def test_randn_float32_exactly_equal(torch):
    """float32: torch's AVX2 kernel replayed bit for bit (n >= 16); float64 Box-Muller rounded
    to float32 (n < 16)."""
    for seed in SEEDS:
        for n in SIZES:
            g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
            expect = torch.randn(n, generator=g).numpy()
            got = ours.randn(n)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, expect)
            # same stream position after the call: the next uniform agrees exactly
            np.testing.assert_array_equal(ours.rand(1), torch.rand(1, generator=g).numpy())


def test_randn_float64_within_4_ulp(torch):
    """float64 uses the C library's log, cos, sin in torch and NumPy's here."""
    for seed in SEEDS:
        for n in SIZES:
            g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
            expect = torch.randn(n, generator=g, dtype=torch.float64).numpy()
            got = ours.randn(n, dtype="float64")
            unit = np.spacing(np.maximum(np.abs(got), np.abs(expect)))
            assert got.dtype == np.float64 and np.all(np.abs(got - expect) <= 4 * unit)
            np.testing.assert_array_equal(ours.rand(1), torch.rand(1, generator=g).numpy())


def test_randn_mixed_call_sequences_keep_the_cache(torch):
    """A cached Box-Muller value survives calls of 16 or more values, which neither use it nor
    clear it; 2-D shapes behave as their flat size."""
    rng = np.random.default_rng(0)
    shapes = [(1,), (20,), (1,), (3,), (16,), (27, 27), (2,), (5,), (1,), (33,), (3, 5), (1,)]
    for seed in SEEDS:
        g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
        for i in rng.permutation(len(shapes)):
            expect = torch.randn(shapes[i], generator=g).numpy()
            got = ours.randn(*shapes[i])
            assert got.shape == expect.shape
            np.testing.assert_array_equal(got, expect)


def test_notebook_initial_W(torch):
    g = torch.Generator().manual_seed(2147483647)
    expect = torch.randn((27, 27), generator=g).numpy()
    np.testing.assert_array_equal(TorchGenerator(2147483647).randn(27, 27), expect)


def _random_p(rng, dtype):
    V = int(rng.integers(1, 60))
    p = rng.random(V) ** 3  # uneven weights, not normalized
    p[rng.random(V) < 0.2] = 0.0
    p[rng.integers(V)] += 0.1  # at least one positive
    return p.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multinomial_torch_era_exactly_equal(torch, dtype):
    rng = np.random.default_rng(1)
    for _ in range(200):
        seed = int(rng.integers(0, 2**32))
        num_samples = int(rng.choice([1, 1, 2, 3, 10]))
        g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
        for _ in range(4):
            p = _random_p(rng, dtype)
            expect = torch.multinomial(torch.from_numpy(p), num_samples, True, generator=g)
            np.testing.assert_array_equal(ours.multinomial(p, num_samples, era="torch"), expect)
        assert ours.rand(1) == torch.rand(1, generator=g).item()  # same stream position


def test_multinomial_rows_exactly_equal(torch):
    rng = np.random.default_rng(2)
    for num_samples in [1, 4]:
        for _ in range(20):
            P = rng.random((int(rng.integers(1, 6)), 27)).astype(np.float32)
            seed = int(rng.integers(0, 2**32))
            g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
            expect = torch.multinomial(torch.from_numpy(P), num_samples, True, generator=g)
            np.testing.assert_array_equal(ours.multinomial(P, num_samples), expect)


@pytest.mark.parametrize("era", ERAS)
def test_every_era_uses_the_cdf_for_several_samples(torch, era):
    """torch 2.13 draws num_samples > 1 with replacement by the inverse CDF, as 1.x did."""
    rng = np.random.default_rng(3)
    for _ in range(100):
        seed = int(rng.integers(0, 2**32))
        num_samples = int(rng.integers(2, 30))
        p = _random_p(rng, np.float32)
        g, ours = torch.Generator().manual_seed(seed), TorchGenerator(seed)
        expect = torch.multinomial(torch.from_numpy(p), num_samples, True, generator=g).numpy()
        np.testing.assert_array_equal(ours.multinomial(p, num_samples, era=era), expect)


def test_sampler_torch_equals_torch_213_on_the_trained_net(torch, names):
    """The notebook's sampling loop run by torch 2.13 on our trained W gives our "torch" names."""
    model = BigramModel.fit(names)
    W = torch.from_numpy(model.W)
    g = torch.Generator().manual_seed(2147483647)
    expect = []
    for _ in range(15):
        ix, out = 0, []
        while True:
            counts = W[ix : ix + 1].exp()
            p = counts / counts.sum(1, keepdims=True)
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(model.vocab.itos[ix])
        expect.append("".join(out))
    assert model.sample(15, sampler="torch") == expect
    assert expect[:3] == ["cexze", "momasurailezityha", "konimittain"]
