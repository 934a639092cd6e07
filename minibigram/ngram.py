"""Beyond bigrams: the count model, and networks that see K previous characters.

Two model kinds share one surface (``fit``, ``sample``, ``log_prob``, ``nll``,
``save``/``load``):

- :class:`CountModel`, the smoothed n-gram table of the notebook's first half,
  ``P(t | context) = (N[context, t] + k) / sum_j (N[context, j] + k)``;
- :class:`NGramModel`, the network, with one of two encodings of the context
  ``(c_1, ..., c_K)`` (oldest first; a word's first contexts are padded with ``"."``):

  - ``"joint"``: one row of ``W`` (C, V) per distinct context seen in training, a
    one-hot over contexts. The network counterpart of the count table; its rows
    decouple, so it is solved exactly by Newton's method.
  - ``"concat"``: K one-hots concatenated, ``logits = W[0, c_1] + ... + W[K-1, c_K]``
    with ``W`` of shape (K, V, V), solved by Newton's method with its full Hessian
    (:func:`concat_newton`); it has no row per context, so no context is unseen.

Both train on sufficient statistics, the (distinct context, target) counts of
:func:`minibigram.data.context_counts`, never on the raw examples.

**Unseen contexts** (at scoring or sampling time): the joint encoding and the count
model have no row for a context that never occurred in training. They back off to
the **uniform** distribution, ``1/V`` for every character. That is exactly the row
add-k smoothing gives an unseen context (``k / (V k)``), and the row an
L2-regularized network learns for a context it never sees (its data gradient is 0,
so the penalty drives the row to 0, and ``softmax(0) = 1/V``). For the count model
with ``k = 0`` (``0/0``) it is a convention. The concat encoding needs no back-off:
every position's character has its own row, so unseen combinations just work.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any, Callable, Union

import numpy as np

from . import functional as F
from .data import (
    PathLike,
    Vocabulary,
    context_codes,
    context_counts,
    ngrams,
    training_words,
)
from .engines import concat_loss_and_grad, counts_loss_and_grad
from .errors import ModelFileError, SettingsError
from .model import (
    DTYPES,
    NOTEBOOK_SEED,
    BigramModel,
    _check_seed,
    _check_settings,
    _ContextModel,
    load_npz,
    save_npz,
)
from .optim import gradient_descent, newton

ENCODINGS = ("joint", "concat")
MODEL_KINDS = ("network", "counts")
#: Largest dense Hessian (bytes) that :func:`concat_newton` builds; it also needs a copy.
MAX_HESSIAN_BYTES = 2**30


def _check_context(context: int, encoding: str = "joint") -> None:
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 1:
        raise SettingsError(f"the context length must be a whole number >= 1, got {context!r}.")
    if encoding not in ENCODINGS:
        raise SettingsError(f"unknown encoding {encoding!r}: choose one of "
                            f"{', '.join(ENCODINGS)}.")


def _check_nonneg(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0):
        raise SettingsError(f"{name} must be a finite number >= 0, got {value!r}.")


def _lookup(codes: np.ndarray, X: np.ndarray, V: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each context of ``X`` (n, K) sits among the sorted ``codes``, and if it is there.

    Returns ``pos`` (n,), the row of a seen context, and ``seen`` (n,) bool; a context
    never seen in training has no row (``pos`` is then meaningless) and backs off to
    the uniform distribution (see the module docstring).
    """
    c = context_codes(X, V)
    pos = np.minimum(np.searchsorted(codes, c), len(codes) - 1)
    return pos, codes[pos] == c


def _valid_contexts(contexts: np.ndarray, V: int) -> np.ndarray:
    """A model file's contexts as int64, if they are what ``context_counts`` writes.

    Non-empty (C, K) character ids in ``[0, V)`` whose codes strictly increase (sorted,
    no repeats), which the scoring lookup by ``np.searchsorted`` relies on.

    Raises
    ------
    ModelFileError
    """
    if (contexts.ndim != 2 or contexts.size == 0 or contexts.dtype.kind not in "iu"
            or contexts.min() < 0 or contexts.max() >= V
            or not (np.diff(context_codes(contexts.astype(np.int64), V)) > 0).all()):
        raise ModelFileError("its contexts are not sorted, distinct character ids")
    return contexts.astype(np.int64)


