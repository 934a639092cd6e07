"""Training from data to a saved model: reading the data, option rules, provenance.

:func:`train` is ``minibigram train`` as one Python call: it settles the settings
(:func:`train_settings`: the notebook's defaults, and a :class:`SettingsError` for
an option the chosen model would ignore), reads the data the cheapest way the model
allows (whole words, the counts of the text, counts streamed from a file, or counts
summed on a Dask cluster), fits, records what it was trained on
(:func:`data_provenance`), saves, scores the held-out words and samples.

An option left as ``None`` was not given: the notebook's default applies, and no
rule about unused options can refuse it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from .cluster import count_files, shard_bytes, shard_paths
from .engines import counts_loss
from .errors import (
    SettingsError,
    check_choice,
    check_real,
    check_seed,
    check_whole,
    check_words,
)
from .evaluate import fit_family, split_losses
from .examples import ContextCounts, count_words
from .models import (
    ENCODINGS,
    FAMILIES,
    NOTEBOOK_SEED,
    SOLVERS,
    LanguageModel,
    check_sampling,
    default_method,
    default_smoothing,
    is_bigram,
)
from .optim import newton
from .progress import Progress, wanted
from .safewrite import check_writable
from .sampling import DEFAULT_SAMPLER, SAMPLERS
from .smoothing import DISCOUNTED, METHODS
from .stdio import escape_all
from .stream import StreamCount, count_stream
from .vocab import Vocabulary
from .words import (
    EMBEDDED_NAMES,
    STDIN,
    PathLike,
    WordText,
    check_fractions,
    data_record,
    escape_tsv,
    file_sha256,
    load_words,
    parse_split,
    split_words,
)

#: What :func:`train` reads: a word file (``"-"``: standard input), the words themselves,
#: or ``None`` for the embedded names.
Data = Union[PathLike, Sequence[str], None]


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Every setting of a train, each one given or the notebook's default.

    The field defaults are the notebook's (makemore part 1): the bigram network,
    100 steps of gradient descent at lr 50 with reg 0.01 in float32 from the
    torch-replayed W of seed 2147483647, and 15 names sampled as torch 2.0-2.6 drew
    them. :data:`DEFAULTS` holds them.

    Attributes
    ----------
    family : {"network", "counts"}
        The trained network, or the count model smoothed by ``method``.
    context : int
        Characters of context K (1: bigrams).
    encoding : {"joint", "concat"}
        The network's input for K > 1 (see :class:`~minibigram.NGramModel`).
    steps, lr, reg, engine, solver, init, dtype
        The network's training (see :meth:`~minibigram.BigramModel.fit`); a network
        with K > 1 or the concat encoding is solved by Newton's method in at most
        ``steps`` iterations.
    smoothing : float or None
        Add-k's k, None for the other methods (which have no k). When not given,
        :func:`train_settings` takes :func:`~minibigram.models.default_smoothing` of the
        context for add-k (1 for bigrams, the notebook's; ``10**-K`` beyond).
    method : str
        The count model's smoothing, one of :data:`~minibigram.SMOOTHING_METHODS`:
        ``"add-k"`` (the notebook's table), or a backoff model down to the unigram. When
        not given, :func:`train_settings` takes
        :func:`~minibigram.models.default_method`: add-k for bigrams (the notebook's),
        ``"modified-kneser-ney"`` for K >= 2 (samples near the training words); add-k
        when ``smoothing`` is given, ``"kneser-ney"`` when ``discount`` is.
    discount : float or None
        The one discount of ``"kneser-ney"`` or ``"absolute"`` (None: estimated per
        order).
    unk : bool
        Reserve ``<unk>`` for characters never seen (a backoff model).
    seed : int
        Seed of the initial W and of sampling.
    sampler : str
        One of :data:`~minibigram.SAMPLERS`.
    samples : int
        Words to sample after training.
    split : (float, float, float) or None
        Train/dev/test fractions of a random split by word, or no split.
    split_seed : int
        Seed of the split.
    stream : bool
        Count the data file in pieces instead of reading it whole.
    dask : str, True or None
        Count the files of the data (a glob) on a Dask cluster: at this scheduler
        address, or (True) on a local cluster of one worker per core.
    dask_timeout : float
        Seconds to wait for a Dask scheduler, then for a worker.
    log_every : int
        Report the loss every this many steps (0: never).
    """

    family: str = "network"
    context: int = 1
    encoding: str = "joint"
    steps: int = 100
    lr: float = 50.0
    reg: float = 0.01
    smoothing: float | None = 1.0
    method: str = "add-k"
    discount: float | None = None
    unk: bool = False
    engine: str = "counts"
    solver: str = "gd"
    init: str = "torch"
    dtype: str = "float32"
    seed: int = NOTEBOOK_SEED
    sampler: str = DEFAULT_SAMPLER
    samples: int = 15
    split: tuple[float, float, float] | None = None
    split_seed: int = 42
    stream: bool = False
    dask: str | bool | None = None
    dask_timeout: float = 10.0
    log_every: int = 1

    @property
    def shape(self) -> str:
        """Which model the settings make: "counts", "context network", "newton" or
        "bigram network" (the notebook's)."""
        if self.family == "counts":
            return "counts"
        if not is_bigram(self.context, self.encoding):
            return "context network"
        return "newton" if self.solver == "newton" else "bigram network"

    @property
    def notebook_bigram(self) -> bool:
        """The notebook's model: the bigram network on every word, nothing held out."""
        return (self.split is None and self.family == "network"
                and is_bigram(self.context, self.encoding))

    @property
    def counted(self) -> bool:
        """Whether the data is counted in pieces (streamed or on Dask), its words not kept."""
        return self.stream or self.dask is not None

    @property
    def learns_from_counts(self) -> bool:
        """Whether the model needs only the counts of the data, not its words: the count
        model, every network solved by Newton's method, the counts engine; and no split."""
        return self.split is None and (self.family == "counts" or self.solved
                                       or self.engine == "counts")

    def streamed(self, data: Data) -> bool:
        """Whether :func:`train` counts ``data`` in a stream, whatever its size: a file,
        standard input or the embedded names, for a model that learns from counts."""
        return self.dask is None and self.learns_from_counts and (data is None or _is_path(data))

    @property
    def solved(self) -> bool:
        """Whether the network is solved by Newton's method (it stops when converged)."""
        return self.shape in ("context network", "newton")

    def describe(self) -> str:
        """The model in a few words: ``"bigram network (reg 0.01)"``."""
        if self.family == "counts" and (self.method != "add-k" or self.unk):
            return (f"{self.method} backoff model (K={self.context}"
                    f"{', <unk>' if self.unk else ''})")
        if self.family == "counts":
            return f"count model (K={self.context}, smoothing {self.smoothing:g})"
        if is_bigram(self.context, self.encoding):
            return f"bigram network (reg {self.reg:g})"
        return f"{self.encoding} network (K={self.context}, reg {self.reg:g})"

    def fit_options(self) -> dict[str, Any]:
        """What the chosen model's ``fit`` takes of these settings (beyond its data)."""
        if self.family == "counts":
            counts: dict[str, Any] = {"method": self.method}
            if self.smoothing is not None:   # add-k's k; the other methods have none
                counts["value"] = self.smoothing
            if self.discount is not None:
                counts["discount"] = self.discount
            if self.unk:
                counts["unk"] = True
            return counts
        if is_bigram(self.context, self.encoding):
            return {"value": self.reg, "steps": self.steps, "lr": self.lr, "seed": self.seed,
                    "dtype": self.dtype, "engine": self.engine, "solver": self.solver,
                    "init": self.init}
        return {"value": self.reg, "steps": self.steps, "dtype": self.dtype}


