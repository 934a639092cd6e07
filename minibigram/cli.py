"""The ``minibigram`` command: train, sample and score from the shell.

Argparse and printing only: every computation is a library call. Each subcommand
has its parser in ``_add_<name>_parser`` (shared flags come from the parent
parsers below) and its work in ``_cmd_<name>``.

stdout is the product, stderr the status. Samples, scores, tables, JSON and the
losses a learner asked for (``step N loss ...``) go to stdout, so ``minibigram
sample ... | sort`` and ``train ... > out.txt`` capture only them; "trained on",
"saved the model to", "wrote FIGURE", progress, notes and warnings go to stderr
(see :func:`_say`). ``-q/--quiet`` silences the status (stderr stays empty on
success), ``-v/--verbose`` adds detail (the model, its settings, timings). With
``--json`` a command prints exactly one JSON object on stdout (``score``: JSON
Lines, one object per word, as it streams) and, unless ``-v``, no status;
otherwise it prints for a person (``score``: tab-separated lines).

Bad input ends with one line ``minibigram: error: ...`` on stderr and exit status
2; Ctrl-C with one line ``minibigram: interrupted ...`` and status 130. Any other
exception is a bug in minibigram, so it is not hidden: Python prints its traceback
(status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from . import __version__
from .engines import ENGINES, OBJECTIVES
from .errors import DataError, MinibigramError, SettingsError
from .evaluate import PARAM, fit_kind, model_split, sample_marks, split_losses, sweep
from .examples import count_text
from .models import (
    DTYPES,
    ENCODINGS,
    INITS,
    MODEL_KINDS,
    NOTEBOOK_SEED,
    SOLVERS,
    check_sampling,
)
from .progress import Progress
from .sampling import DEFAULT_SAMPLER, SAMPLERS
from .vocab import Vocabulary
from .words import (
    EMBEDDED_NAMES,
    STDIN,
    STDIN_NAME,
    data_record,
    file_sha256,
    load_text,
    load_words,
    open_words,
    parse_split,
    read_word_chunks,
    recorded_words,
    split_words,
)


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, reading the terminal's width without importing shutil.

    argparse builds a formatter for every option it adds, and its default one imports
    ``shutil`` (and with it zlib, bz2 and lzma: milliseconds of start-up) only to ask
    ``shutil.get_terminal_size``; this asks ``os`` directly, with the same fallbacks:
    ``$COLUMNS``, then stdout's terminal, then 80 columns.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width=_terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    """The terminal's width in columns, as ``shutil.get_terminal_size`` reads it."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):   # no stdout, or not a terminal
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2.

    Options must be spelled out (no ``--ste`` for ``--steps``), so that
    :func:`_refuse_unused` can tell which options were given: a command's parser
    records them in ``args.given``, each by its long name. An unknown option, or an
    invalid choice, names the closest valid ones and the command's own help.
    """

    #: A subcommand's parser: it records the options given and refuses what it cannot read.
    command = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]  # one signature for argparse's overloads
            self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        namespace, extras = super().parse_known_args(args, namespace)
        if self.command:   # here, not in the top parser, so the error names this command
            if extras:
                self.error(f"unrecognized arguments: {' '.join(extras)}")
            namespace.given = self.given(args or [])
        return namespace, extras

    def option_actions(self) -> dict[str, argparse.Action]:
        """Every option string of this parser (``-s``, ``--seed``, ...) and its action."""
        return dict(self._option_string_actions)   # argparse's own table of them

    def given(self, argv: Sequence[str]) -> set[str]:
        """The options in ``argv``, each by its long name: ``-s 5``, ``-s5`` and
        ``--seed=5`` are all ``--seed``; ``-qv`` is ``--quiet`` and ``--verbose``."""
        actions = self.option_actions()
        names: list[str] = []
        for tok in argv:
            if tok == "--":                       # the rest are positional
                break
            if tok.startswith("--"):
                names.append(tok.split("=", 1)[0])
            elif tok.startswith("-") and len(tok) > 1:
                for ch in tok[1:]:                # short flags may be grouped: -qv
                    names.append("-" + ch)
                    action = actions.get("-" + ch)
                    if action is None or action.nargs != 0:   # the rest is its value
                        break
        return {max(actions[n].option_strings, key=len) for n in names if n in actions}

    def error(self, message: str) -> NoReturn:
        near: list[str] = []
        if message.startswith("unrecognized arguments: "):
            for tok in message.split(": ", 1)[1].split():
                if tok.startswith("-"):
                    near = _closest(tok.split("=", 1)[0], list(self.option_actions()))
                    if near:
                        break
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            near = _closest(choice[1], re.findall(r"'([^']*)'", choice[2]))
        hint = ""
        if near:
            hint = f"; did you mean {near[0]}?" if len(near) == 1 else \
                f"; did you mean {', '.join(near[:-1])} or {near[-1]}?"
        self.exit(2, f"minibigram: error: {message}{hint} (see '{self.prog} --help').\n")


def _closest(name: str, valid: list[str]) -> list[str]:
    """The valid names ``name`` may mean: those it abbreviates (``--st``: ``--steps``,
    ``--stream``), else the closest spellings (``difflib``); likeliest first, at most 3."""
    if name.startswith("--"):
        valid = [v for v in valid if v.startswith("--")]
    prefixed = [v for v in valid if v.startswith(name)]
    if prefixed:
        return sorted(prefixed, key=lambda v: (len(v), v))[:3]
    import difflib  # here, not at the top: only a mistyped option needs it (start-up time)

    return difflib.get_close_matches(name, valid, n=3, cutoff=0.6)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _seed(text: str) -> int:
    value = _positive_int(text)
    if value >= 2**64:
        raise argparse.ArgumentTypeError(f"expected a seed below 2**64, got {text}")
    return value


def _context(text: str) -> int:
    value = _positive_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a context length >= 1")
    return value


def _split(text: str) -> tuple[float, float, float]:
    try:
        return parse_split(text)
    except MinibigramError as e:
        raise argparse.ArgumentTypeError(str(e).rstrip(".")) from None


def _list_of(item: Any) -> Any:
    def parse(text: str) -> list[Any]:
        return [item(t) for t in text.split(",")]
    parse.__name__ = "comma-separated list"
    return parse


def _finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (JSON has no inf or NaN).

    A probability of exactly 0 makes a loss inf or a log-probability -inf; JSON says null.
    """
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _emit_json(obj: dict[str, Any]) -> None:
    """Print one strict JSON object (non-finite numbers become null)."""
    import json  # here, not at the top: only --json needs it (start-up time)

    print(json.dumps(_finite_or_none(obj), ensure_ascii=False, allow_nan=False))


