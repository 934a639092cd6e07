"""Model files: the kind a file holds, and the model of that kind read from it.

A model file is an archive (:mod:`minibigram.archive`) whose header names its kind;
:data:`MODEL_CLASSES` maps each kind to its class, which declares the file's arrays
(``ARRAYS``) and reads and writes them (``load``, ``save``).
"""

from __future__ import annotations

from .archive import read_kind
from .arpa import is_arpa, read_arpa
from .backoff import BackoffModel
from .errors import FileAccessError, ModelFileError
from .models import BigramModel, ConcatModel, CountModel, LanguageModel, NGramModel
from .words import PathLike

#: The class of each kind written in a model file's header.
MODEL_CLASSES: dict[str, type[LanguageModel]] = {
    cls.kind: cls for cls in (BigramModel, NGramModel, ConcatModel, CountModel, BackoffModel)}


def model_kind(path: PathLike) -> str:
    """The kind (a key of :data:`MODEL_CLASSES`) written in a model file's header.

    Reads only the header member. Returns "bigram" if the header cannot be read, so
    that :meth:`BigramModel.load` reports what exactly is wrong with the file.
    """
    try:
        return read_kind(path)
    except (ModelFileError, FileAccessError):
        return "bigram"


def load_model(path: PathLike, kind: str | None = None) -> LanguageModel:
    """Load a model file of any kind, detected from its header (or of the given ``kind``).

    An ARPA text file (one that starts with ``\\data\\``, or named ``*.arpa``) is read by
    :func:`minibigram.arpa.read_arpa` as a :class:`~minibigram.backoff.BackoffModel`.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read.
    ModelFileError
        If the file is not a minibigram model file of that kind, or is corrupt.
    """
    if kind is None and is_arpa(path):
        return read_arpa(path)
    kind = model_kind(path) if kind is None else kind
    # an unknown kind: BigramModel.load says what the file holds instead
    return MODEL_CLASSES.get(kind, BigramModel).load(path)