#: The notebook's settings, the defaults of every option of :func:`train`.
DEFAULTS = TrainSettings()

#: The options each model does not use: giving one is an error, not a no-op.
UNUSED = {
    "counts": ("steps", "lr", "reg", "engine", "solver", "init", "dtype", "encoding",
               "log_every"),
    "context network": ("engine", "solver", "init", "lr", "smoothing", "method", "discount",
                        "unk"),
    "newton": ("lr", "init", "engine", "smoothing", "method", "discount", "unk"),
    "bigram network": ("smoothing", "method", "discount", "unk"),
}


def train_settings(data: Data = None, **options: Any) -> TrainSettings:
    """The settings :func:`train` would use, after every check of how the options combine.

    Parameters
    ----------
    data : path, sequence of str, or None
        As for :func:`train`: the rules of ``stream`` and ``dask`` depend on it.
    **options
        The fields of :class:`TrainSettings`; ``None`` (or absent) means not given.
        ``split`` may also be written ``"80/10/10"``.

    Returns
    -------
    TrainSettings
        The given options, the notebook's defaults for the others.

    Raises
    ------
    SettingsError
        For a value out of its range, an unknown option, or an option the chosen model
        does not use (say, ``lr`` for a count model: it is counted, not trained).
    """
    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(TrainSettings)})
    if unknown:
        raise SettingsError(f"train takes no option {unknown[0]!r}: see "
                            "minibigram.TrainSettings for the options.")
    given = {k: v for k, v in options.items() if v is not None}
    if isinstance(given.get("split"), str):
        given["split"] = parse_split(given["split"])
    elif "split" in given:
        given["split"] = check_fractions(given["split"])
    settings = dataclasses.replace(DEFAULTS, **given)
    if "method" not in given:
        settings = dataclasses.replace(settings, method=default_method(settings.context, given))
    if "smoothing" not in given:   # a k for add-k only: the other methods have none
        settings = dataclasses.replace(settings, smoothing=default_smoothing(settings.context)
                                       if settings.method == "add-k" else None)
    _check_values(settings)
    _check_combination(settings, given, data)
    return settings


