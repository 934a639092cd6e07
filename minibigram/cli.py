"""The ``minibigram`` command: parse the command line, call the library, print.

Each command has its parser in ``_add_<name>_parser`` and its work in ``_cmd_<name>``:
one library call (training is :func:`minibigram.train`) and the printing of its
result. An option not given is None, so the library applies its defaults and its
rules about options that do not fit together; the help states every default.
stdout is the product (samples, scores, tables, JSON, ``step N loss``), stderr the
status (``-q``: none, ``-v``: more; see docs/command-line.md). Bad input is one line
``minibigram: error: ...`` and status 2; Ctrl-C one line and status 130; any other
exception is a bug, so Python prints its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from . import options as opt
from .engines import ENGINES, OBJECTIVES
from .errors import (
    MinibigramError,
)
from .evaluate import (
    Scores,
    eval_records,
    model_split,
    model_words,
    record_losses,
    sample_marks,
    score_lines,
    sweep,
    sweep_report,
    unknown_policy,
)
from .export import FORMATS, plan_export
from .modelfiles import load_model
from .models import DTYPES, ENCODINGS, INITS, NOTEBOOK_SEED, SOLVERS, UNKNOWN
from .perplexity import Perplexity, combine
from .progress import wanted
from .safewrite import check_writable
from .sampling import DEFAULT_SAMPLER, SAMPLERS
from .smoothing import METHODS as SMOOTHING_METHODS
from .stdio import json_line as _json
from .stdio import open_standard_streams
from .training import (
    DEFAULTS,
    FAMILIES,
    TrainSettings,
    info_report,
    model_info,
    train,
    train_settings,
)
from .version import __version__
from .words import load_words


def _say(args: argparse.Namespace, text: str, detail: bool = False) -> None:
    """A status line on stderr: unless -q (or --json without -v); a ``detail`` only with -v."""
    if args.verbosity >= (2 if detail else 1):
        print(text, file=sys.stderr, flush=True)


def _show_note(message: Warning | str, *_: Any, **__: Any) -> None:
    """A library warning as one line on stderr, ``minibigram: note: ...``."""
    print(f"minibigram: note: {message}", file=sys.stderr, flush=True)


def _format_losses(losses: dict[str, float | None]) -> str:
    return "mean NLL per character (no L2 term): " + ", ".join(
        f"{k} {v:.6f}" for k, v in losses.items() if v is not None)


def _add_train_parser(sub: Any) -> None:
    d = DEFAULTS
    p = opt.add_command(sub, "train", ("json", "data"),
                 help="train the bigram network and print samples", description=(
        "Train the bigram network by full-batch gradient descent, as in makemore part 1, then "
        "print samples; the defaults are the notebook's. The loss per step and the final loss "
        "include the L2 term reg * mean(W**2); 'mean NLL per character' (with --split, or "
        "another model) leaves it out, as 'eval' does. An option the model would not use is "
        "an error."))
    p.add_argument("-s", "--seed", type=opt.seed,
                   help=f"seed of the initial W and of sampling (default {d.seed})")
    p.add_argument("--sampler", choices=list(SAMPLERS),
                   help="torch-cdf = torch 1.x (the published notebook and the lecture), "
                        "torch-mkl = torch 2.0-2.6, torch = torch 2.7 and newer, numpy "
                        f"(default {d.sampler})")
    p.add_argument("--stream", action="store_true", help=(
        "count --data in 1 MiB chunks instead of reading it whole: memory stays bounded for any "
        "corpus (the bigram network needs the counts engine or --solver newton; no --split; "
        "default: read the words)"))
    p.add_argument("--dask", nargs="?", const=True, metavar="ADDRESS", help=(
        "count the files of --data (a quoted glob such as 'corpus/*.txt') on a Dask cluster, as "
        "--stream does: at the scheduler ADDRESS, or without one on a LocalCluster of one worker "
        "per core; needs pip install \".[dask]\" (default: no Dask)"))
    p.add_argument("--dask-timeout", type=opt.real("the Dask timeout", True), metavar="SECONDS",
                   help="with --dask ADDRESS: how long to wait for the scheduler, then for a "
                        f"worker (default {d.dask_timeout:g})")
    p.add_argument("--steps", type=opt.whole("the number of steps"),
                   help=f"gradient steps (default {d.steps})")
    p.add_argument("--lr", type=opt.real("the learning rate", True),
                   help=f"learning rate (default {d.lr:g})")
    p.add_argument("--reg", type=opt.real("reg"),
                   help=f"L2 strength, reg * mean(W**2) (default {d.reg:g})")
    p.add_argument("--engine", choices=ENGINES, help="how the loss and gradient are computed; "
                   f"same numbers (default {d.engine})")
    p.add_argument("--dtype", choices=DTYPES, help=f"dtype of W and training (default {d.dtype})")
    p.add_argument("--solver", choices=SOLVERS, help=(
        f"gd: the notebook's gradient steps (default {d.solver}); newton: the exact optimum, in "
        "float64, to max|dW| < 1e-10 (--steps caps the iterations; --lr is unused)"))
    p.add_argument("--init", choices=INITS, help="initial W: torch = the notebook's torch.randn, "
                   f"replayed without torch; normal = numpy's default_rng (default {d.init})")
    p.add_argument("-n", "--samples", type=opt.whole("the number of samples"),
                   help=f"names to sample after training (default {d.samples})")
    p.add_argument("-o", "--out", metavar="MODEL.npz",
                   help="save the trained model here (default: not saved)")
    p.add_argument("--log-every", type=opt.whole("log_every"), metavar="N", help=(
        f"print the loss every N steps (default {d.log_every}, like the notebook; 0: never)"))
    opt.add_family_flag(p, choices=FAMILIES, help="network: the trained network; counts: "
                        f"the smoothed count model (default {d.family})")
    p.add_argument("--context", type=opt.context_length, metavar="K",
                   help=f"characters of context (default {d.context}: bigrams)")
    p.add_argument("--encoding", choices=ENCODINGS, help=(
        "network input for K > 1: one row per seen context (joint) or K one-hots (concat); both "
        f"solved by Newton's method in at most --steps iterations (concat needs --reg > 0; "
        f"default {d.encoding})"))
    p.add_argument("--smoothing", type=opt.real("smoothing"), metavar="k",
                   help="k of add-k smoothing; alone, it chooses --method add-k (default 1 for "
                        "--context 1, as the notebook; 10**-K for K >= 2)")
    p.add_argument("--method", choices=SMOOTHING_METHODS, help=(
        "the count model's smoothing: add-k (the notebook's table), or a backoff model down to "
        "the unigram: kneser-ney, modified-kneser-ney, witten-bell, absolute (default: add-k "
        "for --context 1, as the notebook; modified-kneser-ney for K >= 2, whose samples stay "
        "near the training words; add-k with --smoothing, kneser-ney with --discount)"))
    p.add_argument("--discount", type=opt.real("discount"), metavar="D", help=(
        "the one discount of --method kneser-ney or absolute; alone, it chooses kneser-ney "
        "(default: estimated per order)"))
    p.add_argument("--unk", action="store_true", default=None, help=(
        "reserve probability for characters never seen, as <unk> (a backoff model; score them "
        "with 'score --unknown unk'; default: none)"))
    p.add_argument("--split", type=opt.split, metavar="TR/DEV/TE", help="random split by word, "
                   "e.g. 80/10/10 (default: no split, train on every word)")
    p.add_argument("--split-seed", type=opt.seed,
                   help=f"seed of the split (default {d.split_seed})")
    p.set_defaults(func=_cmd_train)


def _step_printer() -> Callable[[int, float], None]:
    """Print ``step N  loss L`` lines, flushed at most every 50 ms: live in a pipe too
    (``| tee``), without a write per line when a step takes microseconds."""
    flushed = [time.perf_counter()]

    def show(step: int, loss: float) -> None:
        print(f"step {step:4d}  loss {loss:.7f}")
        if time.perf_counter() - flushed[0] >= 0.05:
            sys.stdout.flush()
            flushed[0] = time.perf_counter()
    return show


def _cmd_train(args: argparse.Namespace) -> int:
    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainSettings)}
    if args.verbosity >= 2:
        s = train_settings(args.data, **options)
        _say(args, f"training the {s.describe()} on {'the counts of ' if s.counted else ''}"
                   f"{args.data or 'the embedded names'}", detail=True)
    r = train(args.data, out=args.out, callback=None if args.json else _step_printer(),
              progress=wanted(args.verbosity > 0), **options)
    s, model = r.settings, r.model
    if s.dask is not None:
        _say(args, r.count_summary())
    _say(args, f"trained in {r.seconds['fit']:.2f} s: {model!r}", detail=True)
    if args.out:
        _say(args, f"saved the model to {args.out}")
    if args.json:
        print(_json(r.as_dict()))
        return 0
    _say(args, r.summary())
    if s.notebook_bigram and (gap := r.gap_summary()):
        _say(args, gap)
    if r.eval is not None:
        print(_format_losses(r.eval))
    _say(args, f"settings: {_json(model.settings)}", detail=True)
    for w in r.samples:
        print(w)
    return 0


def _add_sample_parser(sub: Any) -> None:
    p = opt.add_command(sub, "sample", ("json", "model"),
                 help="sample words from a saved model", description="Sample words from a "
                 "saved model of any kind, one per line (-n 0 prints nothing).")
    p.add_argument("-n", type=opt.whole("the number of samples"), default=15,
                   help="how many (default 15)")
    p.add_argument("-s", "--seed", type=opt.seed, default=NOTEBOOK_SEED,
                   help=f"seed of sampling (default {NOTEBOOK_SEED})")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=DEFAULT_SAMPLER,
                   help=f"see 'minibigram train --help' (default {DEFAULT_SAMPLER})")
    p.add_argument("--temperature", type=opt.real("the temperature"), default=1.0, help=(
        "below 1 sharpens, above 1 flattens (default 1); 0 is greedy: the likeliest next "
        "character every time (on a tie, the first in the vocabulary), whatever the seed"))
    p.add_argument("--top-k", type=opt.whole("top_k", 1), metavar="K",
                   help="draw only among the K likeliest next characters (default: all)")
    p.add_argument("--mark", action="store_true", help="mark each sample in-train, in-dev, "
                   "in-test or new (the model's split of --data; default: no marks)")
    p.add_argument("-d", "--data", metavar="PATH", help="the training data, for --mark (default: "
                   "the data the model records, if it is there unchanged, else the embedded names)")
    p.set_defaults(func=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    parts = model_split(model, model_words(model, args.data)) if args.mark else None
    start = time.perf_counter()
    blocks = model.iter_samples(args.n, seed=args.seed, sampler=args.sampler,
                                temperature=args.temperature, top_k=args.top_k)
    try:
        count = _write_samples(args, blocks, parts)
    except BrokenPipeError:
        # the reader has all it wants (| head): stop at once, quietly, as yes | head does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    _say(args, f"sampled {count} words in {time.perf_counter() - start:.3f} s "
               f"({args.sampler})", detail=True)
    return 0


def _write_samples(args: argparse.Namespace, blocks: Any, parts: Any) -> int:
    """Write the sampled words block by block as they are drawn; return how many."""
    count = 0
    if args.json:   # one JSON object, written as it grows
        marks: list[str] = []
        sys.stdout.write('{"samples": [')
        for block in blocks:
            sys.stdout.write((", " if count else "") + ", ".join(map(_json, block)))
            count += len(block)
            if parts is not None:
                marks += sample_marks(block, parts)
        tail = f', "seed": {args.seed}, "sampler": {_json(args.sampler)}'
        if parts is not None:
            tail += f', "marks": {_json(marks)}'
        sys.stdout.write("]" + tail + "}\n")
        sys.stdout.flush()
        return count
    for block in blocks:
        if parts is not None:
            width = max((len(w) for w in block), default=0)
            text = "".join(f"{w:<{width}}  {m}\n"
                           for w, m in zip(block, sample_marks(block, parts)))
        else:
            text = "\n".join(block) + "\n" if block else ""
        sys.stdout.write(text)
        count += len(block)
    sys.stdout.flush()
    return count


def _add_score_parser(sub: Any) -> None:
    p = opt.add_command(sub, "score", ("json", "model"),
                 help="score words under a saved model, one line per word", description=(
        "One tab-separated line per word: the word, its mean negative log-likelihood per "
        "predicted character (end token included; lower is more name-like) and its natural "
        "log-probability. The arguments are scored first ('-' reads standard input in its "
        "place), then each --file, one word per line, in chunks: memory does not grow with the "
        "number of words. With --json: JSON Lines, one object per word."))
    p.add_argument("words", nargs="*", metavar="WORD", help="a word to score; '-' reads words "
                   "from standard input (default: none; give words, '-' or --file)")
    p.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                   help="read words from FILE, one per line; repeatable (default: none)")
    p.add_argument("--unknown", choices=UNKNOWN, help=(
        "a word with a character the model never saw: error = stop there, every result before "
        "it printed, with an error naming its line (exit 2); skip = leave the word out (stderr "
        "says how many); unk = score it with what the model gives unseen characters (a model "
        "that reserves nothing: its known characters) and print the number of unknown "
        "characters in a 4th column (default error)"))
    p.add_argument("--skip-unknown", action="store_const", const="skip", dest="skip_unknown",
                   help="the same as --unknown skip (default: off)")
    p.add_argument("--perplexity", action="store_true", help=(
        "after the scores, the perplexity record of all the words: total log-probability "
        "(nats, log10), perplexity per token, character and word, bits per character, "
        "unknowns (with --json: a last line {\"perplexity\": {...}}; default: not printed)"))
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    unknown = unknown_policy(args.unknown, args.skip_unknown)
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    scores = Scores(model, args.words, args.file, unknown=unknown)
    try:
        for rows in scores:   # each chunk written as it is scored
            sys.stdout.write(score_lines(rows, args.json))
    finally:
        sys.stdout.flush()    # every result before an error is out before the error
    for line in scores.status():
        _say(args, line)
    if args.perplexity and scores.records:
        _print_perplexity({"all": combine(scores.records)}, args.json)
    return 0


def _add_plot_parser(sub: Any) -> None:
    p = opt.add_command(sub, "plot", ("model",),
                 help="draw a saved model's bigram table (or loss curve) to a PNG", description=(
        "Draw the V x V bigram table, each cell labelled with its bigram and value, like the "
        "lecture's figure: a count model's counts, a network's next-character probabilities; "
        "or, with --loss-curve, the loss of every training step. Needs matplotlib: "
        'pip install ".[plot]" in a minibigram checkout.'))
    p.add_argument("-o", "--out", required=True, metavar="FIGURE.png", help="image file to "
                   "write, its format from the extension: png, svg, pdf (required; no default)")
    p.add_argument("--loss-curve", action="store_true",
                   help="draw the training loss per step instead of the table (default: the table)")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot_bigrams, plot_loss_curve, save_figure  # matplotlib: optional

    check_writable(args.out, inputs=(args.model,))
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    fig = (plot_loss_curve if args.loss_curve else plot_bigrams)(model)
    save_figure(fig, args.out)
    _say(args, f"wrote {args.out}")
    return 0


def _add_gradcheck_parser(sub: Any) -> None:
    p = opt.add_command(sub, "gradcheck", ("json",),
                 help="check every engine's gradient by finite differences", description=(
        "Compare each engine's hand-derived gradient (or, with --hessian, Hessian-vector "
        "product) with finite differences on random problems; one row per check, each pass, "
        "fail or inconclusive (rounding hides the answer), and the rule under the table. "
        "float32 rows check the float32 gradient with float32 tolerances. Exit status 1 "
        "unless every check passes."))
    p.add_argument("--engine", action="append", choices=OBJECTIVES, help="engine to check; "
                   "repeat for several (default: all; concat: the concat n-gram network)")
    p.add_argument("--dtype", action="append", choices=DTYPES,
                   help="dtype of W; repeat for several (default: both)")
    p.add_argument("--context", type=opt.list_of(opt.context_length), default=[1],
                   metavar="K,...", help=(
        "context lengths (default 1: bigrams); for K > 1 the three engines check the joint "
        "encoding, W of shape (contexts, V)"))
    p.add_argument("--max-entries", type=opt.whole("max_entries"), default=1000, metavar="M", help=(
        "check at most M entries of each W (--hessian: M columns; default 1000; 0: all)"))
    p.add_argument("--hessian", action="store_true", help=(
        "check the Hessian-vector products (counts_hvp for the joint engines, concat_hvp for "
        "concat) against differences of the gradient (default: check the gradients)"))
    p.add_argument("-s", "--seed", type=opt.seed, default=0,
                   help="seed of the random problems (default 0)")
    p.set_defaults(func=_cmd_gradcheck)


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from .problems import CHECKED_ENGINES, check_engines, engine_record, engine_report

    engines = tuple(dict.fromkeys(args.engine or CHECKED_ENGINES))
    dtypes = tuple(dict.fromkeys(args.dtype or ("float64", "float32")))
    start = time.perf_counter()
    rows = check_engines(engines, dtypes, tuple(dict.fromkeys(args.context)), seed=args.seed,
                         max_entries=args.max_entries or None, hessian=args.hessian)
    _say(args, f"{len(rows)} checks in {time.perf_counter() - start:.2f} s", detail=True)
    record = engine_record(rows)
    print(_json(record) if args.json else engine_report(rows))
    return 0 if record["ok"] else 1


def _add_eval_parser(sub: Any) -> None:
    p = opt.add_command(sub, "eval", ("json", "model", "eval data"),
                 help="train/dev/test loss of a saved model", description=(
        "Mean NLL per character (no L2 term) of a saved model on a word list; with a split "
        "(given, or the model's own), on each of train, dev and test."))
    p.add_argument("--split", type=opt.split, metavar="TR/DEV/TE", help="default: the model's own "
                   "split, if it was trained with one; otherwise no split (every word of --data)")
    p.add_argument("--split-seed", type=opt.seed, help="default: the model's own split seed, or 42")
    p.add_argument("--unknown", choices=UNKNOWN, help=(
        "a word with a character the model never saw: error (naming its file and line), skip "
        "(leave the word out) or unk (score it as 'minibigram score --unknown unk' does; "
        "default error)"))
    p.add_argument("--skip-unknown", action="store_const", const="skip", dest="skip_unknown",
                   help="the same as --unknown skip (default: off)")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    _say(args, f"{args.model}: {model!r}", detail=True)
    records = eval_records(model, args.data, split=args.split, split_seed=args.split_seed,
                           unknown=unknown_policy(args.unknown, args.skip_unknown))
    losses = record_losses(records)
    if args.json:
        print(_json({"model": args.model, "eval": losses,
                     "perplexity": {k: r.as_dict() if r else None for k, r in records.items()}}))
    else:
        print(_format_losses(losses))
        _print_perplexity(records, False)
    return 0


def _print_perplexity(records: dict[str, Perplexity | None], as_json: bool) -> None:
    """Each record's lines under its name (with --json: one line, a "perplexity" object)."""
    if as_json:
        (r,) = records.values()
        print(_json({"perplexity": r.as_dict() if r else None}))
        return
    for name, r in records.items():
        if r is not None:
            print(f"{name}:\n  " + "\n  ".join(r.lines()))