def _say(args: argparse.Namespace, text: str, detail: bool = False) -> None:
    """A status line on stderr: unless -q (or --json without -v); a ``detail`` only with -v."""
    if args.verbosity >= (2 if detail else 1):
        print(text, file=sys.stderr, flush=True)


def _note(args: argparse.Namespace, text: str) -> None:
    """A warning on stderr (``minibigram: note: ...``): shown unless -q, --json included."""
    if not args.quiet:
        print(f"minibigram: note: {text}", file=sys.stderr, flush=True)


def _status_flags(p: argparse.ArgumentParser) -> None:
    quiet = p.add_mutually_exclusive_group()
    quiet.add_argument("-q", "--quiet", action="store_true",
                       help="no status on stderr (progress, 'saved', 'trained on'); the "
                            "results on stdout are unchanged (default: off)")
    quiet.add_argument("-v", "--verbose", action="store_true",
                       help="more status on stderr: the model, its settings, timings "
                            "(default: off)")


# --- shared flags: each is written once, and added to every command that takes it


def _command(sub: Any, name: str, flags: Sequence[Callable[[argparse.ArgumentParser], None]],
             **kwargs: Any) -> _Parser:
    """Add the parser of command ``name``, its shared ``flags`` first (each written once)."""
    p: _Parser = sub.add_parser(name, **kwargs)
    for add in flags:
        add(p)
    return p


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true",
                   help="print one JSON object on stdout instead (and no status, unless -v; "
                        "default: plain text)")


def _model_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", required=True, metavar="MODEL.npz",
                   help="a model file written by 'minibigram train --out' (required; no default)")


def _eval_data_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--data", metavar="PATH", help="text file, one word per line; '-' reads "
                   "standard input (default: the model's own training data when the file it "
                   "records is there with the same sha256, else the embedded names)")


def _data_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--data", metavar="PATH", help="text file, one word per line; '-' "
                   "reads standard input (default: the embedded names.txt, 32,033 names)")


def _sampler_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--seed", type=_seed, default=NOTEBOOK_SEED,
                   help=f"seed of the initial W and of sampling (default {NOTEBOOK_SEED})")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=DEFAULT_SAMPLER,
                   help="torch-mkl = torch 2.0-2.6 (the notebook), torch = 2.7+, torch-cdf = "
                        f"1.x, numpy (default {DEFAULT_SAMPLER})")


def _split_flags(p: argparse.ArgumentParser, default_seed: int | None = 42) -> None:
    p.add_argument("--split", type=_split, metavar="TR/DEV/TE",
                   help="random split by word, e.g. 80/10/10 (default: no split, train on "
                        "every word)")
    p.add_argument("--split-seed", type=_seed, default=default_seed,
                   help=f"seed of the split (default {default_seed})")


# --- train


def _add_train_parser(sub: Any) -> None:
    p = _command(sub, "train", (_json_flag, _data_flag, _sampler_flags),
                 help="train the bigram network and print samples",
                 description="Train the bigram network by full-batch gradient descent, as "
                             "in makemore part 1, then print samples. The defaults are "
                             "the notebook's. The loss printed per step and as the final "
                             "loss is the notebook's: mean NLL plus the L2 term reg * "
                             "mean(W**2); with --split, or another model, the lines 'mean "
                             "NLL per character' leave the L2 term out, as 'eval' does.")
    p.add_argument("--stream", action="store_true",
                   help="count --data in 1 MiB chunks instead of reading it whole: memory stays "
                        "bounded for a corpus of any size (every model trains from the counts; "
                        "the bigram network with the counts engine or --solver newton; no "
                        "--split; default: read the words)")
    p.add_argument("--dask", nargs="?", const="", metavar="ADDRESS",
                   help="count the files of --data (a glob such as 'corpus/*.txt', quoted) on a "
                        "Dask cluster and train on the sum, as --stream does: at the scheduler "
                        "ADDRESS (e.g. tcp://10.0.0.5:8786), or without one on a LocalCluster of "
                        "one worker per core; needs pip install \".[dask]\" (default: no Dask)")
    p.add_argument("--dask-timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                   help="with --dask ADDRESS: how long to wait for the scheduler to answer, and "
                        "then for a worker (default 30)")
    p.add_argument("--steps", type=_positive_int, default=100, help="gradient steps (default 100)")
    p.add_argument("--lr", type=_positive_float, default=50.0, help="learning rate (default 50)")
    p.add_argument("--reg", type=_finite_float, default=0.01,
                   help="L2 strength, reg * mean(W**2) (default 0.01)")
    p.add_argument("--engine", choices=ENGINES, default="counts",
                   help="how the loss and gradient are computed; same numbers (default counts)")
    p.add_argument("--dtype", choices=DTYPES, default="float32",
                   help="dtype of W and of training (default float32)")
    p.add_argument("--solver", choices=SOLVERS, default="gd",
                   help="gd: the notebook's gradient steps (default); newton: the exact "
                        "optimum, in float64, to max|dW| < 1e-10 (--steps caps the iterations; "
                        "--lr is unused)")
    p.add_argument("--init", choices=INITS, default="torch",
                   help="initial W: torch = the notebook's torch.randn, replayed without torch; "
                        "normal = numpy's default_rng (default torch)")
    p.add_argument("-n", "--samples", type=_positive_int, default=15,
                   help="names to sample after training (default 15)")
    p.add_argument("-o", "--out", metavar="MODEL.npz",
                   help="save the trained model here (default: not saved)")
    p.add_argument("--log-every", type=_positive_int, default=1, metavar="N",
                   help="print the loss every N steps (default 1, like the notebook; 0: never)")
    p.add_argument("--model-kind", choices=MODEL_KINDS, default="network",
                   help="network: the trained network; counts: the smoothed count model "
                        "(default network)")
    p.add_argument("--context", type=_context, default=1, metavar="K",
                   help="characters of context (default 1: bigrams)")
    p.add_argument("--encoding", choices=ENCODINGS, default="joint",
                   help="network input for K > 1: one row per seen context (joint) or K "
                        "one-hots (concat); both solved exactly by Newton's method, at most "
                        "--steps iterations (concat needs --reg > 0; default joint)")
    p.add_argument("--smoothing", type=_finite_float, default=1.0, metavar="k",
                   help="add-k smoothing of the count model (default 1)")
    _split_flags(p)
    p.set_defaults(func=_cmd_train)