def _check_values(s: TrainSettings) -> None:
    """What the settings themselves decide (the model's fit checks the rest)."""
    check_choice("model family", s.family, FAMILIES)
    check_whole("the context length", s.context, 1)
    check_choice("encoding", s.encoding, ENCODINGS)
    check_choice("smoothing method", s.method, METHODS)
    check_choice("solver", s.solver, SOLVERS)
    check_choice("sampler", s.sampler, list(SAMPLERS))
    check_whole("the number of samples", s.samples)
    check_seed(s.seed)
    check_seed(s.split_seed)
    check_whole("log_every", s.log_every)
    check_real("dask_timeout", s.dask_timeout, strict=True)


def _check_combination(s: TrainSettings, given: dict[str, Any], data: Data) -> None:
    """Refuse options that would be ignored, and ways of reading that cannot read ``data``."""
    what = {"counts": "the count model (family 'counts': it is counted, not trained)",
            "context network": f"the {s.encoding} network with context {s.context} (solved "
                               "exactly by Newton's method)",
            "newton": "solver 'newton' (the exact optimum, from W = 0)",
            "bigram network": "the bigram network"}[s.shape]
    unused = [o for o in UNUSED[s.shape] if o in given]
    if s.shape == "counts" and {"smoothing", "discount"} <= set(given) and "method" not in given:
        raise SettingsError(f"smoothing (add-k's k) and discount (that of "
                            f"{' or '.join(DISCOUNTED)}) choose different methods: give one "
                            "of them.")
    if s.shape == "counts":
        why = []
        if s.method != "add-k" and "smoothing" in given:
            unused.append("smoothing")
            why.append("smoothing is add-k's k")
        if s.method not in DISCOUNTED and "discount" in given:
            unused.append("discount")
            why.append(f"the discount is that of {' or '.join(DISCOUNTED)}")
        if why:
            what = f"method {s.method!r} ({'; '.join(why)})"
    if "split_seed" in given and s.split is None:
        unused.append("split_seed")
        what += " without a split"
    if unused:
        one = len(unused) == 1
        raise SettingsError(f"{' and '.join(unused)} {'does' if one else 'do'} not apply to "
                            f"{what}: leave {'it' if one else 'them'} out.")
    if s.split is not None and _is_path(data) and os.fspath(data) == STDIN:  # type: ignore[arg-type]
        raise SettingsError("a model keeps its split to evaluate on it later, and standard "
                            "input cannot be read again: save the words to a file and give it "
                            "as the data, or leave out split.")
    if s.stream and s.dask is not None:
        raise SettingsError("stream and dask are two ways of counting the data (here, or on a "
                            "Dask cluster): give one of them.")
    if "dask_timeout" in given and not (isinstance(s.dask, str) and s.dask):
        raise SettingsError("dask_timeout applies only to a Dask scheduler's address (a "
                            "scheduler to wait for): leave it out.")
    if s.dask is not None and data is None:
        raise SettingsError("dask counts files on a cluster: give them as the data, e.g. "
                            "'corpus/*.txt' (quoted).")
    if not s.counted:
        return
    way = "stream" if s.stream else "dask"
    if not _is_path(data) and data is not None:
        raise SettingsError(f"{way} counts files, not a list of words: give a path as the "
                            f"data, or leave out {way}.")
    if s.dask is not None and data is not None and os.fspath(data) == STDIN:  # type: ignore[arg-type]
        raise SettingsError("dask counts files, which standard input is not: give a glob of "
                            "files as the data, or leave out dask to read standard input.")
    if s.split is not None:
        raise SettingsError(f"{way} counts the whole data without keeping its words, so it "
                            f"cannot be split: leave out split or {way}.")
    if s.engine != "counts":
        raise SettingsError(f"{way} trains from counts, which the {s.engine} engine cannot "
                            "use: leave out engine, or use solver newton.")


