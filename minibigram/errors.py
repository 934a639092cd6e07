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