def _add_sweep_parser(sub: Any) -> None:
    p = opt.add_command(sub, "sweep", ("json", "data"),
                 help="tune reg / smoothing / context on dev, report test once", description=(
        "Train every setting on the train split, print the dev loss of each, choose the best "
        "per model family and context on dev, and only then compute their test loss."))
    opt.add_family_flag(p, type=opt.list_of(opt.family), default=list(FAMILIES), metavar="FAMILIES",
                 help="network,counts (default both)")
    p.add_argument("--context", type=opt.list_of(opt.context_length), default=[1, 2, 3],
                   metavar="K,...",
                   help="context lengths (default 1,2,3)")
    p.add_argument("--reg", type=opt.list_of(opt.real("reg")), metavar="R,...", help="network L2 "
                   "strengths (default 0,0.001,0.01,0.1,1; without 0 for --encoding concat)")
    p.add_argument("--smoothing", type=opt.list_of(opt.real("smoothing")), metavar="k,...",
                   default=[0, 0.01, 0.1, 0.5, 1], help="add-k values (default 0,0.01,0.1,0.5,1)")
    p.add_argument("--encoding", choices=ENCODINGS, default="joint", help="the network's input "
                   "for K > 1 (see 'minibigram train --help'; default joint)")
    p.add_argument("--split", type=opt.split, default=(0.8, 0.1, 0.1), metavar="TR/DEV/TE",
                   help="random split by word (default 80/10/10)")
    p.add_argument("--split-seed", type=opt.seed, default=42, help="seed of the split (default 42)")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    r = sweep(load_words(args.data), families=args.family, contexts=args.context, regs=args.reg,
              smoothings=args.smoothing, encoding=args.encoding, fractions=args.split,
              split_seed=args.split_seed)
    # the time on stderr only: stdout is the same for the same command, run to run
    _say(args, f"{len(r['rows'])} settings in {r['seconds']:.1f} s", detail=args.json)
    if args.json:
        print(_json({k: v for k, v in r.items() if k != "seconds"}))
        return 0
    print(sweep_report(r))
    return 0


