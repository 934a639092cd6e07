"""The ``minibigram`` command: train, sample and score from the shell.

Each subcommand has its parser in ``_add_<name>_parser`` and its work in
``_cmd_<name>``. With ``--json`` a command prints exactly one JSON object on
stdout; otherwise it prints for a person. Bad input ends with one line
``minibigram: error: ...`` on stderr and exit status 2; Ctrl-C with one line
``minibigram: interrupted ...`` and status 130. Any other exception is a bug in
minibigram, so it is not hidden: Python prints its traceback (status 1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__
from .data import load_words
from .engines import ENGINES
from .errors import MinibigramError
from .model import DTYPES, INITS, NOTEBOOK_SEED, SOLVERS, BigramModel, check_writable
from .progress import Progress
from .sampling import DEFAULT_SAMPLER, SAMPLERS


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"minibigram: error: {message} (see '{self.prog} --help').\n")


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


def _emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _add_train_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train the bigram network and print samples",
                       description="Train the bigram network by full-batch gradient descent, as "
                                   "in makemore part 1, then print samples. The defaults are "
                                   "the notebook's.")
    p.add_argument("--data", metavar="PATH", help="text file, one word per line "
                   "(default: the embedded names.txt, 32,033 names)")
    p.add_argument("--steps", type=_positive_int, default=100, help="gradient steps (default 100)")
    p.add_argument("--lr", type=_positive_float, default=50.0, help="learning rate (default 50)")
    p.add_argument("--reg", type=_finite_float, default=0.01,
                   help="L2 strength, reg * mean(W**2) (default 0.01)")
    p.add_argument("--seed", type=_seed, default=NOTEBOOK_SEED,
                   help=f"seed of the initial W and of sampling (default {NOTEBOOK_SEED})")
    p.add_argument("--engine", choices=ENGINES, default="counts",
                   help="how the loss and gradient are computed; same numbers (default counts)")
    p.add_argument("--dtype", choices=DTYPES, default="float32", help="default float32")
    p.add_argument("--solver", choices=SOLVERS, default="gd",
                   help="gd: the notebook's gradient steps (default); newton: the exact "
                        "optimum, in float64, to max|dW| < 1e-10 (--steps caps the iterations; "
                        "--lr is unused)")
    p.add_argument("--init", choices=INITS, default="torch",
                   help="initial W: torch = the notebook's torch.randn, replayed without torch; "
                        "normal = numpy's default_rng (default torch)")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=DEFAULT_SAMPLER,
                   help="torch-mkl = torch 2.0-2.6 (the notebook), torch = 2.7+, torch-cdf = "
                        f"1.x, numpy (default {DEFAULT_SAMPLER})")
    p.add_argument("--samples", type=_positive_int, default=15,
                   help="names to sample after training (default 15)")
    p.add_argument("--out", metavar="MODEL.npz", help="save the trained model here")
    p.add_argument("--log-every", type=_positive_int, default=1, metavar="N",
                   help="print the loss every N steps (default 1, like the notebook; 0: never)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.out:
        check_writable(args.out)   # before training, not after minutes of it
    words = load_words(args.data)
    # On a terminal, a live "step/loss/rate" line on stderr; never with --json or a pipe.
    progress = Progress(args.steps, enabled=not args.json and sys.stdout.isatty()
                        and sys.stderr.isatty())

    def log(step: int, loss: float) -> None:
        if args.log_every and (step % args.log_every == 0 or step == 1 or step == args.steps):
            progress.clear()
            print(f"step {step:4d}  loss {loss:.7f}", flush=True)
        progress.update(step, loss)

    try:
        model = BigramModel.fit(words, steps=args.steps, lr=args.lr, reg=args.reg,
                                seed=args.seed, dtype=args.dtype, engine=args.engine,
                                solver=args.solver, init=args.init,
                                callback=None if args.json else log)
    finally:
        progress.close()
    final_loss = model.nll(words)
    if args.reg:   # with reg 0, Newton's W is -inf where a count is 0: no penalty to add
        final_loss += args.reg * float((model.W.astype("float64") ** 2).mean())
    samples = model.sample(args.samples, seed=args.seed, sampler=args.sampler)
    if args.out:
        model.save(args.out)
    if args.json:
        _emit_json({"num_examples": model.settings["num_examples"], "vocab_size": model.V,
                     "losses": model.history, "final_loss": final_loss, "samples": samples,
                     "settings": model.settings, "sampler": args.sampler, "model": args.out})
        return 0
    print(f"trained on {model.settings['num_examples']} examples, vocabulary of {model.V}; "
          f"final loss {final_loss:.7f}")
    for s in samples:
        print(s)
    if args.out:
        print(f"saved the model to {args.out}")
    return 0


def _add_sample_parser(sub: Any) -> None:
    p = sub.add_parser("sample", help="sample words from a saved model")
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("-n", type=_positive_int, default=15, help="how many (default 15)")
    p.add_argument("--seed", type=_seed, default=NOTEBOOK_SEED, help=f"default {NOTEBOOK_SEED}")
    p.add_argument("--sampler", choices=list(SAMPLERS), default=DEFAULT_SAMPLER,
                   help=f"see 'minibigram train --help' (default {DEFAULT_SAMPLER})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> int:
    model = BigramModel.load(args.model)
    samples = model.sample(args.n, seed=args.seed, sampler=args.sampler)
    if args.json:
        _emit_json({"samples": samples, "seed": args.seed, "sampler": args.sampler})
    else:
        print("\n".join(samples))
    return 0


def _add_score_parser(sub: Any) -> None:
    p = sub.add_parser("score", help="negative log-likelihood of words under a saved model",
                       description="Score words: the mean negative log-likelihood per predicted "
                                   "character (end token included); lower is more name-like.")
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--skip-unknown", action="store_true",
                   help="remove characters the model never saw and score the rest "
                        "(default: such a character is an error)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    model = BigramModel.load(args.model)
    skip = args.skip_unknown
    rows = [{"word": w, "nll": model.nll([w], skip_unknown=skip),
             "log_prob": model.log_prob(w, skip_unknown=skip)} for w in args.words]
    if skip:
        for r in rows:
            r["skipped"] = "".join(model.vocab.unknown(r["word"]))
    if args.json:
        _emit_json({"scores": rows})
    else:
        width = max(len(w) for w in args.words)
        for r in rows:
            note = f"  (without {r['skipped']!r})" if r.get("skipped") else ""
            print(f"{r['word']:<{width}}  nll {r['nll']:.4f}  log-prob {r['log_prob']:.4f}{note}")
    return 0


def _add_plot_parser(sub: Any) -> None:
    p = sub.add_parser("plot", help="draw a saved model's bigram table (or loss curve) to a PNG",
                       description="Draw the V x V table of the model's next-character "
                                   "probabilities, each cell labelled with its bigram and value, "
                                   "like the lecture's figure; or, with --loss-curve, the loss "
                                   "of every training step. Needs matplotlib: "
                                   'pip install "minibigram[plot]".')
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--out", required=True, metavar="FIGURE.png",
                   help="image file to write; the format follows the extension (png, svg, pdf)")
    p.add_argument("--loss-curve", action="store_true",
                   help="draw the training loss per step instead of the table")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot_bigrams, plot_loss_curve, save_figure

    check_writable(args.out)
    model = BigramModel.load(args.model)
    fig = (plot_loss_curve if args.loss_curve else plot_bigrams)(model)
    save_figure(fig, args.out)
    print(f"wrote {args.out}")
    return 0


def _add_gradcheck_parser(sub: Any) -> None:
    p = sub.add_parser("gradcheck", help="check every engine's gradient by finite differences",
                       description="Compare each engine's hand-derived gradient with central "
                                   "finite differences on random problems; one row per check. "
                                   "float32 rows check the float32 gradient against float64 "
                                   "differences, with float32 tolerances. Exit status 1 if any "
                                   "check fails.")
    p.add_argument("--engine", action="append", choices=ENGINES,
                   help="engine to check; repeat for several (default: all)")
    p.add_argument("--dtype", action="append", choices=DTYPES,
                   help="dtype of W; repeat for several (default: both)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random problems (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=_cmd_gradcheck)


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import check_engines

    engines = tuple(dict.fromkeys(args.engine or ENGINES))
    dtypes = tuple(dict.fromkeys(args.dtype or ("float64", "float32")))
    rows = check_engines(engines, dtypes, seed=args.seed)
    failed = sum(not r.ok for _, r in rows)
    if args.json:
        _emit_json({"ok": failed == 0, "checks": [
            {**case, "max_rel_error": r.max_rel_error, "rtol": r.rtol, "atol": r.atol,
             "n_checked": r.n_checked, "ok": r.ok} for case, r in rows]})
    else:
        print(f"{'engine':<8} {'shape':<22} {'dtype':<8} {'worst rel err':>13} {'rtol':>6}  result")
        for case, r in rows:
            shape = f"V={case['V']} n={case['n']} reg={case['reg']:g}"
            print(f"{case['engine']:<8} {shape:<22} {case['dtype']:<8} "
                  f"{r.max_rel_error:>13.2e} {r.rtol:>6g}  {'pass' if r.ok else 'FAIL'}")
        print(f"{len(rows) - failed} of {len(rows)} checks passed")
        for case, r in rows:
            if not r.ok:
                print(f"\n{case['engine']} {case['dtype']} V={case['V']}:\n{r}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minibigram",
                     description="The makemore part-1 bigram network in NumPy.")
    parser.add_argument("--version", action="version", version=f"minibigram {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for add in (_add_train_parser, _add_sample_parser, _add_score_parser,
                _add_gradcheck_parser, _add_plot_parser):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MinibigramError as e:
        print(f"minibigram: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. "| head"); stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        # Model files are written to a temporary file and renamed, so nothing is half-written.
        print("minibigram: interrupted; no model file was left half-written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