def _stream_counts(args: argparse.Namespace) -> Any:
    """Count --data (or the embedded names) chunk by chunk, with progress on a terminal:
    bigrams for --context 1, contexts of K characters beyond."""
    from .stream import count_bigrams, count_contexts  # only --stream needs them (start-up)

    source = load_words() if args.data is None else args.data
    total = 0 if args.data is None or not os.path.isfile(args.data) else os.path.getsize(args.data)
    progress = Progress(total, unit="byte",
                        enabled=args.verbosity > 0 and sys.stdout.isatty() and sys.stderr.isatty())
    try:
        if args.context == 1:
            counts: Any = count_bigrams(source, progress=progress.update)
        else:
            counts = count_contexts(source, args.context, progress=progress.update)
    finally:
        progress.close()
    if counts.num_examples == 0:
        raise DataError(f"{args.data} holds no words (it is empty or only blank lines): give a "
                        "file with one word per line.")
    return counts


def _dask_counts(args: argparse.Namespace, files: list[str]) -> Any:
    """Count ``files`` on the Dask cluster of --dask: on a terminal the bytes of the files
    counted so far, then one status line (what was counted, where, how fast)."""
    from .cluster import count_files  # only --dask needs it (start-up time)

    total = sum(os.path.getsize(f) for f in files)
    size = f"{total:,} bytes" if total < 100_000 else f"{total / 1e6:,.1f} MB"
    where = (f"the Dask scheduler at {args.dask}" if args.dask
             else f"a local Dask cluster of {os.cpu_count() or 1} workers")
    what = f"{len(files)} file{'s' if len(files) != 1 else ''} ({size})"
    _say(args, f"counting {what} on {where}", detail=True)
    progress = Progress(total, unit="byte",
                        enabled=args.verbosity > 0 and sys.stdout.isatty() and sys.stderr.isatty())
    start = time.perf_counter()
    try:
        counts = count_files(files, context=args.context, address=args.dask or None,
                             timeout=args.dask_timeout,
                             progress=lambda _, nbytes: progress.update(nbytes))
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    _say(args, f"counted {what} on {where}: {counts.num_examples:,} examples, "
               f"{len(counts.vocab)} characters, in {seconds:.1f} s "
               f"({total / 1e6 / seconds:,.1f} MB/s, cluster start included)")
    return counts


@contextlib.contextmanager
def _step_log(args: argparse.Namespace, newton: bool = False
              ) -> Iterator[Callable[[int, float], None] | None]:
    """The training callback: the loss every --log-every steps on stdout, like the notebook,
    and on a terminal a live "step/loss/rate" line on stderr (not with -q); None (nothing)
    with --json.

    Newton's method stops when it has converged, not at --steps: its progress line has
    no total.
    """
    if args.json:
        yield None
        return
    progress = Progress(0 if newton else args.steps,
                        enabled=args.verbosity > 0 and sys.stdout.isatty() and sys.stderr.isatty())
    unprinted: list[tuple[int, float]] = []   # the latest step, if it was not printed
    flushed = [time.perf_counter()]

    def show(step: int, loss: float) -> None:
        progress.clear()
        print(f"step {step:4d}  loss {loss:.7f}")
        # live in a pipe too (| tee), but not a write per line when a step takes microseconds
        if time.perf_counter() - flushed[0] >= 0.05:
            sys.stdout.flush()
            flushed[0] = time.perf_counter()

    def log(step: int, loss: float) -> None:
        unprinted[:] = [(step, loss)]
        if args.log_every and (step % args.log_every == 0 or step == 1 or step == args.steps):
            show(step, loss)
            unprinted.clear()
        progress.update(step, loss)

    try:
        yield log
    finally:
        progress.close()
    if args.log_every and unprinted:   # only reached when training succeeded
        show(*unprinted[0])


def _describe(args: argparse.Namespace) -> str:
    if args.model_kind == "counts":
        return f"count model (K={args.context}, smoothing {args.smoothing:g})"
    if args.context == 1 and args.encoding == "joint":
        return f"bigram network (reg {args.reg:g})"
    return f"{args.encoding} network (K={args.context}, reg {args.reg:g})"


def _fit_options(args: argparse.Namespace) -> dict[str, Any]:
    """What train's flags ask of :func:`minibigram.evaluate.fit_kind` for the chosen model."""
    if args.model_kind == "counts":
        return {}
    if args.context == 1 and args.encoding == "joint":
        return {"steps": args.steps, "lr": args.lr, "seed": args.seed, "dtype": args.dtype,
                "engine": args.engine, "solver": args.solver, "init": args.init}
    return {"steps": args.steps, "dtype": args.dtype}