def _add_info_parser(sub: Any) -> None:
    p = opt.add_command(sub, "info", ("json", "model"),
                 help="what a saved model is and what it was trained on", description=(
        "A saved model's kind, context length K, vocabulary V, encoding, final loss, settings "
        "and provenance: its data (source, sha256, words), split and minibigram version."))
    p.set_defaults(func=_cmd_info)


def _cmd_info(args: argparse.Namespace) -> int:
    info = {"model": args.model, **model_info(load_model(args.model))}
    if args.json:
        print(_json(info))
        return 0
    print(info_report(info))
    return 0


def _add_export_parser(sub: Any) -> None:
    p = opt.add_command(sub, "export", ("model",),
                 help="write a saved model as JSON or ARPA, readable without numpy", description=(
        "A saved model's next-character log-probabilities as JSON (schema minibigram-lm 1, see "
        "docs/embedding.md) or as an ARPA n-gram file (SRILM, KenLM), for any model kind."))
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="json (schema minibigram-lm 1) or arpa (required; no default)")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="the file to write "
                   "(replaced atomically if it is a regular file; required; no default)")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    check_writable(args.out, inputs=(args.model,))
    plan = plan_export(load_model(args.model), args.format)
    _say(args, f"writing {args.out}: about {plan.nbytes / 1e6:,.1f} MB, about "
               f"{max(plan.seconds, 0.1):,.1f} s")
    plan.write(args.out)
    _say(args, f"wrote {args.out}")
    return 0


