"""torch's CPU random generator, in NumPy: the notebook's exact numbers without torch.

Everything this package knows about torch lives in this module. ``TorchGenerator(seed)`` behaves
like ``torch.Generator().manual_seed(seed)`` on the CPU for the calls the makemore notebook makes:
``torch.randn``, ``torch.rand`` and ``torch.multinomial``. Torch changed how ``multinomial`` draws
one sample twice, so the draw is chosen by *era*; each era is also a plain function
``draw_*(p_row, generator) -> int`` to read beside torch's source:

============  =================  ==================================================
era           torch versions     one sample from ``p``
============  =================  ==================================================
"torch-cdf"   1.x                inverse CDF: first ``i`` with ``cumsum(p)[i] >= u``
"torch-mkl"   2.0-2.6            ``argmax(p / q)``, ``q ~ Exp(1)`` from MKL's MCG31m1
"torch"       2.7 and newer      ``argmax(p / q)``, ``q ~ Exp(1)`` from the Mersenne Twister
============  =================  ==================================================

torch 1.x is the published notebook's and the lecture's era: its names are "torch-cdf"'s.

In every era, more than one sample with replacement goes through the inverse CDF.
"""

from __future__ import annotations

import operator
import sys

import numpy as np
from numpy.typing import ArrayLike

from .errors import DataError, SettingsError

ERAS = ("torch", "torch-mkl", "torch-cdf")
DEFAULT_SEED = 67280421310721  # torch's default CPU seed (c10::default_rng_seed_val)

_MCG31_A = 1132489760  # MKL's VSL_BRNG_MCG31 multiplier
_MCG31_M = 2**31 - 1  # and modulus


def mcg31_uniforms(seed: int, n: int) -> np.ndarray:
    """Return the first ``n`` uniforms of MKL's MCG31m1 stream seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The 32-bit seed MKL's ``vslNewStream(VSL_BRNG_MCG31, seed)`` receives.
    n : int
        How many uniforms.

    Returns
    -------
    u : ndarray of float64, shape (n,)

    Notes
    -----
    The stream is :math:`x_0 = s \\bmod m` (1 if that is 0), :math:`x_{k+1} = a x_k \\bmod m` with
    :math:`a = 1132489760`, :math:`m = 2^{31} - 1`, and :math:`u_k = x_k / m`. Instead of a loop of
    ``n`` steps, the block ``x_0 .. x_{2k-1}`` is ``x_0 .. x_{k-1}`` followed by the same block
    times :math:`a^k \\bmod m` (products stay below :math:`2^{62}`, exact in uint64).
    """
    x = np.array([seed % _MCG31_M or 1], dtype=np.uint64)
    ak = _MCG31_A
    while len(x) < n:
        x = np.concatenate([x, x * np.uint64(ak) % np.uint64(_MCG31_M)])
        ak = ak * ak % _MCG31_M
    return x[:n].astype(np.float64) / _MCG31_M


class MersenneTwister:
    """The 32-bit Mersenne Twister MT19937 seeded by ``init_genrand``: torch's CPU engine.

    ``words(n)`` hands out the next ``n`` tempered 32-bit words of one stream, whatever the
    sizes of the requests.

    Parameters
    ----------
    seed : int
        Its low 32 bits seed the state.

    Notes
    -----
    NumPy's legacy ``RandomState(int)`` is the same generator with the same seeding
    (``init_genrand``), and ``randint(0, 2**32, dtype=uint32)`` returns its raw words one
    each, so it supplies the stream.
    """

    def __init__(self, seed: int) -> None:
        self._rs = np.random.RandomState(int(seed) & 0xFFFFFFFF)

    def words(self, n: int) -> np.ndarray:
        """Return the next ``n`` tempered 32-bit words of the stream, shape (n,), uint32."""
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"n = {n} words: must be >= 0.")
        return self._rs.randint(0, 2**32, size=n, dtype=np.uint32)   # (n,)


