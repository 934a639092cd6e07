"""Files: model files written atomically and read without trusting them.

The last stage of the pipeline. A model file is an ``.npz`` archive of plain
arrays and a JSON header, never a pickle; it is written to a temporary file and
renamed, so a failed save leaves no half-written file, and it is checked array by
array when read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Callable

import numpy as np

from .errors import FileAccessError, ModelFileError, read_error
from .vocab import Vocabulary
from .words import PathLike

if TYPE_CHECKING:
    from .models import LanguageModel

FORMAT = "minibigram-1"


def save_npz(path: PathLike, *, kind: str, arrays: dict[str, np.ndarray], vocab: Vocabulary,
             history: Sequence[float], settings: dict[str, Any]) -> None:
    """Write a model file atomically (see :func:`atomic_write`): no pickled objects."""
    meta = json.dumps({"format": FORMAT, "kind": kind, "settings": settings})
    contents: dict[str, Any] = {"meta": np.array(meta), "itos": np.array(vocab.itos),
                                "history": np.asarray(history, dtype=np.float64), **arrays}
    atomic_write(path, lambda f: np.savez(f, **contents))


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` on a temporary file in the same folder, then rename it over ``path``.

    An interrupted or failed save (Ctrl-C, a full disk, an error in ``write``)
    therefore never leaves a half-written file and never clobbers the previous one:
    the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    FileAccessError
        If the folder is missing or not writable, ``path`` is a folder, or writing fails.
    """
    path = os.fspath(path)
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".minibigram-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        # Created like open(path, "wb") would create path: mode 0o666 less the umask
        # (tempfile.mkstemp would give 0o600, and the rename would keep it).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise FileAccessError(f"cannot write {path} ({e.strerror}): choose a folder you are "
                              "allowed to write to.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        if os.path.exists(path):   # replacing a file keeps its permissions, as open() would
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException as e:
        os.unlink(tmp)
        if isinstance(e, OSError):
            raise FileAccessError(f"cannot write {path} ({e.strerror}): check the free space "
                                  "and that the path is a file you may replace.") from None
        raise