def _cmd_train(args: argparse.Namespace) -> int:
    _refuse_unused(args)
    if args.dask is not None:
        from .cluster import shard_paths  # only --dask needs it (start-up time)

        files = shard_paths(args.data)
    else:
        files = [args.data]
    if args.out is not None:
        from .io import check_writable  # only --out needs it (start-up time)

        check_writable(args.out, inputs=files)   # before training, not after it
    counts, vocab, text = None, None, None
    plain = args.split is None and args.context == 1 and args.encoding == "joint" \
        and args.model_kind == "network"
    if args.stream or args.dask is not None:
        counts = _stream_counts(args) if args.stream else _dask_counts(args, files)
        words = None
        parts: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    elif plain and (args.engine == "counts" or args.solver == "newton"):
        # the bigram network learns from the counts alone: count the text, make no words
        text = load_text(args.data)
        counts, words = count_text(text), None
        parts = {"train": [], "dev": [], "test": []}
    else:
        words = load_words(args.data)
        # all the data's characters, so that dev and test can be scored, and so that sampling
        # is checked before training; a bigram model trained on every word finds them itself
        # (and refuses an alphabet too large to sample before training: it needs V**2 floats)
        if args.split or args.context > 1:
            vocab = Vocabulary.from_words(words)
        if args.split:
            train, dev, test = split_words(words, args.split, args.split_seed)
            parts = {"train": train, "dev": dev, "test": test}
        else:
            parts = {"train": words, "dev": [], "test": []}
    if args.samples:   # checked now, not after minutes of training
        alphabet = counts.vocab if counts is not None else vocab
        check_sampling(None if alphabet is None else len(alphabet), args.context, args.samples)
    value = args.smoothing if args.model_kind == "counts" else args.reg
    options = _fit_options(args)
    options["counts"] = counts
    _say(args, f"training the {_describe(args)} on "
               f"{'the counts of ' if args.stream or args.dask is not None else ''}"
               f"{args.data or 'the embedded names'}", detail=True)
    start = time.perf_counter()
    with _step_log(args, newton=options.get("solver", "newton") == "newton") as log:
        if args.model_kind == "network":
            options["callback"] = log
        model = fit_kind(args.model_kind, None if counts is not None else parts["train"],
                         context=args.context, encoding=args.encoding, value=value,
                         vocab=vocab, **options)
    _say(args, f"trained in {time.perf_counter() - start:.2f} s: {model!r}", detail=True)
    if args.split and words is not None:   # the record is of all the words; the split
        model.settings.update(split="/".join(f"{100 * f:g}" for f in args.split),  # the part
                              split_seed=args.split_seed, data=data_record(words))
    if counts is not None and args.dask is not None:
        # No sha256: it would read every shard a second time (see docs/dask.md).
        model.settings["data"] = {"source": os.path.abspath(args.data), "files": len(files),
                                  "bytes": sum(os.path.getsize(f) for f in files),
                                  "num_words": int(counts.N[0].sum())}   # row 0: "." * K
    elif counts is not None:   # what data_record(words) would say
        source, sha256 = ((text.source, text.sha256) if text is not None        # read whole
                          else (EMBEDDED_NAMES if args.data is None               # or a stream
                                else os.path.abspath(args.data), file_sha256(args.data)))
        model.settings["data"] = {"source": source, "sha256": sha256,
                                  "num_words": int(counts.N[0].sum())}   # row 0: "." * K
    if args.out:
        model.save(args.out)   # first: nothing after training may lose the model
        _say(args, f"saved the model to {args.out}")
    # from counts no words are kept to score: the final loss is the training loss
    losses = None if plain or counts is not None else split_losses(
        model, {"train": parts["train"], "dev": parts["dev"]})
    if losses is not None:   # the test set is read once, after training
        losses["test"] = model.nll(parts["test"]) if parts["test"] else None
    samples = model.sample(args.samples, seed=args.seed, sampler=args.sampler)
    if args.json:
        out: dict[str, Any] = {"num_examples": model.settings["num_examples"],
                               "vocab_size": model.V, "losses": model.history,
                               "final_loss": model.final_loss}
        if not plain:
            out.update(kind=args.model_kind, context=args.context, eval=losses)
        _emit_json({**out, "samples": samples, "settings": model.settings,
                    "sampler": args.sampler, "model": args.out})
        return 0
    if plain:
        _say(args, f"trained on {model.settings['num_examples']} examples, vocabulary of "
                   f"{model.V}; final loss {model.final_loss:.7f} (mean NLL + L2 term)")
    elif losses is None:   # from counts
        _say(args, f"trained the {_describe(args)} on {model.settings['num_examples']} "
                   f"examples, vocabulary of {model.V}; final loss {model.final_loss:.7f} "
                   f"({'mean NLL' if args.model_kind == 'counts' else 'mean NLL + L2 term'})")
    else:
        _say(args, f"trained the {_describe(args)} on {model.settings['num_examples']} "
                   f"examples, vocabulary of {model.V}")
        assert losses is not None
        print(_format_losses(losses))
    if args.verbosity >= 2:
        import json  # here, not at the top: only -v needs it (start-up time)

        _say(args, f"settings: {json.dumps(_finite_or_none(model.settings))}", detail=True)
    for s in samples:
        print(s)
    return 0


#: train's options that each model shape does not use: giving one is an error, not a no-op.
_UNUSED = {
    "counts": ("--steps", "--lr", "--reg", "--engine", "--solver", "--init", "--dtype",
               "--encoding", "--log-every"),
    "context network": ("--engine", "--solver", "--init", "--lr", "--smoothing"),
    "newton": ("--lr", "--init", "--engine", "--smoothing"),
    "bigram network": ("--smoothing",),
}


