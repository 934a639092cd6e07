"""Tests of minibigram.errors."""

from minibigram import (
    DataError,
    FileAccessError,
    MinibigramError,
    ModelFileError,
    SettingsError,
    TrainingError,
)


def test_every_error_type_is_a_minibigram_error_and_a_builtin_one():
    assert issubclass(FileAccessError, MinibigramError) and issubclass(FileAccessError, OSError)
    for t in (DataError, ModelFileError, SettingsError):
        assert issubclass(t, MinibigramError) and issubclass(t, ValueError)
    assert issubclass(TrainingError, ArithmeticError)