def fma32(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Fused multiply-add ``a * b + c`` of float32 values with one rounding, as an FMA unit.

    Notes
    -----
    The product of two float32 is exact in float64, and the float64 sum ``s`` has one
    rounding. Rounding ``s`` to float32 is then the one rounding of ``a * b + c`` unless
    ``s`` fell exactly on a float32 midpoint (its low 29 bits are 1 and 28 zeros), which
    ``a * b + c`` need not be, or float32 has fewer bits there (subnormal, 0): every
    float32 midpoint is a float64, so elsewhere ``s`` and ``a * b + c`` lie between the
    same midpoints. Those few are rounded *to odd* first (if the TwoSum error is non-zero
    and the last bit even, step one float64 ulp towards the error), and a round-to-odd
    result with 53 >= 24 + 2 bits rounds to float32 exactly as one rounding would.
    """
    p = np.asarray(a, np.float64) * np.asarray(b, np.float64)  # exact
    c = np.asarray(c, np.float64)
    s = p + c
    low = s.view(np.uint64) & np.uint64(0x1FFFFFFF)             # the bits float32 drops
    tie = (low == 0x10000000) | ~(np.abs(s) >= 2.0**-126)      # (and NaN: harmless)
    if tie.any():   # rare: round those to odd
        bb = s - p
        err = (p - (s - bb)) + (c - bb)  # TwoSum: s + err == p + c exactly
        even = (s.view(np.int64) & 1) == 0
        s = np.where(tie & (err != 0) & even, np.nextafter(s, np.copysign(np.inf, err)), s)
    return s.astype(np.float32)


_LOG_P = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]  # fmt: skip
_LOG_Q1, _LOG_Q2 = -2.12194440e-4, 0.693359375  # ln 2 = q2 + q1, split for exactness
_DP = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8]  # -pi/4, in three parts
_SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]
_COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]


def _log_avx2(x: np.ndarray) -> np.ndarray:
    """Natural log of positive normal float32 values, bit for bit as torch's AVX2 ``log256_ps``.

    Notes
    -----
    Cephes' ``logf``: write :math:`x = 2^e m`, :math:`m \\in [0.5, 1)`; if
    :math:`m < \\sqrt{1/2}` use :math:`2m` and :math:`e - 1`; with :math:`t = m - 1`,
    :math:`\\ln x = t - t^2/2 + t^3 P(t) + e \\ln 2`, :math:`P` of degree 8 by Horner's rule.
    Torch's binary is compiled with contraction on, so each ``a * b + c`` the compiler could fuse
    is an FMA (:func:`fma32`); the order of operations below is the kernel's.
    """
    f = np.float32
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(f) + f(1)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(f)  # mantissa in [0.5, 1)
    small = m < f(0.707106781186547524)
    e = e - small.astype(f)
    t = (m - f(1)) + np.where(small, m, f(0))  # 2m - 1 or m - 1
    z = t * t
    y = np.full_like(t, f(_LOG_P[0]))
    for c in _LOG_P[1:]:
        y = fma32(y, t, f(c))
    y = fma32(y * t, z, e * f(_LOG_Q1))  # t^3 P(t) + e q1
    y = fma32(-z, f(0.5), y)  # - t^2 / 2
    return fma32(e, f(_LOG_Q2), t + y)


def _sincos_avx2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sine and cosine of float32 values, bit for bit as torch's AVX2 ``sincos256_ps``.

    Notes
    -----
    Cephes' ``sinf``/``cosf``: :math:`j` = the integer part of :math:`|x| \\cdot 4/\\pi`
    rounded up to even, reduce :math:`r = |x| - j\\pi/4` with :math:`\\pi/4` split in three
    parts, then with :math:`z = r^2` evaluate :math:`\\sin r \\approx r + r z S(z)` and
    :math:`\\cos r \\approx 1 - z/2 + z^2 C(z)`. Bit 2 of :math:`j` swaps the two, bit 4 (and
    the sign of ``x`` for the sine) flips signs. FMAs where the compiler fused them, as in
    :func:`_log_avx2`.
    """
    f = np.float32
    ax = np.abs(x)
    j = (ax * f(1.27323954473516)).astype(np.int32)  # 4 / pi, truncated
    j = (j + 1) & ~1
    y = j.astype(f)
    r = ax
    for dp in _DP:
        r = fma32(y, f(dp), r)
    z = r * r
    cos_r = fma32(f(_COS_P[0]), z, f(_COS_P[1]))
    cos_r = fma32(cos_r, z, f(_COS_P[2])) * z
    cos_r = fma32(cos_r, z, -(z * f(0.5))) + f(1)
    sin_r = fma32(f(_SIN_P[0]), z, f(_SIN_P[1]))
    sin_r = fma32(sin_r, z, f(_SIN_P[2])) * z
    sin_r = fma32(sin_r, r, r)
    swap = (j & 2) != 0
    sin = np.where(swap, cos_r, sin_r)
    cos = np.where(swap, sin_r, cos_r)
    sin = np.where(np.signbit(x) ^ ((j & 4) != 0), -sin, sin)
    cos = np.where(((j - 2) & 4) == 0, -cos, cos)
    return sin, cos


def _box_muller_16(d: np.ndarray) -> np.ndarray:
    """Turn blocks of 16 uniforms into 16 normals, as torch's ``normal_fill_16``.

    Parameters
    ----------
    d : ndarray of float32 or float64, shape (k, 16)
        Uniforms in [0, 1).

    Returns
    -------
    z : ndarray, shape (k, 16), same dtype
        For j in 0..7: :math:`u_1 = 1 - d_j`, :math:`u_2 = d_{j+8}`,
        :math:`r = \\sqrt{-2 \\ln u_1}`, :math:`\\theta = 2\\pi u_2`,
        :math:`z_j = r\\cos\\theta`, :math:`z_{j+8} = r\\sin\\theta`.

    Notes
    -----
    float32 replays torch's AVX2 kernel (``normal_fill_16_AVX2``, the one x86-64 CPUs run): every
    step in float32, 2π itself rounded to float32, and torch's own vectorized ``log`` and
    ``sincos`` (:func:`_log_avx2`, :func:`_sincos_avx2`; torch's ``avx_mathfun.h``, after
    J. Pommier's sse_mathfun and Cephes), so the values are torch's bit for bit.
    float64 is torch's scalar kernel with the C library's ``log``, ``cos``, ``sin``, for which
    NumPy's may differ in the last place.
    """
    u1 = 1 - d[:, :8]  # [0, 1) -> (0, 1] for the log
    u2 = d[:, 8:]
    if d.dtype == np.float32:
        r = np.sqrt(np.float32(-2) * _log_avx2(u1))
        sin, cos = _sincos_avx2(np.float32(2 * np.pi) * u2)
    else:
        r = np.sqrt(-2 * np.log(u1))
        theta = 2 * np.pi * u2
        sin, cos = np.sin(theta), np.cos(theta)
    return np.concatenate([r * cos, r * sin], axis=1)


def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` like torch; return the shape as a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape):
        raise SettingsError(f"shape {shape!r} must be non-negative integers; pass e.g. (27, 27).")
    return tuple(int(s) for s in shape)


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise SettingsError(f"dtype {dt} is not supported; use float32 or float64.")
    return dt


def draw_torch(p_row: np.ndarray, generator: TorchGenerator) -> int:
    """One ``torch.multinomial(p, 1)`` draw as torch 2.7 and newer do it (era "torch"; checked
    on 2.13).

    Parameters
    ----------
    p_row : ndarray, shape (V,)
        Non-negative weights (need not sum to 1), float32 or float64.
    generator : TorchGenerator

    Returns
    -------
    int
        The sampled index.

    Notes
    -----
    The Gumbel-max trick with exponentials: :math:`\\arg\\max_i p_i / q_i` with
    :math:`q_i \\sim \\mathrm{Exp}(1)` picks ``i`` with probability :math:`p_i / \\sum p`.
    Torch's ``exponential_`` draws one float64 uniform :math:`u_i` per entry, in order, and
    returns :math:`q_i = -\\log(1 - u_i)` rounded to ``p``'s dtype; the ratio is computed in that
    dtype and ``argmax`` returns the first maximum.
    """
    q = (-np.log1p(-generator.uniform64(len(p_row)))).astype(p_row.dtype)
    return int(np.argmax(p_row / q))


def draw_torch_mkl(p_row: np.ndarray, generator: TorchGenerator) -> int:
    """One ``torch.multinomial(p, 1)`` draw as torch 2.0-2.6 did it, with MKL (era "torch-mkl").

    Parameters
    ----------
    p_row : ndarray, shape (V,)
        Non-negative weights, float32 or float64.
    generator : TorchGenerator

    Returns
    -------
    int
        The sampled index.

    Notes
    -----
    Same :math:`\\arg\\max_i p_i / q_i` as :func:`draw_torch`, but ``exponential_`` came from MKL:
    one word ``s = generator.random()`` (for float64, the low 32 bits of ``random64()``: MKL's
    ``vslNewStream`` takes a 32-bit seed) seeds an MCG31m1 stream :math:`u_0, u_1, \\dots` (see
    :func:`mcg31_uniforms`, starting with :math:`x_0` itself) and :math:`q_i = -\\ln u_i`
    (inverse CDF). Only that one or two words of torch's stream are consumed. MKL computes
    :math:`q` in ``p``'s dtype with its own ``ln``; here it is float64 rounded to ``p``'s dtype,
    so a near tie of two ratios could, rarely, break the other way (not checkable without a
    torch of that era; the 15 names torch 2.5.1 printed for the count model's cell replay).
    """
    s = (generator.random64() if p_row.dtype == np.float64 else generator.random()) & 0xFFFFFFFF
    q = (-np.log(mcg31_uniforms(s, len(p_row)))).astype(p_row.dtype)
    return int(np.argmax(p_row / q))


def _cdf_draw(p_row: np.ndarray, generator: TorchGenerator, num_samples: int) -> np.ndarray:
    """``num_samples`` inverse-CDF draws from one row, as torch's CPU kernel with replacement."""
    c = np.cumsum(p_row, dtype=p_row.dtype)  # sequential sum, in p's dtype, as torch
    c = c / c[-1] if c[-1] > 0 else c
    c[-1] = 1  # the last bucket always catches u
    u = generator.uniform64(num_samples)
    return np.searchsorted(c.astype(np.float64), u, side="left")  # smallest i with c[i] >= u


def draw_torch_cdf(p_row: np.ndarray, generator: TorchGenerator) -> int:
    """One ``torch.multinomial(p, 1)`` draw as torch 1.x did it (era "torch-cdf", the published
    notebook's and the lecture's): the inverse CDF.

    Parameters
    ----------
    p_row : ndarray, shape (V,)
        Non-negative weights, float32 or float64.
    generator : TorchGenerator

    Returns
    -------
    int
        The sampled index.

    Notes
    -----
    :math:`c = \\mathrm{cumsum}(p) / \\sum p` in ``p``'s dtype, last entry set to exactly 1; draw
    one float64 uniform :math:`u` and return the smallest ``i`` with :math:`c_i \\ge u` (torch's
    binary search). Every era still draws this way for ``num_samples > 1`` with replacement.
    """
    return int(_cdf_draw(p_row, generator, 1)[0])


_DRAWS = {"torch": draw_torch, "torch-mkl": draw_torch_mkl, "torch-cdf": draw_torch_cdf}


class BulkDraw:
    """Many one-sample ``torch.multinomial`` draws of one era, each from a row of one table.

    ``keys(generator, n)`` consumes the stream exactly as ``n`` calls of the era's ``draw_*``
    function do, whatever rows are drawn from (each draw takes a fixed number of words), and
    returns their random keys; ``draw(rows, keys)`` then turns key ``k`` into the id
    ``draw_*(P[rows[k]], ...)`` would have returned, for all ``k`` at once, with the same
    floating-point operations in the same dtype, so the ids are the same bit for bit.

    Parameters
    ----------
    era : {"torch", "torch-mkl", "torch-cdf"}
    P : ndarray, shape (S, V)
        Non-negative weights, one row per state, float32 or float64.

    Notes
    -----
    What one draw consumes, its key, and how row ``p`` and the key give the id:

    * ``"torch"``: V float64 uniforms (2V words), key :math:`q_i = -\\log(1 - u_i)` rounded to
      ``p``'s dtype; id :math:`\\arg\\max_i p_i / q_i` (first maximum).
    * ``"torch-mkl"``: one word (two for float64: the low one of ``random64()``) seeds MKL's
      MCG31m1 stream, :math:`x_i = x_0 a^i \\bmod m`; key :math:`q_i = -\\ln(x_i / m)` rounded to
      ``p``'s dtype; id :math:`\\arg\\max_i p_i / q_i`.
    * ``"torch-cdf"``: one float64 uniform (2 words), the key; id :math:`\\#\\{i : c_i < u\\}`, the
      smallest ``i`` with :math:`c_i \\ge u`, ``c`` the row's cumsum normalized in ``p``'s dtype.
    """

    def __init__(self, era: str, P: np.ndarray) -> None:
        if era not in _DRAWS:
            raise SettingsError(f"era {era!r} is unknown; use one of {', '.join(ERAS)}.")
        self.era, self.V, self.dtype = era, P.shape[1], P.dtype
        if era == "torch-cdf":  # each row's c exactly as _cdf_draw makes it
            c = np.cumsum(P, axis=1, dtype=P.dtype)  # (S, V) sequential, in p's dtype
            last = c[:, -1:]  # (S, 1)
            c = np.divide(c, last, out=c.copy(), where=last > 0)  # (S, V)
            c[:, -1] = 1
            self.table = c.astype(np.float64)  # (S, V)
        else:
            self.table = P
        # MKL's stream x_i = x_0 a^i mod m: the powers a^i mod m, exact in Python ints
        apow = [1]
        for _ in range(self.V - 1):
            apow.append(apow[-1] * _MCG31_A % _MCG31_M)
        self._apow = np.array(apow, dtype=np.uint64)  # (V,)

    def keys(self, generator: TorchGenerator, n: int) -> np.ndarray:
        """The random keys of the next ``n`` draws: (n, V) of P's dtype (torch), or (n,):
        float64 uniforms (cdf), or the uint64 seeds ``x_0`` of MKL's streams (torch-mkl),
        whose V keys :meth:`draw` makes, so a key takes 8 bytes, not 4V or 8V.

        Made a few MB at a time, so memory holds the keys and little more.
        """
        if self.era == "torch-cdf":
            return generator.uniform64(n)  # (n,)
        if self.era == "torch-mkl":
            words = generator.words(n * 2 if self.dtype == np.float64 else n)  # (n,) or (2n,)
            s = words[1::2] if self.dtype == np.float64 else words  # (n,) low word of random64()
            x0 = s.astype(np.uint64) % np.uint64(_MCG31_M)  # (n,)
            x0[x0 == 0] = 1
            return x0
        step = max(1, (1 << 18) // self.V)  # draws per piece
        out = np.empty((n, self.V), dtype=self.dtype)  # (n, V)
        for i in range(0, n, step):
            u = generator.uniform64(min(step, n - i) * self.V).reshape(-1, self.V)  # (k, V)
            out[i:i + step] = -np.log1p(-u)
        return out

    def draw(self, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The ids drawn from rows ``rows`` with ``keys`` (one key per row), shape (len(rows),)."""
        if self.era == "torch-cdf":
            return (self.table[rows] < keys[:, None]).sum(axis=1)  # (m,) smallest i with c_i >= u
        if self.era == "torch-mkl":  # each seed's stream x_i = x_0 a^i mod m, then its keys
            x = keys[:, None] * self._apow % np.uint64(_MCG31_M)  # (m, V) < 2^62, exact
            keys = (-np.log(x.astype(np.float64) / _MCG31_M)).astype(self.dtype)  # (m, V)
        return np.argmax(self.table[rows] / keys, axis=1)  # (m,) first maximum, as argmax


class TorchGenerator:
    """``torch.Generator().manual_seed(seed)`` on the CPU, in NumPy alone.

    Parameters
    ----------
    seed : int, optional
        Any integer torch accepts; it is taken modulo :math:`2^{64}` and its low 32 bits seed the
        engine, as in torch. Defaults to torch's default seed.

    Attributes
    ----------
    seed : int
        The seed modulo :math:`2^{64}` (what ``torch.Generator.initial_seed()`` reports).
    position : int
        How many 32-bit words of the Mersenne Twister stream have been used so far.

    Notes
    -----
    **Engine.** Torch's CPU generator is the 32-bit Mersenne Twister MT19937 seeded by the classic
    ``init_genrand``: :class:`MersenneTwister` (NumPy's legacy ``RandomState(seed)``, whose
    ``randint(0, 2**32, dtype=uint32)`` gives the raw words).
    ``random()`` is the next word; ``random64()`` is ``(first << 32) | second`` of the next two.

    **Uniforms.** float32: :math:`(w \\mathbin{\\&} (2^{24}-1)) \\cdot 2^{-24}` from one word;
    float64: :math:`(w_{64} \\mathbin{\\&} (2^{53}-1)) \\cdot 2^{-53}` from ``random64()``.

    **State.** Exactly torch's: the stream position and the cached second Box-Muller normal of
    ``randn`` calls of fewer than 16 values.
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> TorchGenerator:
        """Restart the stream from ``seed``, clear the normal cache, return ``self`` (as torch)."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise SettingsError(f"seed {seed!r} must be an integer, e.g. 2147483647.")
        self.seed = int(seed) % 2**64
        self._mt = MersenneTwister(self.seed)
        self.position = 0
        self._next_normal: float | None = None  # torch's next_double_normal_sample
        return self

    # -- raw words and uniforms -------------------------------------------------------------
    def words(self, n: int) -> np.ndarray:
        """Return the next ``n`` raw 32-bit words of the stream, shape (n,), uint32."""
        self.position += n
        return self._mt.words(n)

    def random(self) -> int:
        """Return the next 32-bit word, as ``CPUGeneratorImpl::random()``."""
        return int(self.words(1)[0])

    def random64(self) -> int:
        """Return ``(first << 32) | second`` of the next two words, as ``random64()``."""
        hi, lo = self.words(2)
        return (int(hi) << 32) | int(lo)

    def uniform32(self, n: int) -> np.ndarray:
        """Return ``n`` float32 uniforms in [0, 1), one word each (24 random bits, exact)."""
        return (self.words(n) & np.uint32(2**24 - 1)).astype(np.float32) * np.float32(2**-24)

    def uniform64(self, n: int) -> np.ndarray:
        """Return ``n`` float64 uniforms in [0, 1), two words each (53 random bits, exact)."""
        w64 = self.words(2 * n).view(np.uint64)  # (n,) two words each, in memory order
        if sys.byteorder == "little":  # the first word is the low half: swap, it is the high one
            w64 = (w64 << np.uint64(32)) | (w64 >> np.uint64(32))
        u = (w64 & np.uint64(2**53 - 1)).astype(np.float64)  # (n,) exact: < 2^53
        u *= 2.0**-53
        return u

    # -- torch.rand, torch.randn ------------------------------------------------------------
    def rand(self, *shape, dtype="float32") -> np.ndarray:
        """``torch.rand(*shape, generator=g)``: uniforms in [0, 1), float32 by default (exact)."""
        shape, dt = _shape(shape), _float_dtype(dtype)
        n = int(np.prod(shape))
        u = self.uniform32(n) if dt == np.float32 else self.uniform64(n)
        return u.reshape(shape)

    def randn(self, *shape, dtype="float32") -> np.ndarray:
        """``torch.randn(*shape, generator=g)``: standard normals, float32 by default.

        Parameters
        ----------
        *shape : int or tuple of int
            The output shape, e.g. ``randn(27, 27)``.
        dtype : {"float32", "float64"}

        Returns
        -------
        z : ndarray of dtype, shape `shape`

        Notes
        -----
        Torch has two algorithms, chosen by the number of values ``n``:

        * ``n >= 16``: fill all ``n`` places with uniforms of ``dtype`` in order, then apply
          Box-Muller to each full block of 16 (:func:`_box_muller_16`: places ``j`` and ``j + 8``
          become one pair). If 16 does not divide ``n``, draw 16 fresh uniforms into the last 16
          places and transform that block too. The normal cache is neither used nor cleared.
        * ``n < 16``: one value at a time, Box-Muller in float64 with a cache: draw two float64
          uniforms :math:`u_1, u_2`, :math:`r = \\sqrt{-2\\,\\mathrm{log1p}(-u_2)}`,
          :math:`\\theta = 2\\pi u_1`; return :math:`r\\cos\\theta` and keep :math:`r\\sin\\theta`
          as the next value, even across later calls.
        """
        shape, dt = _shape(shape), _float_dtype(dtype)
        n = int(np.prod(shape))
        if n >= 16:
            d = self.uniform32(n) if dt == np.float32 else self.uniform64(n)
            full = n // 16 * 16
            d[:full] = _box_muller_16(d[:full].reshape(-1, 16)).ravel()
            if n % 16:
                fresh = self.uniform32(16) if dt == np.float32 else self.uniform64(16)
                d[n - 16 :] = _box_muller_16(fresh.reshape(1, 16)).ravel()
            return d.reshape(shape)
        z = np.empty(n, dtype=np.float64)
        start = 0
        if n and self._next_normal is not None:
            z[0], self._next_normal, start = self._next_normal, None, 1
        m = n - start  # values still to make, two per (u1, u2) pair
        if m:
            u = self.uniform64(2 * ((m + 1) // 2)).reshape(-1, 2)  # (pairs, [u1, u2])
            r = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
            theta = 2.0 * np.pi * u[:, 0]
            pairs = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).ravel()
            z[start:] = pairs[:m]
            if m % 2:
                self._next_normal = float(pairs[-1])
        return z.astype(dt).reshape(shape)

    # -- torch.multinomial ------------------------------------------------------------------
    def multinomial(
        self, p, num_samples: int, replacement: bool = True, era: str = "torch"
    ) -> np.ndarray:
        """``torch.multinomial(p, num_samples, replacement=True, generator=g)`` of a given era.

        Parameters
        ----------
        p : array_like, shape (V,) or (R, V)
            Non-negative weights per row (need not sum to 1), float32 or float64.
        num_samples : int
            Samples per row, >= 1.
        replacement : bool
            Only ``True`` is supported (the notebook's setting).
        era : {"torch", "torch-mkl", "torch-cdf"}
            Which torch's algorithm to replay; see the module docstring.

        Returns
        -------
        ndarray of int64, shape (num_samples,) or (R, num_samples)

        Notes
        -----
        One sample per row uses the era's ``draw_*`` function, rows in order (for
        ``"torch-mkl"`` with several rows torch seeded one MCG31 stream for the whole tensor; only
        one row at a time is replayed here). More than one sample goes through the inverse CDF
        (:func:`draw_torch_cdf`), ``num_samples`` float64 uniforms per row, in every era.
        """
        if era not in _DRAWS:
            raise SettingsError(f"era {era!r} is unknown; use one of {', '.join(ERAS)}.")
        if not replacement:
            raise SettingsError("replacement=False is not supported; pass replacement=True.")
        if not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise SettingsError(f"num_samples {num_samples!r} must be an integer >= 1.")
        P = np.asarray(p)
        if P.dtype not in (np.float32, np.float64):
            P = P.astype(np.float64)
        if P.ndim not in (1, 2) or P.shape[-1] == 0:
            raise DataError(f"p has shape {P.shape}; pass one row (V,) or rows (R, V) of weights.")
        if not np.all(np.isfinite(P)) or np.any(P < 0) or np.any(P.sum(axis=-1) <= 0):
            raise DataError("p must be finite, non-negative, with a positive sum in each row.")
        if P.ndim == 2 and P.shape[0] > 1 and era == "torch-mkl" and num_samples == 1:
            raise SettingsError('era "torch-mkl" replays one row at a time; pass p of shape (V,).')
        rows = np.atleast_2d(P)
        if num_samples == 1:
            out = np.array([[_DRAWS[era](row, self)] for row in rows], dtype=np.int64)
        else:
            out = np.stack([_cdf_draw(row, self, num_samples) for row in rows]).astype(np.int64)
        return out if P.ndim == 2 else out[0]