def _refuse_unused(args: argparse.Namespace) -> None:
    """Refuse a train option the chosen model does not use, instead of ignoring it."""
    if args.model_kind == "counts":
        shape, what = "counts", "--model-kind counts (a count model is counted, not trained)"
    elif args.context > 1 or args.encoding == "concat":
        shape, what = "context network", (f"the {args.encoding} network with --context "
                                          f"{args.context} (solved exactly by Newton's method)")
    elif args.solver == "newton":
        shape, what = "newton", "--solver newton (the exact optimum, from W = 0)"
    else:
        shape, what = "bigram network", "the bigram network"
    unused = [o for o in _UNUSED[shape] if o in args.given]
    if "--split-seed" in args.given and not args.split:
        unused.append("--split-seed")
        what += " without --split"
    if unused:
        raise SettingsError(f"{' and '.join(unused)} {'does' if len(unused) == 1 else 'do'} "
                            f"not apply to {what}: leave {'it' if len(unused) == 1 else 'them'} "
                            "out.")
    if args.stream and args.dask is not None:
        raise SettingsError("--stream and --dask are two ways of counting --data (here, or on "
                            "a Dask cluster): give one of them.")
    if "--dask-timeout" in args.given and not args.dask:
        raise SettingsError("--dask-timeout applies only to --dask ADDRESS (a scheduler to "
                            "wait for): leave it out.")
    if args.dask is not None and args.data is None:
        raise SettingsError("--dask counts files on a cluster: give them with --data, e.g. "
                            "--data 'corpus/*.txt' (quoted).")
    flag = "--stream" if args.stream else "--dask" if args.dask is not None else None
    if flag and args.data == STDIN:
        raise SettingsError(f"{flag} counts files, which standard input is not: give "
                            f"--data PATH, or leave out {flag} to read standard input.")
    if flag and args.split:
        raise SettingsError(f"{flag} counts the whole data without keeping its words, so it "
                            f"cannot be split: leave out --split or {flag}.")
    if flag and args.engine != "counts":
        raise SettingsError(f"{flag} trains from counts, which the {args.engine} engine "
                            "cannot use: leave out --engine, or use --solver newton.")


def _format_losses(losses: dict[str, float | None]) -> str:
    return "mean NLL per character (no L2 term): " + ", ".join(
        f"{k} {v:.6f}" for k, v in losses.items() if v is not None)


# --- sample, score, plot


def _add_sample_parser(sub: Any) -> None:
    p = _command(sub, "sample", (_json_flag, _model_flag),
                 help="sample words from a saved model",
                 description="Sample words from a saved model of any kind, one per line "
                             "(-n 0 prints nothing).")
    p.add_argument("-n", type=_positive_int, default=15, help="how many (default 15)")
    p.add_argument("-s", "--seed", type=_seed, default=NOTEBOOK_SEED,
                   help=f"seed of sampling (default {NOTEBOOK_SEED})")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=DEFAULT_SAMPLER,
                   help=f"see 'minibigram train --help' (default {DEFAULT_SAMPLER})")
    p.add_argument("--temperature", type=_finite_float, default=1.0,
                   help="below 1 sharpens, above 1 flattens (default 1); 0 is greedy: the "
                        "likeliest next character every time (on a tie, the first in the "
                        "vocabulary), the same words whatever the seed")
    p.add_argument("--top-k", type=_positive_int, metavar="K",
                   help="draw only among the K likeliest next characters (default: all)")
    p.add_argument("--mark", action="store_true",
                   help="mark each sample in-train, in-dev, in-test or new (the model's split "
                        "of --data; without a split, in-train or new; default: no marks)")
    p.add_argument("-d", "--data", metavar="PATH",
                   help="the training data, for --mark (default: the data the model records, "
                        "if it is there unchanged, else the embedded names)")
    p.set_defaults(func=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> int:
    from .io import load_model  # here: train needs none (start-up time)

    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    start = time.perf_counter()
    samples = model.sample(args.n, seed=args.seed, sampler=args.sampler,
                           temperature=args.temperature, top_k=args.top_k)
    _say(args, f"sampled {len(samples)} words in {time.perf_counter() - start:.3f} s "
               f"({args.sampler})", detail=True)
    marks = (sample_marks(samples, model_split(model, _model_words(model, args.data, args)))
             if args.mark else None)
    if args.json:
        out: dict[str, Any] = {"samples": samples, "seed": args.seed, "sampler": args.sampler}
        if marks is not None:
            out["marks"] = marks
        _emit_json(out)
    elif marks is not None:
        width = max((len(s) for s in samples), default=0)
        print("\n".join(f"{s:<{width}}  {m}" for s, m in zip(samples, marks)))
    elif samples:
        print("\n".join(samples))
    return 0


def _add_score_parser(sub: Any) -> None:
    p = _command(sub, "score", (_json_flag, _model_flag),
                 help="score words under a saved model, one line per word",
                 description="Score words: one line per word, tab-separated: the word, "
                             "its mean negative log-likelihood per predicted character "
                             "(end token included; lower is more name-like) and its "
                             "natural log-probability. Words come from the arguments; "
                             "an argument '-' reads words from standard input, and "
                             "--file FILE (repeatable) from a file, one word per line "
                             "(blank lines skipped), in chunks: memory does not grow "
                             "with the number of words. Arguments are scored first, in "
                             "order ('-' in its place), then the files. With --json: "
                             "JSON Lines, one object per word.")
    p.add_argument("words", nargs="*", metavar="WORD",
                   help="a word to score; '-' reads words from standard input (default: "
                        "none; give words, '-' or --file)")
    p.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                   help="read words from FILE, one per line; repeatable (default: none)")
    p.add_argument("--skip-unknown", action="store_true",
                   help="remove the characters the model cannot score (unknown ones and the "
                        "boundary '.') and score the rest; a 'skipped' column lists what was "
                        "removed. A word left with nothing is not scored: its line has empty "
                        "scores (JSON null and an 'error'), stderr names it, and the exit "
                        "status is 2 (default: such a character is an error)")
    p.set_defaults(func=_cmd_score)


_SCORE_CHUNK = 1 << 20   # bytes of words read, scored and written at a time


def _word_sources(args: argparse.Namespace) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """(source name, chunks of words) in the documented order: arguments, '-', files."""
    pending: list[str] = []
    for w in args.words:
        if w == STDIN:
            if pending:
                yield "the arguments", iter([pending])
                pending = []
            yield STDIN_NAME, read_word_chunks(sys.stdin.buffer, STDIN_NAME, _SCORE_CHUNK)
        elif w.strip():
            pending.append(w)
    if pending:
        yield "the arguments", iter([pending])
    for path in args.file:
        with open_words(path) as f:
            yield path, read_word_chunks(f, path, _SCORE_CHUNK)