#: Every command, in the order ``minibigram --help`` lists them, and what adds its parser.
_COMMANDS: dict[str, Callable[[Any], None]] = {
    "train": _add_train_parser, "sample": _add_sample_parser, "score": _add_score_parser,
    "gradcheck": _add_gradcheck_parser, "plot": _add_plot_parser, "eval": _add_eval_parser,
    "sweep": _add_sweep_parser, "info": _add_info_parser, "export": _add_export_parser}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``minibigram`` parser: of every command, or of ``command`` alone.

    ``main`` builds the parser of the command named first on its command line only
    (argparse formats each option's help as it is added); anything else (none,
    ``--help``, a misspelling) gets every command, so help and errors list them all.
    """
    parser = opt.Parser(prog="minibigram",
                     description="The makemore part-1 bigram network in NumPy.")
    parser.add_argument("--version", action="version", version=f"minibigram {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=opt.CommandParser)
    for name, add in _COMMANDS.items():
        if command not in _COMMANDS or name == command:
            add(sub)
    for p in sub.choices.values():   # every command: -q/-v
        opt.add_status_flags(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    open_standard_streams()   # first: a closed stream is reported, never a traceback
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    # 0: no status (-q, or --json without -v); 1: status; 2: status and detail (-v)
    args.verbosity = (0 if args.quiet else 2 if args.verbose
                      else 0 if getattr(args, "json", False) else 1)
    try:
        with warnings.catch_warnings():
            if args.quiet:   # -q: stderr stays empty on success, warnings included
                warnings.simplefilter("ignore")
            else:
                warnings.showwarning = _show_note
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
