"""Exception types. Every message is one sentence: what is wrong, and what to do."""

from __future__ import annotations


class MinibigramError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(MinibigramError, ValueError):
    """The words given for training or scoring cannot be used as they are."""


class ModelFileError(MinibigramError, ValueError):
    """A model file is missing, corrupt, unsafe, or does not fit together."""


class SettingsError(MinibigramError, ValueError):
    """A setting (learning rate, steps, ...) is out of its range."""


class TrainingError(MinibigramError, ArithmeticError):
    """Training went wrong numerically, e.g. the loss became non-finite."""