def _score_lines(model: Any, words: list[str], skip: bool, as_json: bool,
                 emptied: list[str]) -> str:
    """The output lines of one chunk of words (see score's --help)."""
    import json  # here, not at the top (start-up time); loading the model imported it
    dropped = model.dropped(words) if skip else None
    if dropped is not None:
        empty = [bool(w) and len(d) == len(w) for w, d in zip(words, dropped)]
        kept = [w for w, e in zip(words, empty) if not e]
    else:
        empty, kept = [False] * len(words), words
    lp, per_char = model.word_scores(kept, skip_unknown=skip)    # (m,), (m,)
    lps, nll = lp.tolist(), per_char.tolist()
    out, k = [], 0
    for i, w in enumerate(words):
        if empty[i]:
            emptied.append(w)
            if as_json:
                out.append(json.dumps({"word": w, "nll": None, "log_prob": None,
                                       "skipped": dropped[i] if dropped else "",
                                       "error": "no character the model knows"},
                                      ensure_ascii=False))
            else:
                out.append(f"{w}\t\t\t{dropped[i] if dropped else ''}")
            continue
        a, b = nll[k], lps[k]
        k += 1
        if as_json:
            row: dict[str, Any] = {"word": w, "nll": _finite(a), "log_prob": _finite(b)}
            if dropped is not None:
                row["skipped"] = dropped[i]
            out.append(json.dumps(row, ensure_ascii=False))
        else:
            out.append(f"{w}\t{a!r}\t{b!r}" + (f"\t{dropped[i]}" if dropped is not None
                                                 else ""))
    return "\n".join(out) + "\n" if out else ""


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _cmd_score(args: argparse.Namespace) -> int:
    from .io import load_model  # here: train needs none (start-up time)

    if not args.words and not args.file:
        raise DataError("there are no words to score: give words, '-' to read them from "
                        "standard input, or --file FILE.")
    for path in args.file:   # every file is checked before the first line is written
        with open_words(path):
            pass
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    emptied: list[str] = []
    for source, chunks in _word_sources(args):
        for words in chunks:
            try:
                sys.stdout.write(_score_lines(model, words, args.skip_unknown, args.json,
                                              emptied))
            except DataError as e:   # a file's or stdin's word is named with its source
                if source == "the arguments":
                    raise
                raise DataError(f"{source}: {e}") from None
    sys.stdout.flush()
    for w in emptied:
        print(f"minibigram: error: the word {w!r} has no character the model knows: it was "
              "not scored (its line has empty scores).", file=sys.stderr)
    return 2 if emptied else 0


def _add_plot_parser(sub: Any) -> None:
    p = _command(sub, "plot", (_model_flag,),
                 help="draw a saved model's bigram table (or loss curve) to a PNG",
                 description="Draw the V x V table of the model's next-character "
                             "probabilities, each cell labelled with its bigram and value, "
                             "like the lecture's figure; or, with --loss-curve, the loss "
                             "of every training step. Needs matplotlib: "
                             'pip install ".[plot]" in a minibigram checkout.')
    p.add_argument("-o", "--out", required=True, metavar="FIGURE.png",
                   help="image file to write; the format follows the extension (png, svg, pdf) "
                        "(required; no default)")
    p.add_argument("--loss-curve", action="store_true",
                   help="draw the training loss per step instead of the table (default: the table)")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    from .io import check_writable, load_model  # here: train needs none (start-up time)
    from .plot import plot_bigrams, plot_loss_curve, save_figure

    check_writable(args.out, inputs=(args.model,))
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    fig = (plot_loss_curve if args.loss_curve else plot_bigrams)(model)
    save_figure(fig, args.out)
    _say(args, f"wrote {args.out}")
    return 0



def _add_gradcheck_parser(sub: Any) -> None:
    p = sub.add_parser("gradcheck", help="check every engine's gradient by finite differences",
                       description="Compare each engine's hand-derived gradient (or, with "
                                   "--hessian, Hessian-vector product) with finite differences "
                                   "on random problems; one row per check, each pass, fail or "
                                   "inconclusive (rounding hides the answer), and the rule "
                                   "under the table. float32 rows check the float32 gradient "
                                   "with float32 tolerances. Exit status 1 unless every check "
                                   "passes.")
    p.add_argument("--engine", action="append", choices=OBJECTIVES,
                   help="engine to check; repeat for several (default: all; 'concat' is the "
                        "concatenated-one-hot n-gram network)")
    p.add_argument("--dtype", action="append", choices=DTYPES,
                   help="dtype of W; repeat for several (default: both)")
    p.add_argument("--context", type=_list_of(_context), default=[1], metavar="K,...",
                   help="context lengths (default 1: bigrams); for K > 1 the three engines "
                        "check the joint encoding, W of shape (contexts, V)")
    p.add_argument("--max-entries", type=_positive_int, default=1000, metavar="M",
                   help="check at most M entries of each W (with --hessian: M columns of "
                        "the Hessian; default 1000; 0: all)")
    p.add_argument("--hessian", action="store_true",
                   help="check the hand-derived Hessian-vector products (counts_hvp for the "
                        "joint engines, concat_hvp for concat) against differences of the "
                        "gradient (default: check the gradients)")
    p.add_argument("-s", "--seed", type=_seed, default=0,
                   help="seed of the random problems (default 0)")
    _json_flag(p)
    p.set_defaults(func=_cmd_gradcheck)


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from .checks import NOISE_RULE, PASS_RULE
    from .problems import CHECKED_ENGINES, check_engines

    engines = tuple(dict.fromkeys(args.engine or CHECKED_ENGINES))
    dtypes = tuple(dict.fromkeys(args.dtype or ("float64", "float32")))
    start = time.perf_counter()
    rows = check_engines(engines, dtypes, tuple(dict.fromkeys(args.context)), seed=args.seed,
                         max_entries=args.max_entries or None, hessian=args.hessian)
    _say(args, f"{len(rows)} checks in {time.perf_counter() - start:.2f} s", detail=True)
    failed = sum(not r.ok for _, r in rows)
    if args.json:
        _emit_json({"ok": failed == 0, "checks": [
            {**case, "kind": r.kind, "verdict": r.verdict, "max_ratio": r.max_ratio,
             "max_abs_error": r.max_abs_error, "max_rel_error": r.max_rel_error,
             "noise_floor": r.noise_floor, "rtol": r.rtol, "atol": r.atol,
             "n_checked": r.n_checked, "ok": r.ok} for case, r in rows]})
        return 1 if failed else 0
    print(f"{'engine':<7} {'K':>2} {'W shape':<13} {'n':>4} {'reg':>5} {'dtype':<8} "
          f"{'checked':>7} {'max |a-n|':>10} {'max ratio':>10}  result")
    for case, r in rows:
        print(f"{case['engine']:<7} {case['K']:>2} {str(tuple(case['shape'])):<13} "
              f"{case['n']:>4} {case['reg']:>5g} {case['dtype']:<8} {r.n_checked:>7} "
              f"{r.max_abs_error:>10.2e} {r.max_ratio:>10.2e}  "
              f"{'pass' if r.ok else r.verdict.upper()}")
    print(f"{len(rows) - failed} of {len(rows)} checks passed (rule {PASS_RULE}, where "
          f"{NOISE_RULE}; ratio = |a - n| / (atol + rtol * |n| + noise), at most 1 to pass)")
    for case, r in rows:
        if not r.ok:
            print(f"\n{case['engine']} K={case['K']} {case['dtype']} W {tuple(case['shape'])}:"
                  f"\n{r}")
    return 1 if failed else 0