def concat_newton(contexts: np.ndarray, N: np.ndarray, reg: float, tol: float = 1e-10,
                  max_iter: int = 50, callback: Callable[[int, float], None] | None = None
                  ) -> tuple[np.ndarray, list[float]]:
    """Solve the concat network exactly: damped Newton with the full (K V V)^2 Hessian.

    Parameters
    ----------
    contexts : ndarray of int, shape (C, K)
        The distinct contexts (oldest character first).
    N : ndarray, shape (C, V)
        Their target counts (the sufficient statistics).
    reg : float > 0
        ``reg * mean(W**2)``; with reg 0 the Hessian is singular (adding a vector to
        every row of ``W[p]`` and subtracting it from every row of ``W[q]`` changes no
        logit) and there may be no finite optimum.
    tol : float
        Stop once ``max |dW| < tol``.
    max_iter : int
    callback : callable, optional
        ``callback(k, loss)`` for the loss of every iterate, ``k`` from 1.

    Returns
    -------
    W : ndarray, shape (K, V, V), float64
    history : list of float
        The loss of every iterate, the last one included.

    Notes
    -----
    With ``z_c = sum_p W[p, c_p]`` the logits of context ``c``, ``a_c = r_c / n`` and
    ``p_c = softmax(z_c)``, the data loss has ``d2L/dz_c2 = a_c (diag(p_c) - p_c p_c^T)``
    and ``dz_c / dW[p, x, :] = [c_p = x] I``. So the Hessian block of rows ``W[p, x]``
    and ``W[q, y]`` is the sum of ``a_c (diag(p_c) - p_c p_c^T)`` over the contexts with
    ``c_p = x`` and ``c_q = y``, plus ``(2 reg / W.size) I`` on the diagonal. Each block
    pair (p, q) is one sort-and-``np.add.reduceat`` over the C contexts; the step solves
    the (K V^2)-square system, then halves until the Armijo condition holds.
    """
    if not reg > 0:
        raise SettingsError("the concat encoding's exact solver needs reg > 0 (at reg 0 its "
                            "optimum can lie at infinity): use a reg above 0 (or, from Python, "
                            "solver='gd').")
    C, K = contexts.shape
    V = N.shape[1]
    size = K * V * V
    if size * size * 8 > MAX_HESSIAN_BYTES:
        raise SettingsError(f"the concat encoding's exact solver needs a {size}x{size} Hessian "
                            f"({size * size * 8 / 2**30:.1f} GiB) for K={K} and V={V}, too large: "
                            "use a shorter context or the joint encoding (or, from Python, "
                            "solver='gd').")
    Nf = np.asarray(N, dtype=np.float64) / N.sum()               # (C, V)
    a = Nf.sum(axis=1)                                           # (C,) share of each context
    lam = 2 * reg / (K * V * V)
    Xc, tc, wc = _pairs_of_counts(contexts, N)                   # for the loss and gradient

    def loss_grad(W: np.ndarray) -> tuple[float, np.ndarray]:
        return concat_loss_and_grad(W, Xc, tc, reg, wc)

    W = np.zeros((K, V, V))
    loss, g = loss_grad(W)
    history: list[float] = []
    for _ in range(max_iter + 1):
        history.append(loss)
        if callback is not None:
            callback(len(history), loss)
        if np.abs(g).max() < tol or len(history) > max_iter:
            break
        P = F.softmax(W[np.arange(K), contexts].sum(axis=1))     # (C, V)
        S = a[:, None, None] * (P[:, :, None] * np.eye(V) - P[:, :, None] * P[:, None, :])
        H = np.zeros((K, V, V, K, V, V))                         # [p, x, i, q, y, j]
        for p in range(K):
            for q in range(p, K):
                key = contexts[:, p] * V + contexts[:, q]        # (C,) which block gets S_c
                order = np.argsort(key, kind="stable")
                uniq, start = np.unique(key[order], return_index=True)
                blocks = np.add.reduceat(S[order], start, axis=0)   # (U, V, V), symmetric
                H[p, uniq // V, :, q, uniq % V, :] = blocks
                H[q, uniq % V, :, p, uniq // V, :] = blocks      # H is symmetric
        Hm = H.reshape(K * V * V, K * V * V)                     # rows and columns: W.ravel()
        Hm[np.diag_indices_from(Hm)] += lam
        d = np.linalg.solve(Hm, g.ravel()).reshape(K, V, V)     # Newton step
        decrease = float((g * d).sum())
        t = 1.0
        for _ in range(60):
            new_loss, new_g = loss_grad(W - t * d)
            if new_loss <= loss - 0.25 * t * decrease + 8 * np.finfo(float).eps * abs(loss):
                break
            t /= 2
        W, loss, g = W - t * d, new_loss, new_g
    return W, history


def _pairs_of_counts(contexts: np.ndarray, N: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nonzero entries of N as weighted examples: (contexts (m, K), targets, counts)."""
    ci, tj = np.nonzero(N)
    return contexts[ci], tj, N[ci, tj].astype(np.float64)


def _all_contexts(V: int, K: int) -> np.ndarray:
    """Every context of K characters, shape (V**K, K), row ``code`` = its base-V digits."""
    codes = np.arange(V**K)
    return (codes[:, None] // V ** np.arange(K - 1, -1, -1)) % V


class CountModel(_ContextModel):
    """The smoothed count model: ``P(t | c) = (N[c, t] + k) / sum_j (N[c, j] + k)``.

    Parameters
    ----------
    contexts : ndarray of int, shape (C, K)
        The distinct contexts seen in training, sorted (see ``context_counts``).
    N : ndarray, shape (C, V)
        Their target counts.
    vocab : Vocabulary
    smoothing : float
        ``k`` of add-k smoothing; ``k = 1`` is the notebook's ``P = (N + 1) / ...``.
    settings : dict, optional

    Notes
    -----
    A context never seen in training gets the uniform row ``1/V`` (see the module
    docstring). With ``k = 0`` a seen context gives probability 0 to a character it
    was never followed by, and a word containing that pair has NLL ``inf``.
    """

    kind = "counts"

    def __init__(self, contexts: np.ndarray, N: np.ndarray, vocab: Vocabulary, *,
                 smoothing: float = 1.0, settings: dict[str, Any] | None = None) -> None:
        _check_nonneg("smoothing", smoothing)
        if (contexts.ndim != 2 or N.shape != (len(contexts), len(vocab))
                or contexts.shape[1] < 1):
            raise ModelFileError(f"counts of shape {N.shape} and contexts of shape "
                                 f"{contexts.shape} do not fit a vocabulary of {len(vocab)}.")
        self.contexts, self.N, self.vocab = contexts, N, vocab
        self.K = contexts.shape[1]
        self.smoothing = float(smoothing)
        self.history: list[float] = []
        self.settings = dict(settings or {}, smoothing=self.smoothing, context=self.K)
        self._codes = context_codes(contexts, self.V)

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, smoothing: float = 1.0,
            context: int = 1, vocab: Vocabulary | None = None) -> CountModel:
        """Count every (context, next character) pair of ``words``.

        Parameters
        ----------
        words : sequence of str, optional
            ``None`` uses the embedded names.
        smoothing : float >= 0, default 1
        context : int >= 1, default 1 (bigrams)
        vocab : Vocabulary, optional
            Default: the characters of ``words``.
        """
        _check_nonneg("smoothing", smoothing)
        _check_context(context)
        words = training_words(words)
        vocab = Vocabulary.from_words(words) if vocab is None else vocab
        X, ys = ngrams(words, vocab, context)
        contexts, N = context_counts(X, ys, len(vocab))
        return cls(contexts, N, vocab, smoothing=smoothing,
                   settings={"num_examples": int(len(ys))})

    def probs(self) -> np.ndarray:
        """The (C, V) table ``(N + k) / rowsum(N + k)``, one row per seen context.

        For ``K = 1`` every character is a seen context, so this is the (V, V) table.
        """
        Nk = self.N + self.smoothing
        return Nk / Nk.sum(axis=1, keepdims=True)

    def _log_table(self) -> np.ndarray:
        """(C, V) ``log P`` of the seen contexts; ``-inf`` where smoothing 0 meets count 0."""
        Nk = self.N + self.smoothing
        with np.errstate(divide="ignore"):
            return np.log(Nk) - np.log(Nk.sum(axis=1, keepdims=True))

    def _row_logp(self, X: np.ndarray) -> np.ndarray:
        pos, seen = _lookup(self._codes, X, self.V)
        return np.where(seen[:, None], self._log_table()[pos], -np.log(self.V))

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        pos, seen = _lookup(self._codes, X, self.V)   # one gather, no (n, V) rows
        return np.where(seen, self._log_table()[pos, ys], -np.log(self.V))

    def _table(self) -> np.ndarray:
        P = np.full((self._codes_table_size(), self.V), 1.0 / self.V)
        P[self._codes] = self.probs()
        return P

    def save(self, path: PathLike) -> None:
        """Write the counts to a ``.npz`` file (no pickled objects), atomically."""
        save_npz(path, kind=self.kind, arrays={"N": self.N, "contexts": self.contexts},
                 vocab=self.vocab, history=self.history, settings=self.settings)

    @classmethod
    def load(cls, path: PathLike) -> CountModel:
        """Read a model written by :meth:`save`."""
        arrays, vocab, _, settings = load_npz(path, kind=cls.kind, names=("N", "contexts"))
        N, contexts = arrays["N"], arrays["contexts"]
        try:
            if N.dtype.kind not in "iuf" or not np.isfinite(N).all() or (N < 0).any():
                raise ModelFileError("its counts are not finite non-negative numbers")
            return cls(_valid_contexts(contexts, len(vocab)), N, vocab,
                       smoothing=settings.get("smoothing", 1.0), settings=settings)
        except (ModelFileError, SettingsError) as e:
            raise ModelFileError(f"{os.fspath(path)}: {e}; retrain the model.") from None


class NGramModel(_ContextModel):
    """The network over K previous characters, ``P(t | c) = softmax(logits(c))_t``.

    Parameters
    ----------
    W : ndarray
        ``"joint"``: shape (C, V), row i for ``contexts[i]``.
        ``"concat"``: shape (K, V, V), ``logits = W[0, c_1] + ... + W[K-1, c_K]``.
    vocab : Vocabulary
    context : int
    encoding : {"joint", "concat"}
    contexts : ndarray of int, shape (C, K)
        The distinct training contexts (joint only).
    history, settings : optional
    """

    kind = "ngram"

    def __init__(self, W: np.ndarray, vocab: Vocabulary, *, context: int, encoding: str,
                 contexts: np.ndarray | None = None, history: Sequence[float] = (),
                 settings: dict[str, Any] | None = None) -> None:
        _check_context(context, encoding)
        V = len(vocab)
        if encoding == "joint":
            ok = (contexts is not None and contexts.ndim == 2 and contexts.shape[1] == context
                  and W.shape == (len(contexts), V))
        else:
            ok = W.shape == (context, V, V)
        if not ok:
            raise ModelFileError(f"W of shape {W.shape} does not fit a {encoding} model with "
                                 f"context {context} over {V} characters.")
        self.W, self.vocab, self.K, self.encoding = W, vocab, int(context), encoding
        self.contexts = contexts
        self.history = list(history)
        self.settings = dict(settings or {}, context=self.K, encoding=encoding)
        if encoding == "joint":
            assert contexts is not None
            self._codes = context_codes(contexts, V)

    @classmethod
    def fit(cls, words: Sequence[str] | None = None, *, context: int = 2,
            encoding: str = "joint", reg: float = 0.01, solver: str | None = None,
            steps: int = 100, lr: float = 50.0, seed: int = NOTEBOOK_SEED,
            dtype: str = "float64", vocab: Vocabulary | None = None,
            callback: Callable[[int, float], None] | None = None) -> NGramModel:
        """Train on the (distinct context, target) counts of ``words``.

        Parameters
        ----------
        words : sequence of str, optional
            ``None`` uses the embedded names.
        context : int >= 1, default 2
        encoding : {"joint", "concat"}, default "joint"
        reg : float >= 0, default 0.01
            ``reg * mean(W**2)``.
        solver : {"newton", "gd"}, default "newton"
            ``"newton"`` solves exactly, from W = 0, in float64: joint by
            :func:`minibigram.optim.newton` (its rows decouple; with reg 0 the closed
            form), concat by :func:`concat_newton` (needs reg > 0). ``"gd"`` runs
            ``steps`` of full-batch gradient descent at ``lr`` from a standard normal W
            drawn from ``seed``, as the notebook.
        steps : int, default 100
            Gradient steps, or at most this many Newton iterations.
        lr, seed :
            Gradient descent only.
        dtype : {"float64", "float32"}, default "float64"
            Of the returned W (Newton solves in float64, then casts).
        vocab : Vocabulary, optional
        callback : callable, optional
            ``callback(step, loss)`` per gradient step or Newton iterate.
        """
        _check_context(context, encoding)
        solver = solver or "newton"
        _check_settings(steps, lr, reg, dtype, solver)
        _check_seed(seed)
        words = training_words(words)
        vocab = Vocabulary.from_words(words) if vocab is None else vocab
        V = len(vocab)
        X, ys = ngrams(words, vocab, context)
        contexts, N = context_counts(X, ys, V)
        rng = np.random.default_rng(seed)
        if encoding == "joint" and solver == "newton":
            # rows decouple: exact, as for bigrams
            W, history = newton(N, reg, max_iter=steps, callback=callback)
        elif encoding == "joint":
            def loss_fn(W: np.ndarray) -> tuple[float, np.ndarray]:
                return counts_loss_and_grad(W, N, reg)
            W0 = rng.standard_normal(N.shape).astype(dtype)
            W, history = gradient_descent(loss_fn, W0, steps, lr, callback)
        elif solver == "newton":
            W, history = concat_newton(contexts, N, reg, max_iter=steps, callback=callback)
        else:
            Xc, tc, wc = _pairs_of_counts(contexts, N)   # sufficient statistics

            def loss_fn(W: np.ndarray) -> tuple[float, np.ndarray]:
                return concat_loss_and_grad(W, Xc, tc, reg, wc)
            W0 = rng.standard_normal((context, V, V)).astype(dtype)
            W, history = gradient_descent(loss_fn, W0, steps, lr, callback)
        settings = {"reg": reg, "solver": solver, "dtype": dtype,
                    "num_examples": int(len(ys)), "num_contexts": int(len(contexts))}
        if solver == "gd":
            settings.update(steps=steps, lr=lr, seed=seed)
        return cls(W.astype(dtype), vocab, context=context, encoding=encoding,
                   contexts=contexts if encoding == "joint" else None, history=history,
                   settings=settings)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """(n, V) float64 logits of contexts X (n, K); unseen joint contexts get 0 (uniform)."""
        W = self.W.astype(np.float64)
        if self.encoding == "concat":
            return W[np.arange(self.K), X].sum(axis=1)
        pos, seen = _lookup(self._codes, X, self.V)
        return np.where(seen[:, None], W[pos], 0.0)

    def _row_logp(self, X: np.ndarray) -> np.ndarray:
        return F.log_softmax(self._logits(X))

    def _target_logp(self, X: np.ndarray, ys: np.ndarray) -> np.ndarray:
        if self.encoding == "concat":   # logits differ per context combination
            return super()._target_logp(X, ys)
        pos, seen = _lookup(self._codes, X, self.V)   # one gather, no (n, V) rows
        L = F.log_softmax(self.W.astype(np.float64))   # (C, V)
        return np.where(seen, L[pos, ys], -np.log(self.V))

    def _table(self) -> np.ndarray:
        S = self._codes_table_size()
        return F.softmax(self._logits(_all_contexts(self.V, self.K)).reshape(S, self.V))

    def save(self, path: PathLike) -> None:
        """Write the model to a ``.npz`` file (no pickled objects), atomically."""
        arrays = {"W": self.W}
        if self.contexts is not None:
            arrays["contexts"] = self.contexts
        save_npz(path, kind=self.kind, arrays=arrays, vocab=self.vocab, history=self.history,
                 settings=self.settings)

    @classmethod
    def load(cls, path: PathLike) -> NGramModel:
        """Read a model written by :meth:`save`."""
        _, _, _, settings = load_npz(path, kind=cls.kind, names=("W",))
        enc = str(settings.get("encoding"))
        names = ("W", "contexts") if enc == "joint" else ("W",)
        arrays, vocab, history, settings = load_npz(path, kind=cls.kind, names=names)
        try:
            if arrays["W"].dtype.name not in DTYPES:
                raise ModelFileError("W is not float32 or float64")
            contexts = arrays.get("contexts")
            return cls(arrays["W"], vocab, context=settings.get("context", 0), encoding=enc,
                       contexts=None if contexts is None else _valid_contexts(contexts,
                                                                              len(vocab)),
                       history=history, settings=settings)
        except (ModelFileError, SettingsError) as e:
            raise ModelFileError(f"{os.fspath(path)}: {e}; retrain the model.") from None


AnyModel = Union[BigramModel, CountModel, NGramModel]


def model_kind(path: PathLike) -> str:
    """The kind ("bigram", "counts" or "ngram") written in a model file's header.

    Returns "bigram" if the header cannot be read, so that :meth:`BigramModel.load`
    reports what exactly is wrong with the file.
    """
    import zipfile  # here, not at the top: only loading needs it (CLI start-up)

    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            return str(json.loads(str(z["meta"]))["kind"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return "bigram"


def load_model(path: PathLike) -> AnyModel:
    """Load a model file of any kind, detected from its header."""
    kind = model_kind(path)
    if kind == "counts":
        return CountModel.load(path)
    if kind == "ngram":
        return NGramModel.load(path)
    return BigramModel.load(path)   # also reports what is wrong with an unreadable file