def _is_path(data: Data) -> bool:
    return isinstance(data, (str, os.PathLike))


def data_provenance(data: Data | WordText, counts: ContextCounts | None = None, *,
                    files: Sequence[str] | None = None) -> dict[str, Any]:
    """What a model records of the data it was trained on (its ``settings["data"]``).

    Parameters
    ----------
    data : sequence of str, WordText, path, or None
        The words (:func:`~minibigram.words.data_record`: their source and sha256);
        the text they were counted from (:func:`~minibigram.load_text`); the file
        (or, ``None``, the embedded names) streamed into ``counts``; or, with
        ``files``, the glob whose files were counted on a cluster.
    counts : ContextCounts, optional
        The counts trained on, when the words were not kept: they give the number of
        words, the count of contexts ``"." * K`` (each word starts one).
    files : sequence of str, optional
        The files of a glob counted on a Dask cluster.

    Returns
    -------
    dict
        ``{"source", "sha256", "num_words"}``, as for words read whole, so that
        ``eval`` and ``sample --mark`` can find the data again. For a Dask count,
        ``{"source", "files", "bytes", "num_words"}`` instead: a sha256 would read
        every file a second time.
    """
    if counts is None:
        check_words(data)
        return data_record(data)   # type: ignore[arg-type]
    num_words = int(counts.N[0].sum())   # row 0 is the context "." * K: one per word
    if files is not None:
        return {"source": os.path.abspath(os.fspath(data)),   # type: ignore[arg-type]
                "files": len(files), "bytes": shard_bytes(files),
                "num_words": num_words}
    if isinstance(data, WordText):
        return {"source": data.source, "sha256": data.sha256, "num_words": num_words}
    path = None if data is None else os.fspath(data)   # type: ignore[arg-type]
    return {"source": EMBEDDED_NAMES if path is None else os.path.abspath(path),
            "sha256": file_sha256(path), "num_words": num_words}


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` made.

    Attributes
    ----------
    model : LanguageModel
        The trained model; ``model.settings`` is the record its file keeps
        (settings, data, split, version).
    settings : TrainSettings
        The settings trained with, defaults applied.
    eval : dict or None
        Mean NLL per character (no L2 term) on ``"train"``, ``"dev"`` and ``"test"``
        (None for an empty part), the test part read once, after training. None
        when there is nothing held out to compare: the notebook's bigram on every
        word, or a model trained from counts (its final loss is the training loss).
    samples : list of str
        ``settings.samples`` words sampled after training (and after saving).
    out : str or None
        Where the model was saved.
    gap : dict or None
        After gradient descent, how far from the optimum (:func:`optimum_gap`).
    seconds : dict
        Wall time of ``"count"`` (the counts of a stream or a cluster, cluster start
        included; None when the data was read whole) and of ``"fit"``.
    """

    model: LanguageModel
    settings: TrainSettings
    eval: dict[str, float | None] | None
    samples: list[str]
    out: str | None
    seconds: dict[str, float | None]
    gap: dict[str, float | None] | None = None

    @property
    def losses(self) -> list[float]:
        """The loss of every training step (mean NLL plus the L2 term for a network)."""
        return self.model.history

    @property
    def final_loss(self) -> float | None:
        """The objective at the trained parameters (see the model's ``final_loss``)."""
        return self.model.final_loss

    def as_dict(self) -> dict[str, Any]:
        """The result as ``minibigram train --json`` prints it (one JSON object)."""
        s, model = self.settings, self.model
        out: dict[str, Any] = {"num_examples": model.settings["num_examples"],
                               "vocab_size": model.V, "losses": self.losses,
                               "final_loss": self.final_loss}
        if not s.notebook_bigram:
            out.update(family=s.family, context=s.context, eval=self.eval)
        return {**out, "samples": self.samples, "settings": model.settings,
                "sampler": s.sampler, "model": self.out}

    def summary(self) -> str:
        """What was trained on what, and its final loss: the status line of ``train``."""
        s, model = self.settings, self.model
        trained = f"{model.settings['num_examples']} examples, vocabulary of {model.V}"
        if s.notebook_bigram:
            return (f"trained on {trained}; final loss {self.final_loss:.7f} "
                    "(mean NLL + L2 term)")
        if self.eval is None:   # from counts: the final loss is the training loss
            return (f"trained the {s.describe()} on {trained}; final loss "
                    f"{self.final_loss:.7f} "
                    f"({'mean NLL' if s.family == 'counts' else 'mean NLL + L2 term'})")
        return f"trained the {s.describe()} on {trained}"

    def gap_summary(self) -> str | None:
        """After gradient descent, how far it stopped from the optimum and the option that
        closes the gap; None for a model solved exactly or counted."""
        if self.gap is None:
            return None
        gap = self.gap
        line = (f"after {self.settings.steps} steps of gradient descent the gradient norm is "
                f"{gap['grad_norm']:.2g}")
        loss, best = gap["loss"], gap["optimum"]
        if loss is not None and best is not None:
            line += f"; the loss {loss:.6f} is {loss - best:.6f} above the optimum {best:.6f}"
        return line + ": --solver newton reaches the optimum (or give more --steps)"

    def count_summary(self) -> str:
        """What a Dask count read, where, and how fast: one line for a person."""
        data, seconds = self.model.settings["data"], self.seconds["count"] or 0.0
        total, files = data["bytes"], data["files"]   # total None: a file was removed since
        size = ("size unknown" if total is None else f"{total:,} bytes" if total < 100_000
                else f"{total / 1e6:,.1f} MB")
        where = (f"the Dask scheduler at {self.settings.dask}"
                 if isinstance(self.settings.dask, str)
                 else f"a local Dask cluster of {os.cpu_count() or 1} workers")
        rate = ("" if total is None else
                f" ({total / 1e6 / max(seconds, 1e-9):,.1f} MB/s, cluster start included)")
        return (f"counted {files} file{'s' if files != 1 else ''} ({size}) on {where}: "
                f"{self.model.settings['num_examples']:,} examples, {self.model.V} characters, "
                f"in {seconds:.1f} s{rate}")


def train(data: Data = None, *, out: PathLike | None = None,
          callback: Callable[[int, float], None] | None = None, progress: bool | None = None,
          **options: Any) -> TrainResult:
    """Train a model as ``minibigram train`` does: read, fit, record, save, evaluate, sample.

    Parameters
    ----------
    data : str, os.PathLike, sequence of str, or None
        A word file, one word per line (``"-"``: standard input); with ``dask``, a
        glob of such files; or the words themselves. ``None``: the embedded
        ``names.txt``.
    out : str or os.PathLike, optional
        Save the model here (checked before training; saved before anything else
        happens after it, so nothing can lose the trained model).
    callback : callable, optional
        ``callback(step, loss)`` at step 1, every ``log_every`` steps, the last step
        of ``steps``, and the step training stopped at (Newton's method stops when it
        has converged). Never called for a count model, which has no steps.
    progress : bool, optional
        Draw a live line on stderr: the steps, or the bytes counted. Default: when
        stdout and stderr are both terminals.
    **options
        The fields of :class:`TrainSettings` (``family``, ``context``, ``encoding``,
        ``steps``, ``lr``, ``reg``, ``smoothing``, ``method``, ``discount``, ``unk``,
        ``engine``, ``solver``, ``init``,
        ``dtype``, ``seed``, ``sampler``, ``samples``, ``split``, ``split_seed``,
        ``stream``, ``dask``, ``dask_timeout``, ``log_every``). ``None`` means not
        given: the notebook's default (:data:`DEFAULTS`) applies.

    Returns
    -------
    TrainResult

    Raises
    ------
    SettingsError
        As :func:`train_settings` (an option the model does not use, a way of
        reading that cannot read ``data``), or a model or sample too large.
    DataError, FileAccessError, TrainingError, DependencyError

    Notes
    -----
    The data is read the cheapest way the model allows. The notebook's bigram
    network (every word, K = 1, the counts engine or Newton's method) and every
    streamed or Dask model learn from counts alone, so no word list is made; a
    split, or a network with K > 1, reads the words. With a split, the vocabulary
    is that of all the words, so that dev and test can be scored.
    """
    s = train_settings(data, **options)
    shown = wanted() if progress is None else progress
    files = (shard_paths(data) if s.dask is not None      # type: ignore[arg-type]
             else [os.fspath(data)] if _is_path(data) else [])  # type: ignore[arg-type]
    if out is not None:
        check_writable(out, inputs=files)   # before training, not after it
    seconds: dict[str, float | None] = {"count": None, "fit": 0.0}
    counts: ContextCounts | None = None
    vocab = None
    source: Any = data          # what the provenance record describes
    parts: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    start = time.perf_counter()
    record: dict[str, Any] | None = None   # what a stream counted, read once
    if s.dask is not None:
        counts = _dask_counts(files, s, shown)
        seconds["count"] = time.perf_counter() - start
    elif s.streamed(data):
        counted = _stream_counts(data, s.context, shown)   # type: ignore[arg-type]
        counts, record = counted.counts, counted.record
        seconds["count"] = time.perf_counter() - start
    else:
        words = (load_words(data) if data is None or isinstance(data, (str, os.PathLike))
                 else check_words(data))
        source = words
        # all the data's characters, so that dev and test can be scored, and so that
        # sampling is checked before training; a bigram model trained on every word finds
        # them itself (and refuses an alphabet too large to sample before training)
        if s.split is not None or s.context > 1:
            vocab = Vocabulary.from_words(words)
        if s.split is not None:
            train_words, dev, test = split_words(words, s.split, s.split_seed)
            parts = {"train": train_words, "dev": dev, "test": test}
        else:
            parts = {"train": words, "dev": [], "test": []}   # the words keep their source
    if s.samples:   # checked now, not after minutes of training
        alphabet = counts.vocab if counts is not None else vocab
        # a dense table only for bigrams and the concat network; the others sample the
        # rows of the contexts seen, known after training
        dense = s.context == 1 or (s.family == "network" and s.encoding == "concat")
        check_sampling(None if alphabet is None or not dense else len(alphabet), s.context,
                       s.samples)
    start = time.perf_counter()
    model = _fit(s, None if counts is not None else parts["train"], counts, vocab, callback,
                 shown)
    seconds["fit"] = time.perf_counter() - start
    if record is not None:
        model.settings["data"] = record
    elif counts is not None:
        model.settings["data"] = data_provenance(source, counts, files=files)
    elif s.split is not None:   # the record is of all the words; the split says which part
        model.settings.update(split="/".join(f"{100 * f:g}" for f in s.split),
                              split_seed=s.split_seed, data=data_provenance(source))
    if out is not None:
        model.save(out)   # first: nothing after training may lose the model
    losses = None
    if not s.notebook_bigram and counts is None:
        losses = split_losses(model, {"train": parts["train"], "dev": parts["dev"]})
        # the test set is read once, after training
        losses["test"] = model.nll(parts["test"]) if parts["test"] else None
    elif not s.notebook_bigram and counts is not None:   # the same number, from the counts
        losses = {"train": counts_nll(model, counts), "dev": None,   # type: ignore[arg-type]
                  "test": None}
    gap = None
    if s.shape == "bigram network":   # gradient descent: say how far from the optimum
        gap = optimum_gap(model, counts if counts is not None
                          else count_words(parts["train"], model.vocab, 1))
    samples = model.sample(s.samples, seed=s.seed, sampler=s.sampler)
    return TrainResult(model=model, settings=s, eval=losses, samples=samples,
                       out=None if out is None else os.fspath(out), seconds=seconds, gap=gap)


#: The largest alphabet whose exact optimum :func:`optimum_gap` computes (Newton's method
#: on V x V weights: milliseconds at this size).
GAP_MAX_V = 256


def optimum_gap(model: LanguageModel, counts: ContextCounts) -> dict[str, float | None]:
    """How far a bigram network trained by gradient descent is from the optimum of its loss.

    Returns
    -------
    dict
        ``grad_norm``: the Frobenius norm of the gradient of the loss (mean NLL + L2)
        at the model's W, 0 at the optimum; ``loss``: that loss; ``optimum``: the loss
        at the exact optimum (Newton's method, as ``solver="newton"`` trains it), None
        for an alphabet above :data:`GAP_MAX_V`.
    """
    reg = float(model.settings.get("reg", 0.0))
    N = counts.N                                                     # (V, V)
    loss, grad = counts_loss(model.W.astype(np.float64), N, reg)    # type: ignore[attr-defined]
    best = None
    if model.V <= GAP_MAX_V:
        W, _ = newton(N.astype(np.float64), reg)                     # (V, V)
        best = float(counts_loss(W, N, reg)[0])
    return {"grad_norm": float(np.linalg.norm(grad)), "loss": float(loss), "optimum": best}


def counts_nll(model: LanguageModel, counts: ContextCounts) -> float:
    """The mean NLL per character (no L2 term) of the words ``counts`` counted: the number
    ``model.nll(words)`` gives, from their counts alone."""
    logp = model.log_rows(counts.contexts)[:, :model.V]              # (C, V) no <unk> column
    N = counts.N                                                     # (C, V)
    return float(-(N * np.where(N > 0, logp, 0.0)).sum() / N.sum())


def _fit(s: TrainSettings, words: list[str] | None, counts: ContextCounts | None,
         vocab: Vocabulary | None, callback: Callable[[int, float], None] | None,
         shown: bool) -> LanguageModel:
    """Fit the model of ``s``, reporting each step to ``callback`` and the progress line."""
    options = s.fit_options()
    if s.family == "counts":
        return fit_family(s.family, words, context=s.context, encoding=s.encoding,
                          vocab=vocab, counts=counts, **options)
    # Newton's method stops when it has converged, not at steps: its line has no total
    bar = Progress(0 if s.solved else s.steps, enabled=shown)
    latest: list[tuple[int, float]] = []   # the latest step, if the callback has not had it

    def step(n: int, loss: float) -> None:
        latest[:] = [(n, loss)]
        if callback is not None and s.log_every and (
                n % s.log_every == 0 or n == 1 or n == s.steps):
            bar.clear()
            callback(n, loss)
            latest.clear()
        bar.update(n, loss)

    try:
        model = fit_family(s.family, words, context=s.context, encoding=s.encoding,
                           vocab=vocab, counts=counts, callback=step, **options)
    finally:
        bar.close()
    if callback is not None and s.log_every and latest:
        callback(*latest[0])
    return model


def _stream_counts(data: PathLike | None, context: int, shown: bool) -> StreamCount:
    """Count ``data`` (or the embedded names; ``"-"``: standard input) in one pass, the
    sha256 of the very bytes counted beside them."""
    path = None if data is None else os.fspath(data)
    total = (os.path.getsize(path) if path is not None and path != STDIN
             and os.path.isfile(path) else 0)
    bar = Progress(total, unit="byte", enabled=shown)
    try:
        return count_stream(data, context, progress=bar.update)
    finally:
        bar.close()


def _dask_counts(files: list[str], s: TrainSettings, shown: bool) -> ContextCounts:
    """Count ``files`` on the Dask cluster of ``s.dask``, the bytes counted on the line."""
    bar = Progress(sum(os.path.getsize(f) for f in files), unit="byte", enabled=shown)
    try:
        return count_files(files, context=s.context,
                           address=s.dask if isinstance(s.dask, str) and s.dask else None,
                           timeout=s.dask_timeout,
                           progress=lambda _, nbytes: bar.update(nbytes))
    finally:
        bar.close()


def model_info(model: LanguageModel) -> dict[str, Any]:
    """What a saved model is and what it was trained on (``minibigram info``).

    Returns
    -------
    dict
        ``kind``, ``context`` (K), ``vocab_size``, ``vocab`` (its characters in id
        order), ``encoding``, ``final_loss``, ``steps_recorded``, the provenance
        (``data``: source, sha256, number of words; ``split``, ``split_seed``;
        ``minibigram``: the version that trained it; None where not recorded) and
        every setting.
    """
    st = model.settings
    return {"kind": model.kind, "context": model.K, "vocab_size": model.V,
            "vocab": "".join(model.vocab.itos), "encoding": st.get("encoding"),
            "final_loss": model.final_loss, "steps_recorded": len(model.history),
            "data": st.get("data"), "split": st.get("split"), "split_seed": st.get("split_seed"),
            "minibigram": st.get("minibigram"), "settings": st}


def info_report(info: dict[str, Any]) -> str:
    """:func:`model_info` (with the file's ``"model"`` path) as ``minibigram info`` prints it:
    one ``name  value`` line each, every string escaped (a path may hold bytes that are not
    UTF-8), the vocabulary by its ``repr``."""
    vocab = info["vocab"]
    info = escape_all(info, escape_tsv)
    data = info["data"] if isinstance(info["data"], dict) else {}
    unknown = "not recorded"
    final = info["final_loss"]
    lines = [("model", info["model"]), ("kind", info["kind"]), ("context K", info["context"]),
             ("vocabulary V", f"{info['vocab_size']}: {vocab!r}"),
             ("encoding", info["encoding"] or "-"),
             ("final loss", unknown if final is None else f"{final:.7f}"),
             ("data source", data.get("source") or (unknown if not data else "a list of words")),
             ("data sha256", data.get("sha256", unknown)),
             ("data words", data.get("num_words", unknown)),
             ("split", f"{info['split']} (seed {info['split_seed']})" if info["split"]
              else "none: trained on all the data"),
             ("minibigram", info["minibigram"] or unknown)]
    lines += [(f"setting {k}", v) for k, v in info["settings"].items()
              if k not in ("data", "split", "split_seed", "minibigram")]
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)