# --- eval, sweep


def _add_eval_parser(sub: Any) -> None:
    p = _command(sub, "eval", (_json_flag, _model_flag, _eval_data_flag),
                 help="train/dev/test loss of a saved model",
                 description="Mean NLL per character (without the L2 term) of a saved "
                             "model (any kind) on a word list. With a split (given, or "
                             "the one the model was trained with), on each of train, dev "
                             "and test.")
    p.add_argument("--split", type=_split, metavar="TR/DEV/TE",
                   help="default: the model's own split, if it was trained with one; otherwise no "
                        "split (every word of --data)")
    p.add_argument("--split-seed", type=_seed, help="default: the model's own split seed, or 42")
    p.set_defaults(func=_cmd_eval)


def _model_words(model: Any, data: str | None, args: argparse.Namespace) -> Any:
    """--data, else the model's recorded training data if it is there unchanged, else the
    embedded names, saying on stderr why and what is used instead."""
    if data is not None:
        return load_words(data)
    try:
        return recorded_words(model.settings.get("data"))
    except DataError as why:
        _note(args, f"{why}; using the embedded names (give --data to choose).")
        return load_words()


def _cmd_eval(args: argparse.Namespace) -> int:
    from .io import load_model  # here: train needs none (start-up time)

    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    words = _model_words(model, args.data, args)
    own = model.settings.get("data")
    same = isinstance(own, dict) and own.get("sha256") == data_record(words)["sha256"]
    if args.split and "split" not in model.settings and (same or not isinstance(own, dict)):
        _note(args, ("the model was trained on all of these words, so "
                                           "its dev and test words were seen in training"
             if same else "the model records no split: if it was trained on these words, "
                          "its dev and test words were seen in training") + ".")
    elif (args.split or args.split_seed is not None) and "split" in model.settings and same \
            and ((args.split and parse_split(str(model.settings["split"])) != args.split)
                 or (args.split_seed is not None
                     and args.split_seed != model.settings.get("split_seed"))):
        _note(args, "this split is not the model's own "
                   f"({model.settings['split']}, seed {model.settings.get('split_seed')}): its "
                   "dev and test words may have been in the model's training part.")
    if args.split or "split" in model.settings:
        losses = split_losses(model, model_split(model, words, args.split, args.split_seed))
    else:
        losses = split_losses(model, {"all": words})
    if args.json:
        _emit_json({"model": args.model, "eval": losses})
    else:
        print(_format_losses(losses))
    return 0


def _add_sweep_parser(sub: Any) -> None:
    p = _command(sub, "sweep", (_json_flag, _data_flag),
                 help="tune reg / smoothing / context on dev, report test once",
                 description="Train every setting on the train split, print the dev "
                             "loss of each, choose the best per model kind and context "
                             "on dev, and only then compute the chosen models' test loss.")
    p.add_argument("--model-kind", type=_list_of(str), default=["network", "counts"],
                   metavar="KINDS", help="network,counts (default both)")
    p.add_argument("--context", type=_list_of(_context), default=[1, 2, 3], metavar="K,...",
                   help="context lengths (default 1,2,3)")
    p.add_argument("--reg", type=_list_of(_finite_float), metavar="R,...",
                   help="network L2 strengths (default 0,0.001,0.01,0.1,1; without 0 for "
                        "--encoding concat, whose exact solver needs reg > 0)")
    p.add_argument("--smoothing", type=_list_of(_finite_float), default=[0, 0.01, 0.1, 0.5, 1],
                   metavar="k,...", help="count-model add-k values (default 0,0.01,0.1,0.5,1)")
    p.add_argument("--encoding", choices=ENCODINGS, default="joint",
                   help="the network's input for K > 1 (see 'minibigram train --help'; "
                        "default joint)")
    p.add_argument("--split", type=_split, default=(0.8, 0.1, 0.1), metavar="TR/DEV/TE",
                   help="random split by word (default 80/10/10)")
    p.add_argument("--split-seed", type=_seed, default=42, help="seed of the split (default 42)")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    words = load_words(args.data)
    r = sweep(words, kinds=args.model_kind, contexts=args.context, regs=args.reg,
              smoothings=args.smoothing, encoding=args.encoding, fractions=args.split,
              split_seed=args.split_seed)
    if args.json:
        _emit_json(r)
        return 0
    sz = r["sizes"]
    print(f"split {'/'.join(f'{100 * f:g}' for f in r['split'])} (seed {r['split_seed']}): "
          f"{sz['train']} train, {sz['dev']} dev, {sz['test']} test words; mean NLL per "
          "character")
    print(f"{'model':<8} {'K':>2} {'setting':<16} {'train':>8} {'dev':>8}")
    for row in r["rows"]:
        name = PARAM[row["kind"]]
        mark = " <- best on dev" if row["chosen"] else ""
        print(f"{row['kind']:<8} {row['context']:>2} {name + ' ' + format(row[name], 'g'):<16} "
              f"{row['train']:>8.4f} {row['dev']:>8.4f}{mark}")
    print("\nchosen on dev, then scored once on test:")
    print(f"{'model':<8} {'K':>2} {'setting':<16} {'train':>8} {'dev':>8} {'test':>8}")
    for g in r["groups"]:
        name = PARAM[g["kind"]]
        test = "-" if g["test"] is None else f"{g['test']:.4f}"
        print(f"{g['kind']:<8} {g['context']:>2} {name + ' ' + format(g[name], 'g'):<16} "
              f"{g['train']:>8.4f} {g['dev']:>8.4f} {test:>8}")
    b = r["best"]
    print(f"\nbest on dev: {b['kind']} K={b['context']} {PARAM[b['kind']]} "
          f"{b[PARAM[b['kind']]]:g}: dev {b['dev']:.4f}, test "
          f"{'-' if b['test'] is None else format(b['test'], '.4f')}")
    _say(args, f"{len(r['rows'])} settings in {r['seconds']:.1f} s")
    return 0