def check_writable(path: PathLike) -> None:
    """Refuse, before any work, a model path whose folder is missing or which is a folder.

    Raises
    ------
    FileAccessError
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise FileAccessError(f"{path} is a folder: give a file name such as {path}/model.npz.")
    if not os.path.isdir(folder):
        raise FileAccessError(f"cannot write {path}: the folder {folder} does not exist; "
                              "create it first or choose another path.")
    if not os.access(folder, os.W_OK):
        raise FileAccessError(f"cannot write {path}: you are not allowed to write to the folder "
                              f"{folder}; choose another path.")


def load_npz(path: PathLike, *, kind: str, names: Sequence[str], optional: Sequence[str] = ()
             ) -> tuple[dict[str, np.ndarray], Vocabulary, list[float], dict[str, Any]]:
    """Read and check a model file written by :func:`save_npz`.

    ``names`` are the arrays the file must hold, ``optional`` those it may hold.

    The file is never unpickled: its first bytes must be a zip archive's, and numpy
    reads every array with ``allow_pickle=False``.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read.
    ModelFileError
        If the file is not a minibigram model file, is truncated or corrupt, holds
        pickled objects, or its arrays do not fit together.
    """
    import zipfile  # here, not at the top: only loading needs it

    path = os.fspath(path)
    if os.path.isdir(path):
        raise FileAccessError(f"{path} is a folder, not a model file: give the .npz file "
                              "written by 'minibigram train --out'.")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as e:
        raise read_error(path, e, "check the path, or train a model with 'minibigram train "
                                  "--out MODEL.npz'") from None
    if magic.startswith(b"\x80"):   # every pickle of protocol 2 or later starts so
        raise ModelFileError(f"{path} holds a pickled Python object, which minibigram refuses "
                             "to load because unpickling can run code: use a file written by "
                             "minibigram.")
    if not magic.startswith(b"PK"):  # a .npz file is a zip archive
        raise ModelFileError(f"{path} is not a minibigram model file (not an .npz archive): "
                             "give the file written by 'minibigram train --out'.")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" not in str(e):
            raise ModelFileError(f"{path} is truncated or corrupt: retrain the model or use "
                                 "another copy.") from None
        raise ModelFileError(f"{path} holds pickled Python objects, which minibigram refuses "
                             "to load because unpickling can run code: use a file written by "
                             "minibigram.") from None
    except (OSError, zipfile.BadZipFile, EOFError):
        raise ModelFileError(f"{path} is truncated or corrupt: retrain the model or use "
                             "another copy.") from None
    if "meta" not in data:
        raise ModelFileError(f"{path} lacks the array meta: it is not a minibigram {kind} "
                             "model file.")
    try:
        meta = json.loads(str(data["meta"]))
        if (meta["format"] != FORMAT or not isinstance(meta["settings"], dict)
                or not isinstance(meta["kind"], str)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{path} has an unreadable header: it is not a minibigram model "
                             "file of this version.") from None
    if meta["kind"] != kind:   # checked first: another kind has other arrays
        raise ModelFileError(f"{path} holds a {meta['kind']} model, not a {kind} model: "
                             f"load it with the matching model kind (minibigram.load_model "
                             "detects it).")
    missing = [k for k in ("itos", "history", *names) if k not in data]
    if missing:
        what = "the array" if len(missing) == 1 else "the arrays"
        raise ModelFileError(f"{path} lacks {what} {', '.join(missing)}: it is not a "
                             f"minibigram {kind} model file.")
    itos = data["itos"]
    if (itos.ndim != 1 or itos.dtype.kind != "U" or len(itos) == 0 or itos[0] != "."
            or (np.char.str_len(itos) != 1).any()):
        raise ModelFileError(f"{path} has an invalid vocabulary (it must list single "
                             "characters, '.' first): it is not a minibigram model file.")
    vocab = Vocabulary([str(c) for c in itos[1:]])
    if vocab.itos != [str(c) for c in itos]:
        raise ModelFileError(f"{path} has an invalid vocabulary (not sorted or with repeats): "
                             "it is not a minibigram model file.")
    history = data["history"]
    if history.ndim != 1 or history.dtype.kind != "f":
        raise ModelFileError(f"{path} has a training history of shape {history.shape} and "
                             f"dtype {history.dtype}, not a list of losses: it is not a "
                             "minibigram model file.")
    arrays = {k: data[k] for k in (*names, *optional) if k in data}
    for k, a in arrays.items():
        if a.dtype.kind not in "fiu":
            raise ModelFileError(f"{path}: {k} holds {a.dtype} values, not numbers: it is not "
                                 "a minibigram model file.")
        # -inf is allowed: it is the logit of a probability of exactly 0 (the closed-form
        # optimum with reg 0), as long as every row keeps a finite entry.
        if a.dtype.kind == "f" and (np.isnan(a).any() or np.isposinf(a).any()
                                    or (a.ndim > 0 and not np.isfinite(a).any(axis=-1).all())):
            raise ModelFileError(f"{path} holds NaN or infinite values in {k}: retrain the "
                                 "model or use another copy.")
    return arrays, vocab, [float(x) for x in history], meta["settings"]


def model_kind(path: PathLike) -> str:
    """The kind ("bigram", "counts" or "ngram") written in a model file's header.

    Returns "bigram" if the header cannot be read, so that loading reports what
    exactly is wrong with the file.
    """
    import zipfile  # here, not at the top: only loading needs it (CLI start-up)

    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            return str(json.loads(str(z["meta"]))["kind"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return "bigram"


def save_model(model: LanguageModel, path: PathLike) -> None:
    """Write ``model`` (any kind) to a ``.npz`` file atomically; no pickled objects."""
    save_npz(path, kind=model.kind, arrays=model.to_arrays(), vocab=model.vocab,
             history=model.history, settings=model.settings)


def load_model(path: PathLike, kind: str | None = None) -> LanguageModel:
    """Load a model file of any kind, detected from its header (or of the given ``kind``).

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder, or cannot be read.
    ModelFileError
        If the file is not a minibigram model file of that kind, or is corrupt.
    """
    from .models import MODEL_CLASSES  # models come before files in the pipeline

    kind = model_kind(path) if kind is None else kind
    cls = MODEL_CLASSES.get(kind, MODEL_CLASSES["bigram"])   # "bigram" reports what is wrong
    arrays, vocab, history, settings = load_npz(path, kind=cls.kind, names=cls.ARRAYS,
                                                optional=cls.OPTIONAL)
    try:
        return cls.from_arrays(arrays, vocab, history=history, settings=settings)
    except ModelFileError as e:
        raise ModelFileError(f"{os.fspath(path)} {e}: retrain the model or use another "
                             "copy.") from None
