"""The trained model: weights, vocabulary, and what was done to get them."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any, BinaryIO, Callable

import numpy as np

from . import functional as F
from .data import (
    BigramCounts,
    PathLike,
    Vocabulary,
    bigram_counts,
    bigrams,
    ngrams,
    scorable_words,
    training_words,
)
from .engines import ENGINES, counts_loss_and_grad, loss_and_grad
from .errors import DataError, FileAccessError, ModelFileError, SettingsError
from .optim import gradient_descent, newton
from .sampling import BULK_SAMPLERS, DEFAULT_SAMPLER, adjust_probs, sample_ids
from .torchrng import TorchGenerator

NOTEBOOK_SEED = 2147483647
DTYPES = ("float32", "float64")
INITS = ("torch", "normal")
SOLVERS = ("gd", "newton")


def _check_settings(steps: int, lr: float, reg: float, dtype: str, solver: str,
                    engine: str = "counts", init: str = "torch") -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise SettingsError(f"steps must be a whole number >= 0, got {steps!r}.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise SettingsError(f"the learning rate must be a finite number > 0, got {lr!r}.")
    if not (isinstance(reg, (int, float)) and math.isfinite(reg) and reg >= 0):
        raise SettingsError(f"reg must be a finite number >= 0, got {reg!r}.")
    for name, value, allowed in (("dtype", dtype, DTYPES), ("engine", engine, ENGINES),
                                 ("init", init, INITS), ("solver", solver, SOLVERS)):
        if value not in allowed:
            raise SettingsError(f"unknown {name} {value!r}: choose one of {', '.join(allowed)}.")


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise SettingsError(f"the seed must be a whole number from 0 to 2**64 - 1, got {seed!r}.")


def init_weights(V: int, seed: int, dtype: str = "float32", init: str = "torch") -> np.ndarray:
    """Initial W of shape (V, V): standard normal entries drawn from ``seed``.

    ``init="torch"`` is the notebook's ``torch.randn((V, V), generator=g)`` with
    ``g = torch.Generator().manual_seed(seed)`` (float32, replayed by
    :class:`~minibigram.TorchGenerator`), then cast to ``dtype``; ``init="normal"`` is numpy's
    ``default_rng(seed).standard_normal``.
    """
    if init == "torch":
        return TorchGenerator(seed).randn(V, V).astype(dtype)
    return np.random.default_rng(seed).standard_normal((V, V)).astype(dtype)


#: Largest ``V**K * V`` sampling table (float64 entries) built for a K-context model.
MAX_TABLE = 2**25


class _ContextModel:
    """What every model kind shares: scoring and sampling from K previous characters.

    A subclass sets ``vocab``, ``K`` (1 for bigrams), ``history`` and ``settings``,
    and provides ``_row_logp(X) -> (n, V)`` log-probabilities for contexts ``X``
    (n, K) and ``_table() -> (V**K, V)`` probabilities, one row per context.
    """

    kind = ""
    vocab: Vocabulary
    K: int
    history: list[float]
    settings: dict[str, Any]

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.vocab)

    def _row_logp(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _table(self) -> np.ndarray:
        raise NotImplementedError

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(n,) log-probability of each target ``ys[k]`` after its context ``X[k]``."""
        return self._row_logp(X)[np.arange(len(ys)), ys]

    def _examples(self, words: Sequence[str], skip_unknown: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
        return ngrams(scorable_words(words, self.vocab, skip_unknown), self.vocab, self.K)

    def log_prob(self, word: str, *, skip_unknown: bool = False) -> float:
        """Natural log of the model's probability of ``word``, end token included.

        Parameters
        ----------
        word : str
        skip_unknown : bool, default False
            Remove the characters the model has never seen before scoring, so
            ``"zoë"`` with an unknown ``"ë"`` is scored as ``"zo"``; otherwise
            such a character raises :class:`DataError` naming it.
        """
        return float(self._target_logp(*self._examples([word], skip_unknown)).sum())

    def nll(self, words: Sequence[str], *, skip_unknown: bool = False) -> float:
        """Mean negative log-likelihood per predicted character (end tokens included).

        ``inf`` if a character has probability 0 (a count model with smoothing 0, or
        a network solved with reg 0). ``skip_unknown`` is as in :meth:`log_prob`.
        """
        words = list(words)
        if not words:
            raise DataError("there are no words to score: give at least one word.")
        return float(-self._target_logp(*self._examples(words, skip_unknown)).mean())

    def _codes_table_size(self) -> int:
        if self.V ** (self.K + 1) > MAX_TABLE:
            raise SettingsError(f"sampling needs a table of V**(K+1) = {self.V}**{self.K + 1} "
                                "entries, too many: use a shorter context.")
        return self.V ** self.K

    def sample(self, n: int = 15, seed: int = NOTEBOOK_SEED, sampler: str = DEFAULT_SAMPLER,
               temperature: float = 1.0, top_k: int | None = None) -> list[str]:
        """Generate ``n`` words (without the end token).

        Parameters
        ----------
        n : int
        seed : int
        sampler : str, default "torch-mkl"
            A name from ``minibigram.SAMPLERS``; ``"torch-mkl"``, ``"torch"`` and
            ``"torch-cdf"`` replay ``torch.multinomial`` of torch 2.0-2.6 (the notebook),
            2.7+ and 1.x. Each walks the (V**K, V) table of next-character
            probabilities, one row per context.
        temperature : float, default 1
        top_k : int, optional
            See :func:`minibigram.sampling.adjust_probs`; the defaults leave P as is.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise SettingsError(f"the number of samples must be a whole number >= 0, got {n!r}.")
        _check_seed(seed)
        P = adjust_probs(self._table(), temperature, top_k)
        if sampler in BULK_SAMPLERS:
            return self.vocab.decode_words(BULK_SAMPLERS[sampler](P, n, seed))
        return [self.vocab.decode(ids) for ids in sample_ids(P, n, seed, sampler)]


class BigramModel(_ContextModel):
    """A bigram network: ``P(next | prev) = softmax(W[prev])``.

    Scoring and sampling (``log_prob``, ``nll``, ``sample``) are shared with the
    other model kinds, for which this is the context of K = 1 character.

    Parameters
    ----------
    W : ndarray, shape (V, V)
        Row ``i`` holds the logits of the character after character ``i``.
    vocab : Vocabulary
    history : list of float, optional
        Training loss per step, before that step's update.
    settings : dict, optional
        How the model was trained (JSON-serializable).

    Examples
    --------
    >>> model = BigramModel.fit(steps=10)   # the embedded names
    >>> names = model.sample(5)
    """

    kind = "bigram"

    def __init__(self, W: np.ndarray, vocab: Vocabulary, *, history: Sequence[float] = (),
                 settings: dict[str, Any] | None = None) -> None:
        if W.shape != (len(vocab), len(vocab)):
            raise ModelFileError(f"W has shape {W.shape} but the vocabulary has {len(vocab)} "
                                 "characters: the two do not belong together.")
        self.W = W
        self.vocab = vocab
        self.K = 1
        self.history = list(history)
        self.settings = dict(settings or {})

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, steps: int = 100, lr: float = 50.0,
            reg: float = 0.01, seed: int = NOTEBOOK_SEED, dtype: str = "float32",
            engine: str = "counts", init: str = "torch",
            callback: Callable[[int, float], None] | None = None, solver: str = "gd",
            counts: BigramCounts | None = None, vocab: Vocabulary | None = None
            ) -> BigramModel:
        """Train by full-batch gradient descent, as the notebook does, or solve exactly.

        Parameters
        ----------
        words : sequence of str, optional
            Training words; ``None`` uses the embedded names.
        steps : int, default 100
        lr : float, default 50.0
        reg : float, default 0.01
            L2 strength, ``reg * mean(W**2)``.
        seed : int, default 2147483647
            Seeds the initial W.
        dtype : {"float32", "float64"}, default "float32"
        engine : {"counts", "index", "onehot"}, default "counts"
            How the loss and gradient are computed; all give the same numbers.
        init : {"torch", "normal"}, default "torch"
            How W starts: standard normal entries, ``"torch"`` the notebook's own (see
            :func:`init_weights`).
        callback : callable, optional
            ``callback(step, loss)`` after each step's loss.
        solver : {"gd", "newton"}, default "gd"
            ``"gd"``: the notebook's ``steps`` gradient steps of size ``lr``.
            ``"newton"``: the exact optimum by :func:`minibigram.optim.newton`, in
            float64 (then cast to ``dtype``), from W = 0, so ``seed``, ``init`` and
            ``lr`` play no part; ``steps`` caps the Newton iterations and it stops at
            ``max |dW| < 1e-10``. With ``reg = 0`` it returns the closed form, the
            row-normalized counts, with ``W = -inf`` (probability exactly 0) where a
            count is 0 (see :func:`minibigram.optim.closed_form`).
        counts : BigramCounts, optional
            Precomputed counts, e.g. from :func:`minibigram.count_bigrams`, instead of
            ``words`` (which must then be None). Needs the ``"counts"`` engine or the
            Newton solver.
        vocab : Vocabulary, optional
            Default: the characters of ``words`` (e.g. pass the vocabulary of all the
            data when ``words`` is only its training part, so dev and test can be scored).

        Returns
        -------
        BigramModel
            With ``history`` holding every step's loss, computed before that step's
            update (the numbers the notebook prints).
        """
        _check_settings(steps, lr, reg, dtype, solver, engine, init)
        _check_seed(seed)
        if counts is not None:
            if words is not None:
                raise SettingsError("give either words or counts to fit, not both.")
            if engine != "counts" and solver == "gd":
                raise SettingsError(f"the {engine} engine needs the words, not counts: use "
                                    "engine='counts' or solver='newton' with counts.")
            vocab, N = counts.vocab, counts.N
            num_examples = counts.num_examples
        else:
            words = training_words(words)
            vocab = Vocabulary.from_words(words) if vocab is None else vocab
            xs, ys = bigrams(words, vocab)
            num_examples = len(xs)
        V = len(vocab)
        if solver == "newton":
            if counts is None:
                N = bigram_counts(xs, ys, V)
            W, history = newton(N, reg, max_iter=steps, callback=callback)
            settings = {"solver": solver, "steps": len(history) - 1, "reg": reg,
                        "dtype": dtype, "num_examples": int(num_examples)}
            return cls(W.astype(dtype), vocab, history=history, settings=settings)
        if engine == "counts":
            if counts is None:
                N = bigram_counts(xs, ys, V)   # counted once; each step is then O(V**2)

            def loss_fn(W: np.ndarray) -> tuple[float, np.ndarray]:
                return counts_loss_and_grad(W, N, reg)
        else:
            def loss_fn(W: np.ndarray) -> tuple[float, np.ndarray]:
                return loss_and_grad(W, xs, ys, reg, engine=engine)

        W0 = init_weights(V, seed, dtype, init)
        W, history = gradient_descent(loss_fn, W0, steps, lr, callback)
        settings = {"steps": steps, "lr": lr, "reg": reg, "seed": seed, "dtype": dtype,
                    "engine": engine, "init": init, "num_examples": int(num_examples)}
        return cls(W, vocab, history=history, settings=settings)

    def probs(self) -> np.ndarray:
        """The (V, V) table ``P[i, j] = P(next = j | prev = i) = softmax(W)[i, j]``."""
        return F.softmax(self.W)

    def log_probs(self) -> np.ndarray:
        """``log P`` by log-sum-exp, in float64 (finite wherever W is)."""
        return F.log_softmax(self.W.astype(np.float64))

    def _table(self) -> np.ndarray:
        return self.probs()

    def _row_logp(self, X: np.ndarray) -> np.ndarray:
        return self.log_probs()[X[:, 0]]

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return self.log_probs()[X[:, 0], ys]   # one gather, no (n, V) rows

    def save(self, path: PathLike) -> None:
        """Write the model to a ``.npz`` file (no pickled objects), atomically."""
        save_npz(path, kind=self.kind, arrays={"W": self.W}, vocab=self.vocab,
                 history=self.history, settings=self.settings)

    @classmethod
    def load(cls, path: PathLike) -> BigramModel:
        """Read a model written by :meth:`save`. Never unpickles anything."""
        arrays, vocab, history, settings = load_npz(path, kind=cls.kind, names=("W",))
        W = arrays["W"]
        if W.dtype.name not in DTYPES:
            raise ModelFileError(f"{os.fspath(path)} holds W of dtype {W.dtype}, not float32 or "
                                 "float64: it was not written by minibigram.")
        if W.shape != (len(vocab), len(vocab)):
            raise ModelFileError(f"{os.fspath(path)} holds W of shape {W.shape} but a vocabulary "
                                 f"of {len(vocab)} characters, which do not fit together: "
                                 "retrain the model or use another copy.")
        return cls(W, vocab, history=history, settings=settings)


FORMAT = "minibigram-1"


def save_npz(path: PathLike, *, kind: str, arrays: dict[str, np.ndarray], vocab: Vocabulary,
             history: Sequence[float], settings: dict[str, Any]) -> None:
    """Write a model file atomically (see :func:`atomic_write`): no pickled objects."""
    meta = json.dumps({"format": FORMAT, "kind": kind, "settings": settings})
    contents: dict[str, Any] = {"meta": np.array(meta), "itos": np.array(vocab.itos),
                                "history": np.asarray(history, dtype=np.float64), **arrays}
    atomic_write(path, lambda f: np.savez(f, **contents))


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` on a temporary file in the same folder, then rename it over ``path``.

    An interrupted or failed save (Ctrl-C, a full disk, an error in ``write``)
    therefore never leaves a half-written file and never clobbers the previous one:
    the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    FileAccessError
        If the folder is missing or not writable, ``path`` is a folder, or writing fails.
    """
    path = os.fspath(path)
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".minibigram-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        # Created like open(path, "wb") would create path: mode 0o666 less the umask
        # (tempfile.mkstemp would give 0o600, and the rename would keep it).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise FileAccessError(f"cannot write {path} ({e.strerror}): choose a folder you are "
                              "allowed to write to.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        if os.path.exists(path):   # replacing a file keeps its permissions, as open() would
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException as e:
        os.unlink(tmp)
        if isinstance(e, OSError):
            raise FileAccessError(f"cannot write {path} ({e.strerror}): check the free space "
                                  "and that the path is a file you may replace.") from None
        raise


