"""Exception types. Every message is one sentence: what is wrong, and what to do.

Problems with the file system (a path that does not exist, a folder where a file
was expected, no permission to read or write) raise :class:`FileAccessError`, an
``OSError``. Problems with what a file or an argument holds raise the
``ValueError`` subclasses :class:`DataError`, :class:`ModelFileError` and
:class:`SettingsError`; numerical failure while training raises
:class:`TrainingError`, an ``ArithmeticError``; a missing optional package
(matplotlib) raises :class:`DependencyError`, an ``ImportError``. Catch
:class:`MinibigramError` to catch them all.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np


class MinibigramError(Exception):
    """Base class of every error this package raises on purpose."""


class FileAccessError(MinibigramError, OSError):
    """A path cannot be used: it does not exist, is a folder, or cannot be read or written."""


class DataError(MinibigramError, ValueError):
    """The words given for training or scoring cannot be used as they are."""


class ModelFileError(MinibigramError, ValueError):
    """A model file is corrupt, unsafe, or does not fit together."""


class SettingsError(MinibigramError, ValueError):
    """A setting (learning rate, steps, ...) is out of its range."""


class TrainingError(MinibigramError, ArithmeticError):
    """Training went wrong numerically, e.g. the loss became non-finite."""


class DependencyError(MinibigramError, ImportError):
    """An optional package a feature needs (matplotlib for plots) is not installed."""


# --- validation helpers: one line at each public edge, one message shape everywhere.

_Error = type[MinibigramError]


def check_whole(name: str, value: object, minimum: int = 0, *,
                error: _Error = SettingsError) -> int:
    """``value`` as an int if it is a whole number ``>= minimum`` (bool is refused)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or int(value) < minimum):
        raise error(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def check_real(name: str, value: object, minimum: float = 0.0, *, strict: bool = False) -> float:
    """``value`` as a float if it is a finite number ``>= minimum`` (``> minimum`` if strict)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(v) and (v > minimum if strict else v >= minimum)):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise SettingsError(f"{name} must be a finite number {bound}, got {value!r}.")
    return v


def check_choice(name: str, value: object, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise SettingsError(f"unknown {name} {value!r}: choose one of {', '.join(choices)}.")
    return str(value)


def check_counts(N: object) -> None:
    """Refuse a count matrix with negative or non-finite entries, or an empty one.

    Raises
    ------
    DataError
    """
    N = np.asarray(N)
    if not (np.isfinite(N).all() and N.min(initial=0) >= 0 and N.sum() > 0):
        raise DataError("the count matrix is empty or holds negative or non-finite counts: "
                        "there is nothing to learn from.")


def check_seed(seed: object) -> int:
    """``seed`` as an int if it is a whole number in ``[0, 2**64)``."""
    if (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
            or not 0 <= int(seed) < 2**64):
        raise SettingsError(f"the seed must be a whole number from 0 to 2**64 - 1, got {seed!r}.")
    return int(seed)


def check_words(words: object, what: str = "words") -> list[str]:
    """``words`` as a list of str; a bare ``str`` (a sequence of characters) is refused."""
    out = word_list(words, what)
    join_words(out, "", what)
    return out


def word_list(words: object, what: str = "words") -> list:
    """``words`` as a list, its items not yet looked at (:func:`join_words` checks them)."""
    if isinstance(words, (str, bytes)):
        raise DataError(f"expected a sequence of {what}, got the single string {words!r}: "
                        f"wrap it in a list, e.g. [{words!r}].")
    try:
        return list(words)  # type: ignore[call-overload]
    except TypeError:
        raise DataError(f"expected a sequence of {what}, got {type(words).__name__}.") from None


def join_words(words: list, sep: str, what: str = "words") -> str:
    """``sep.join(words)``, which checks that every word is a str: a loop in C that stops with
    TypeError at the first that is not, named here."""
    try:
        return sep.join(words)
    except TypeError:
        bad = next(w for w in words if not isinstance(w, str))   # rare: find it to name it
        raise DataError(f"every one of the {what} must be a str, got {type(bad).__name__} "
                        f"{bad!r}: decode or convert it first.") from None


def read_error(path: str, e: OSError, missing: str = "check the path") -> FileAccessError:
    """The one-sentence error for an ``OSError`` met while reading ``path``.

    ``missing`` is what to do when the path does not exist. An error that already says
    what is wrong (a closed standard stream's) is kept as it is.
    """
    if isinstance(e, FileAccessError):
        return e
    if isinstance(e, FileNotFoundError):
        return FileAccessError(f"{path} does not exist: {missing}.")
    if isinstance(e, IsADirectoryError):
        return FileAccessError(f"{path} is a folder, not a file: give the path of a file.")
    return FileAccessError(f"{path} cannot be read ({e.strerror}): check that it is a file "
                           "you are allowed to read.")


#: The environment variable that sets :func:`memory_budget`, in bytes (suffixes K, M, G
#: of 1024 allowed: ``MINIBIGRAM_MAX_MEMORY=2G``).
MAX_MEMORY_ENV = "MINIBIGRAM_MAX_MEMORY"
#: The share of the memory available now that one computation may ask for: the rest is
#: left to the arrays around it (copies, the interpreter) and to the other programs.
MEMORY_SHARE = 0.5


def available_memory() -> int:
    """The bytes of memory this machine can give now without swapping.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory
    (``os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")``), else 4 GiB.
    """
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):   # a system without sysconf names
        return 4 << 30


def memory_budget() -> int:
    """The most memory one computation may ask for (its largest arrays together), in bytes.

    :data:`MAX_MEMORY_ENV` if set, else :data:`MEMORY_SHARE` of :func:`available_memory`.

    Raises
    ------
    SettingsError
        If :data:`MAX_MEMORY_ENV` is not a whole number of bytes (with K, M or G).
    """
    text = os.environ.get(MAX_MEMORY_ENV, "").strip()
    if not text:
        return int(available_memory() * MEMORY_SHARE)
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit() or int(digits) == 0:
        raise SettingsError(f"{MAX_MEMORY_ENV}={text!r} is not a number of bytes: give a whole "
                            "number > 0, optionally followed by K, M or G (e.g. 2G).")
    return int(digits) * scale


def check_size(what: str, nbytes: float, hint: str) -> None:
    """Refuse, before allocating, work whose arrays would take more than :func:`memory_budget`.

    ``what`` names the work ("the one-hot matrix of 228146 examples"), ``hint`` what
    to do instead (the option or flag that avoids it).
    """
    budget = memory_budget()
    if nbytes > budget:
        raise SettingsError(f"{what} would need {_mib(nbytes)}, more than the {_mib(budget)} "
                            f"this machine has free for it ({MAX_MEMORY_ENV} sets it): {hint}.")


def _mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MiB" if nbytes < 2**30 * 10 else f"{nbytes / 2**30:,.1f} GiB"


def check_has_words(num_examples: int, source: str) -> None:
    """Refuse counts of no words: ``source`` names what was counted ("data.txt", "the counts").

    Counting no words is no error, but nothing can be trained or scored from it.
    """
    if num_examples == 0:
        raise DataError(f"there are no words in {source} (only blank lines, or nothing): give "
                        "at least one word, one per line.")