# --- info, export


def _add_info_parser(sub: Any) -> None:
    p = _command(sub, "info", (_json_flag, _model_flag),
                 help="what a saved model is and what it was trained on",
                 description="Show a saved model's kind, context length K, vocabulary "
                             "size V, encoding, final loss, every setting, and its "
                             "provenance: the training data (source, sha256, number of "
                             "words), split and split seed, and the minibigram version "
                             "that trained it.")
    p.set_defaults(func=_cmd_info)


def _cmd_info(args: argparse.Namespace) -> int:
    from .io import load_model  # here: train needs none (start-up time)

    model = load_model(args.model)
    st = model.settings
    info: dict[str, Any] = {
        "model": args.model, "kind": model.kind, "context": model.K, "vocab_size": model.V,
        "vocab": "".join(model.vocab.itos), "encoding": st.get("encoding"),
        "final_loss": model.final_loss, "steps_recorded": len(model.history),
        "data": st.get("data"), "split": st.get("split"), "split_seed": st.get("split_seed"),
        "minibigram": st.get("minibigram"), "settings": st}
    if args.json:
        _emit_json(info)
        return 0
    data = info["data"] if isinstance(info["data"], dict) else {}
    unknown = "not recorded"
    lines = [("model", args.model), ("kind", model.kind), ("context K", model.K),
             ("vocabulary V", f"{model.V}: {info['vocab']!r}"),
             ("encoding", info["encoding"] or "-"),
             ("final loss", unknown if model.final_loss is None else f"{model.final_loss:.7f}"),
             ("data source", data.get("source") or (unknown if not data else "a list of words")),
             ("data sha256", data.get("sha256", unknown)),
             ("data words", data.get("num_words", unknown)),
             ("split", f"{info['split']} (seed {info['split_seed']})" if info["split"]
              else "none: trained on all the data"),
             ("minibigram", info["minibigram"] or unknown)]
    lines += [(f"setting {k}", v) for k, v in st.items()
              if k not in ("data", "split", "split_seed", "minibigram")]
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"{k:<{width}}  {v}")
    return 0


def _add_export_parser(sub: Any) -> None:
    from .export import FORMATS

    p = _command(sub, "export", (_model_flag,),
                 help="write a saved model as JSON or ARPA, readable without numpy",
                 description="Write a saved model's next-character log-probabilities "
                             "as JSON (schema minibigram-lm version 1, see "
                             "docs/embedding.md) or as an ARPA n-gram file (SRILM, "
                             "KenLM), for any model kind.")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="json (schema minibigram-lm 1) or arpa (required; no default)")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="the file to write "
                   "(replaced atomically if it is a regular file; required; no default)")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_model
    from .io import check_writable, load_model  # here: train needs none (start-up time)

    check_writable(args.out, inputs=(args.model,))
    export_model(load_model(args.model), args.out, args.format)
    print(f"wrote {args.out}")
    return 0


#: Every command, in the order ``minibigram --help`` lists them, and what adds its parser.
_COMMANDS: dict[str, Callable[[Any], None]] = {
    "train": _add_train_parser, "sample": _add_sample_parser, "score": _add_score_parser,
    "gradcheck": _add_gradcheck_parser, "plot": _add_plot_parser, "eval": _add_eval_parser,
    "sweep": _add_sweep_parser, "info": _add_info_parser, "export": _add_export_parser}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``minibigram`` parser: of every command, or of ``command`` alone.

    ``main`` asks for the command named first on its command line only (a dozen ms
    of start-up saved: argparse builds each option's help); anything else (none,
    ``--help``, a misspelling) gets every command, so help and errors list them all.
    """
    parser = _Parser(prog="minibigram",
                     description="The makemore part-1 bigram network in NumPy.")
    parser.add_argument("--version", action="version", version=f"minibigram {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for name, add in _COMMANDS.items():
        if command not in _COMMANDS or name == command:
            add(sub)
    for p in sub.choices.values():   # every command: -q/-v, and args.given from its options
        _status_flags(p)
        p.command = True
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    # 0: no status (-q, or --json without -v); 1: status; 2: status and detail (-v)
    args.verbosity = (0 if args.quiet else 2 if args.verbose
                      else 0 if getattr(args, "json", False) else 1)
    try:
        with warnings.catch_warnings():
            if args.quiet:   # -q: stderr stays empty on success, warnings included
                warnings.simplefilter("ignore")
            status = int(args.func(args))
        sys.stdout.flush()   # here, so a full disk is reported below, not at exit
        return status
    except MinibigramError as e:
        print(f"minibigram: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. "| head"); stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:
        if e.filename is not None:   # a file the library reported already; not stdout
            raise
        # stdout cannot take the output (a full disk, a closed device): say so, once
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"minibigram: error: cannot write the output ({e.strerror or e}): check the "
              "free space of where stdout goes.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Model files are written to a temporary file and renamed, so nothing is half-written.
        print("minibigram: interrupted; no model file was left half-written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