def check_writable(path: PathLike) -> None:
    """Refuse, before any work, a model path whose folder is missing or which is a folder.

    Raises
    ------
    FileAccessError
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise FileAccessError(f"{path} is a folder: give a file name such as {path}/model.npz.")
    if not os.path.isdir(folder):
        raise FileAccessError(f"cannot write {path}: the folder {folder} does not exist; "
                              "create it first or choose another path.")
    if not os.access(folder, os.W_OK):
        raise FileAccessError(f"cannot write {path}: you are not allowed to write to the folder "
                              f"{folder}; choose another path.")


def load_npz(path: PathLike, *, kind: str, names: Sequence[str]
             ) -> tuple[dict[str, np.ndarray], Vocabulary, list[float], dict[str, Any]]:
    """Read and check a model file written by :func:`save_npz`.

    The file is never unpickled: its first bytes must be a zip archive's, and numpy
    reads every array with ``allow_pickle=False``.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read.
    ModelFileError
        If the file is not a minibigram model file, is truncated or corrupt, holds
        pickled objects, or its arrays do not fit together.
    """
    import zipfile  # here, not at the top: only loading needs it

    path = os.fspath(path)
    if os.path.isdir(path):
        raise FileAccessError(f"{path} is a folder, not a model file: give the .npz file "
                              "written by 'minibigram train --out'.")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except FileNotFoundError:
        raise FileAccessError(f"{path} does not exist: check the path, or train a model with "
                              "'minibigram train --out MODEL.npz'.") from None
    except OSError as e:
        raise FileAccessError(f"{path} cannot be read ({e.strerror}): check that it is a file "
                              "you are allowed to read.") from None
    if magic.startswith(b"\x80"):   # every pickle of protocol 2 or later starts so
        raise ModelFileError(f"{path} holds a pickled Python object, which minibigram refuses "
                             "to load because unpickling can run code: use a file written by "
                             "minibigram.")
    if not magic.startswith(b"PK"):  # a .npz file is a zip archive
        raise ModelFileError(f"{path} is not a minibigram model file (not an .npz archive): "
                             "give the file written by 'minibigram train --out'.")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" not in str(e):
            raise ModelFileError(f"{path} is truncated or corrupt: retrain the model or use "
                                 "another copy.") from None
        raise ModelFileError(f"{path} holds pickled Python objects, which minibigram refuses "
                             "to load because unpickling can run code: use a file written by "
                             "minibigram.") from None
    except (OSError, zipfile.BadZipFile, EOFError):
        raise ModelFileError(f"{path} is truncated or corrupt: retrain the model or use "
                             "another copy.") from None
    if "meta" not in data:
        raise ModelFileError(f"{path} lacks the array meta: it is not a minibigram {kind} "
                             "model file.")
    try:
        meta = json.loads(str(data["meta"]))
        if (meta["format"] != FORMAT or not isinstance(meta["settings"], dict)
                or not isinstance(meta["kind"], str)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{path} has an unreadable header: it is not a minibigram model "
                             "file of this version.") from None
    if meta["kind"] != kind:   # checked first: another kind has other arrays
        raise ModelFileError(f"{path} holds a {meta['kind']} model, not a {kind} model: "
                             f"load it with the matching model kind (minibigram.load_model "
                             "detects it).")
    missing = [k for k in ("itos", "history", *names) if k not in data]
    if missing:
        what = "the array" if len(missing) == 1 else "the arrays"
        raise ModelFileError(f"{path} lacks {what} {', '.join(missing)}: it is not a "
                             f"minibigram {kind} model file.")
    itos = data["itos"]
    if (itos.ndim != 1 or itos.dtype.kind != "U" or len(itos) == 0 or itos[0] != "."
            or (np.char.str_len(itos) != 1).any()):
        raise ModelFileError(f"{path} has an invalid vocabulary (it must list single "
                             "characters, '.' first): it is not a minibigram model file.")
    vocab = Vocabulary([str(c) for c in itos[1:]])
    if vocab.itos != [str(c) for c in itos]:
        raise ModelFileError(f"{path} has an invalid vocabulary (not sorted or with repeats): "
                             "it is not a minibigram model file.")
    history = data["history"]
    if history.ndim != 1 or history.dtype.kind != "f":
        raise ModelFileError(f"{path} has a training history of shape {history.shape} and "
                             f"dtype {history.dtype}, not a list of losses: it is not a "
                             "minibigram model file.")
    arrays = {k: data[k] for k in names}
    for k, a in arrays.items():
        if a.dtype.kind not in "fiu":
            raise ModelFileError(f"{path}: {k} holds {a.dtype} values, not numbers: it is not "
                                 "a minibigram model file.")
        # -inf is allowed: it is the logit of a probability of exactly 0 (the closed-form
        # optimum with reg 0), as long as every row keeps a finite entry.
        if a.dtype.kind == "f" and (np.isnan(a).any() or np.isposinf(a).any()
                                    or (a.ndim > 0 and not np.isfinite(a).any(axis=-1).all())):
            raise ModelFileError(f"{path} holds NaN or infinite values in {k}: retrain the "
                                 "model or use another copy.")
    return arrays, vocab, [float(x) for x in history], meta["settings"]
