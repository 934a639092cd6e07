"""The command line's options: argparse parsers whose errors are one line, and values
checked by the library's own rules.

:class:`Parser` ends a bad command line in one line ``minibigram: error: ...`` and
status 2, naming the closest valid option or choice. Each option's value is parsed,
then checked by the shared helper of :mod:`minibigram.errors` (:func:`value_type`), so
the rule and its sentence are written once. The flags several commands share are
written once in :data:`FLAGS`. :mod:`minibigram.cli` builds each command from these.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .errors import MinibigramError, check_choice, check_real, check_seed, check_whole
from .models import FAMILIES
from .words import parse_split


class Parser(argparse.ArgumentParser):
    """argparse's parser, its errors one line and exit status 2, with the likely meaning.

    Options must be spelled out (no ``--ste`` for ``--steps``): an abbreviation that
    works today would break when an option is added. An unknown option, or an
    invalid choice, names the closest valid ones and the command's own help.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.option_strings: list[str] = []   # every option it takes, for the hints
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.option_strings += action.option_strings
        return action

    def error(self, message: str) -> NoReturn:
        near: list[str] = []
        if message.startswith("unrecognized arguments: "):
            for tok in message.split(": ", 1)[1].split():
                if tok.startswith("-"):
                    near = closest(tok.split("=", 1)[0], self.option_strings)
                    if near:
                        break
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            near = closest(choice[1], re.findall(r"'([^']*)'", choice[2]))
        hint = ""
        if near:
            hint = f"; did you mean {near[0]}?" if len(near) == 1 else \
                f"; did you mean {', '.join(near[:-1])} or {near[-1]}?"
        self.exit(2, f"minibigram: error: {message}{hint} (see '{self.prog} --help').\n")


class CommandParser(Parser):
    """A subcommand's parser: it refuses what it cannot read itself, so the error names
    the command and its help (the top parser would name only ``minibigram``)."""

    def parse_known_args(  # type: ignore[override]  # one signature for argparse's overloads
            self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def closest(name: str, valid: list[str]) -> list[str]:
    """The valid names ``name`` may mean: those it abbreviates (``--st``: ``--steps``,
    ``--stream``), else the closest spellings; likeliest first, at most 3."""
    if name.startswith("--"):
        valid = [v for v in valid if v.startswith("--")]
    prefixed = [v for v in valid if v.startswith(name)]
    if prefixed:
        return sorted(prefixed, key=lambda v: (len(v), v))[:3]
    return difflib.get_close_matches(name, valid, n=3, cutoff=0.6)


def value_type(parse: Callable[[str], Any], check: Callable[[Any], Any], name: str) -> Any:
    """An argparse ``type``: ``check(parse(text))``; text that does not parse goes to
    ``check`` as it is, so the rule's one sentence says what was expected."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(value)
        except MinibigramError as e:
            raise argparse.ArgumentTypeError(str(e).rstrip(".")) from None
    convert.__name__ = name   # how argparse names the type in its own messages
    return convert


def whole(what: str, minimum: int = 0) -> Any:
    return value_type(int, lambda v: check_whole(what, v, minimum), "whole number")


def real(what: str, strict: bool = False) -> Any:
    return value_type(float, lambda v: check_real(what, v, strict=strict), "number")


seed = value_type(int, check_seed, "seed")
context_length = whole("the context length", 1)
split = value_type(str, parse_split, "split")


def list_of(item: Callable[[str], Any]) -> Any:
    def parse(text: str) -> list[Any]:
        return [item(t) for t in text.split(",")]
    parse.__name__ = "comma-separated list"
    return parse


family = value_type(str, lambda v: check_choice("model family", v, FAMILIES), "family")


def add_command(sub: Any, name: str, flags: Sequence[str], **kwargs: Any) -> Parser:
    """Add the parser of command ``name``, its shared ``flags`` (of :data:`FLAGS`) first."""
    p: Parser = sub.add_parser(name, **kwargs)
    for flag in flags:
        names, options = FLAGS[flag]
        p.add_argument(*names, **options)
    return p


def add_status_flags(p: Parser) -> None:
    quiet = p.add_mutually_exclusive_group()
    quiet.add_argument("-q", "--quiet", action="store_true",
                       help="no status on stderr (progress, 'saved', 'trained on'); the "
                            "results on stdout are unchanged (default: off)")
    quiet.add_argument("-v", "--verbose", action="store_true",
                       help="more status on stderr: the model, its settings, timings "
                            "(default: off)")
    p.option_strings += ["-q", "--quiet", "-v", "--verbose"]   # the group's, for the hints


#: The flags several commands share, each written once: the names, then add_argument's options.
FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "json": (("--json",), dict(action="store_true", help="print one JSON object on stdout "
             "instead (and no status, unless -v; default: plain text)")),
    "model": (("-m", "--model"), dict(required=True, metavar="MODEL.npz", help="a model file "
              "written by 'minibigram train --out' (required; no default)")),
    "data": (("-d", "--data"), dict(metavar="PATH", help="text file, one word per line; '-' "
             "reads standard input (default: the embedded names.txt, 32,033 names)")),
    "eval data": (("-d", "--data"), dict(metavar="PATH", help="text file, one word per line; "
                  "'-' reads standard input (default: the model's own training data when the "
                  "file it records is there with the same sha256, else the embedded names)")),
}


def add_family_flag(p: argparse.ArgumentParser, **kwargs: Any) -> None:
    # --model-kind: its former name, kept so that existing scripts work
    p.add_argument("--family", "--model-kind", dest="family", **kwargs)
