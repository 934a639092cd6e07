"""Model archives: ``.npz`` files written without pickles and read within set bounds.

An archive is a zip of ``.npy`` arrays with the members ``meta`` (a JSON header:
format, kind, settings), ``itos`` (the vocabulary), ``history`` (training losses)
and the arrays a model's :class:`Array` declarations name. This module knows the
format, not the models: the caller says which arrays to read and what they must be.
Nothing in an archive is ever unpickled, and reading it is bounded:

- only the members asked for are opened; any other member is never inflated;
- each ``.npy`` header is read first, from the member's stream, and the declared
  dtype and shape are checked against the :class:`Array` declaration (with the
  vocabulary, read first, and the settings' context length) and against
  :data:`MAX_LOAD_BYTES` *before* a byte of the array itself is inflated;
- the zip's directory is bounded (:data:`MAX_MEMBERS`), only stored or deflated
  members are read (no encryption), and every member's CRC is checked;
- the settings that drive later work (the split, its seed, the context length)
  are type-checked.

Writing goes through :func:`minibigram.safewrite.atomic_write`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Callable

import numpy as np

from .errors import DataError, FileAccessError, ModelFileError
from .safewrite import atomic_write, describe_mode
from .vocab import Vocabulary
from .words import PathLike, parse_split

FORMAT = "minibigram-1"

#: Most bytes the arrays of one model file may inflate to, in total, checked against
#: the declared shapes before anything is inflated. A (V, V) float64 table of V = 5,000
#: characters is 200 MB; the bound keeps loading within a few hundred MB of memory
#: whatever a file claims (a 6 MB deflated file can claim gigabytes).
MAX_LOAD_BYTES = 2**28

#: Most characters of the JSON header: the settings are a few hundred.
MAX_META_CHARS = 2**18

#: Most members (and bytes of zip directory) a model file may list: it has four to
#: six; the directory is parsed into memory before any member can be checked.
MAX_MEMBERS = 64
MAX_DIRECTORY_BYTES = 2**16

#: Longest ``.npy`` header read (numpy's own default).
MAX_HEADER_BYTES = 10_000

_CHUNK = 2**20   # inflate in 1 MiB pieces: the array is the only large allocation


@dataclass(frozen=True)
class Array:
    """What one array of an archive must be: its shape, in named dimensions, and its dtypes.

    A dimension is ``"V"``, the vocabulary size; ``"K"``, the context length
    (``settings["context"]``); or ``"C"``, a number of contexts, any, but the same in
    every array of the archive.
    """

    shape: tuple[str, ...]
    dtypes: tuple[str, ...]
    optional: bool = False


#: The dtypes of arrays of integers and of counts.
INTEGERS = tuple(f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64))
NUMBERS = (*INTEGERS, "float16", "float32", "float64")


def save_npz(path: PathLike, *, kind: str, arrays: dict[str, np.ndarray], vocab: Vocabulary,
             history: Sequence[float], settings: dict[str, Any]) -> None:
    """Write an archive atomically (see :func:`~minibigram.safewrite.atomic_write`): no
    pickled objects."""
    meta = json.dumps({"format": FORMAT, "kind": kind, "settings": settings})
    contents: dict[str, Any] = {"meta": np.array(meta), "itos": np.array(vocab.itos),
                                "history": np.asarray(history, dtype=np.float64), **arrays}
    atomic_write(path, lambda f: np.savez(f, **contents))


# --- reading --------------------------------------------------------------------------------

def _corrupt(path: str) -> ModelFileError:
    return ModelFileError(f"{path} is truncated or corrupt: retrain the model or use another "
                          "copy.")


def _pickled(path: str) -> ModelFileError:
    return ModelFileError(f"{path} holds pickled Python objects, which minibigram refuses to "
                          "load because unpickling can run code: use a file written by "
                          "minibigram.")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError   # unreachable


def open_regular(path: str) -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file, without ever blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileAccessError(f"{path} does not exist: check the path, or train a model with "
                              "model.save(path) or 'minibigram train --out MODEL.npz'.") from None
    except IsADirectoryError:
        raise FileAccessError(f"{path} is a folder, not a model file: give the .npz file "
                              "written by model.save or 'minibigram train --out'.") from None
    except OSError as e:
        raise FileAccessError(f"{path} cannot be read ({e.strerror}): check that it is a file "
                              "you are allowed to read.") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise FileAccessError(f"{path} is a folder, not a model file: give the .npz file "
                                  "written by model.save or 'minibigram train --out'.")
        raise FileAccessError(f"{path} is {describe_mode(mode)}, not a model file: give the "
                              ".npz file written by model.save or 'minibigram train --out'.")
    return os.fdopen(fd, "rb")


def _check_directory(path: str, f: IO[bytes]) -> None:
    """Refuse a zip whose directory lists more than :data:`MAX_MEMBERS` members, before
    :mod:`zipfile` parses it all into memory. A file without the end record is left to
    zipfile (which reports it as not a zip)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 22 - 65535))   # the end record, then at most a 64 KiB comment
    tail = f.read()
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) < i + 22:
        return
    entries, directory = struct.unpack_from("<HI", tail, i + 10)
    if entries > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise ModelFileError(f"{path} lists {entries} members in a directory of "
                             f"{_size(directory)}; a model file has a handful: it is not a "
                             "minibigram model file.")


class _Reader:
    """One open model file: reads chosen members within a byte budget."""

    def __init__(self, path: str, z: zipfile.ZipFile) -> None:
        self.path, self.z = path, z
        self.budget = MAX_LOAD_BYTES
        self.members = {n[:-4]: n for n in z.namelist() if n.endswith(".npy")}

    def read(self, name: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
        """Read member ``name``: header first, ``check(dtype, shape)``, then the data."""
        path = self.path
        info = self.z.getinfo(self.members[name])
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path} is encrypted: minibigram reads only the files it "
                                 "writes, which are not; use such a file.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path} stores {name} with compression method "
                                 f"{info.compress_type}, which minibigram does not read (only "
                                 "stored or deflated): use a file written by minibigram.")
        fmt = np.lib.format
        try:
            with self.z.open(info) as f:
                version = fmt.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = fmt.read_array_header_1_0(f, MAX_HEADER_BYTES)
                elif version == (2, 0):
                    shape, fortran, dtype = fmt.read_array_header_2_0(f, MAX_HEADER_BYTES)
                else:
                    raise ValueError(f"npy format {version}")
                if dtype.hasobject:
                    raise _pickled(path)
                check(dtype, shape)
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > self.budget:
                    raise ModelFileError(
                        f"{path} declares {name} of shape {shape} and dtype {dtype}, "
                        f"{_size(nbytes)}, more than the {_size(self.budget)} left of the "
                        f"{_size(MAX_LOAD_BYTES)} a model file may hold: it was not written "
                        "by minibigram, or is too large to load safely.")
                self.budget -= nbytes
                a = np.empty(math.prod(shape), dtype)   # (n,) flat, reshaped below
                buf = a.view(np.uint8)   # (nbytes,) the same memory, filled in place
                pos = 0
                while pos < nbytes:
                    chunk = f.read(min(_CHUNK, nbytes - pos))
                    if not chunk:
                        raise EOFError
                    buf[pos:pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    pos += len(chunk)
                if f.read(1):   # must be at its end (which also checks the CRC)
                    raise ValueError("data after the array")
        except ModelFileError:
            raise
        except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error,
                NotImplementedError, RuntimeError, SyntaxError, TypeError):
            raise _corrupt(path) from None
        return a.reshape(shape, order="F" if fortran else "C")



def _check_settings(path: str, settings: dict[str, Any]) -> None:
    """The settings that later work depends on must have the types minibigram writes."""
    def bad(key: str, what: str) -> ModelFileError:
        return ModelFileError(f"{path} has settings.{key} = {settings[key]!r}, not {what}: it "
                              "was not written by minibigram; retrain the model or use "
                              "another copy.")

    def whole(v: Any, low: int, high: float) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and low <= v < high

    if "split" in settings:
        if not isinstance(settings["split"], str):
            raise bad("split", "train/dev/test percentages such as '80/10/10'")
        try:
            parse_split(settings["split"])
        except DataError:
            raise bad("split", "train/dev/test percentages such as '80/10/10'") from None
    if "split_seed" in settings and not whole(settings["split_seed"], 0, 2**64):
        raise bad("split_seed", "a whole number from 0 to 2**64 - 1")
    if "context" in settings and not whole(settings["context"], 1, math.inf):
        raise bad("context", "a whole number >= 1")
    if "encoding" in settings and not isinstance(settings["encoding"], str):
        raise bad("encoding", "a name")
    for key in ("smoothing", "reg"):
        v = settings.get(key)
        if key in settings and not (isinstance(v, (int, float)) and not isinstance(v, bool)
                                    and math.isfinite(v) and v >= 0):
            raise bad(key, "a finite number >= 0")


@contextlib.contextmanager
def _open_model(path: str) -> Iterator[_Reader]:
    with open_regular(path) as f:
        magic = f.read(6)
        if magic.startswith(b"\x80"):   # every pickle of protocol 2 or later starts so
            raise ModelFileError(f"{path} holds a pickled Python object, which minibigram "
                                 "refuses to load because unpickling can run code: use a file "
                                 "written by minibigram.")
        if not magic.startswith(b"PK"):  # a .npz file is a zip archive
            raise ModelFileError(f"{path} is not a minibigram model file (not an .npz "
                                 "archive): give the file written by model.save or "
                                 "'minibigram train --out'.")
        _check_directory(path, f)
        try:
            z = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise _corrupt(path) from None
        with z:
            yield _Reader(path, z)


def _read_meta(reader: _Reader, kind: str | None) -> dict[str, Any]:
    path = reader.path
    if "meta" not in reader.members:
        raise ModelFileError(f"{path} lacks the array meta: it is not a minibigram "
                             f"{kind or 'model'} model file.")

    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_META_CHARS:
            raise ModelFileError(f"{path} has an unreadable header: it is not a minibigram "
                                 "model file of this version.")

    text = str(reader.read("meta", check)[()])
    try:
        meta = json.loads(text)
        if (meta["format"] != FORMAT or not isinstance(meta["settings"], dict)
                or not isinstance(meta["kind"], str)):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError, IndexError):
        raise ModelFileError(f"{path} has an unreadable header: it is not a minibigram model "
                             "file of this version.") from None
    if meta["kind"] == "ngram" and meta["settings"].get("encoding") == "concat":
        meta["kind"] = "concat"   # the format's other spelling of the concat network
    return meta


def _read_vocab(reader: _Reader) -> Vocabulary:
    """The vocabulary of ``itos``: the boundary's display symbol, then the sorted characters.

    ``itos[0]`` shows the boundary (id 0): ``"."`` for every file written before the
    boundary stopped being a character, and for any data without ``"."``; the first
    :data:`~minibigram.vocab.BOUNDARY_SYMBOLS` the characters lack (``"⏎"``) when they
    hold ``"."``. It must be the symbol ``Vocabulary(itos[1:])`` chooses, so old files
    read exactly as before and no file is ambiguous (see ``docs/boundary.md``).
    """
    path = reader.path

    def invalid(why: str = "") -> ModelFileError:
        return ModelFileError(f"{path} has an invalid vocabulary (it must list single "
                              f"characters, the boundary's symbol first{why}): it is not a "
                              "minibigram model file.")

    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype.kind != "U" or len(shape) != 1 or shape[0] == 0:
            raise invalid()

    itos = reader.read("itos", check)
    codes = itos.astype(itos.dtype.newbyteorder("<")).view("<u4").reshape(len(itos), -1)  # (V, L)
    if ((codes > 0x10FFFF) | ((codes >= 0xD800) & (codes < 0xE000))).any():
        raise invalid(", no lone surrogates")
    if (np.char.str_len(itos) != 1).any():
        raise invalid()
    try:
        vocab = Vocabulary([str(c) for c in itos[1:]])
    except DataError:
        raise invalid(", none a line break") from None
    if vocab.itos[1:] != [str(c) for c in itos[1:]]:
        raise ModelFileError(f"{path} has an invalid vocabulary (not sorted or with repeats): "
                             "it is not a minibigram model file.")
    if vocab.itos[0] != str(itos[0]):
        raise invalid(f": {vocab.itos[0]!r} for these characters")
    return vocab


def read_kind(path: PathLike) -> str:
    """The model kind an archive's header names; reads only the header member."""
    with _open_model(os.fspath(path)) as reader:
        return str(_read_meta(reader, None)["kind"])


def load_npz(path: PathLike, *, kind: str, layout: Mapping[str, Array]
             ) -> tuple[dict[str, np.ndarray], Vocabulary, list[float], dict[str, Any]]:
    """Read and check an archive written by :func:`save_npz` of a model of ``kind``.

    ``layout`` declares the arrays it holds (those marked optional may be missing).
    Reads ``meta``, then ``itos``, then ``history`` and the arrays of ``layout``, and
    nothing else. Each array's dtype and shape are checked against its declaration
    before it is inflated, and its size, in total, against :data:`MAX_LOAD_BYTES`.
    Nothing is ever unpickled.

    Returns
    -------
    arrays, vocab, history, settings

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder or another non-regular file (a FIFO is
        refused without being opened for a blocking read), or cannot be read.
    ModelFileError
        If the file is not a minibigram model file of ``kind``, is truncated, corrupt,
        encrypted or compressed by a method other than deflate, holds pickled objects,
        declares arrays that do not fit ``layout`` or exceed the bound, or its settings
        have the wrong types.
    """
    path = os.fspath(path)
    with _open_model(path) as reader:
        meta = _read_meta(reader, kind)
        if meta["kind"] != kind:   # checked first: another kind has other arrays
            raise ModelFileError(f"{path} holds a {meta['kind']} model, not a {kind} model: "
                                 "load it with the matching model kind (minibigram.load_model "
                                 "detects it).")
        settings = meta["settings"]
        _check_settings(path, settings)
        names = [k for k, a in layout.items() if not a.optional or k in reader.members]
        missing = [k for k in ("itos", "history", *names) if k not in reader.members]
        if missing:
            what = "the array" if len(missing) == 1 else "the arrays"
            raise ModelFileError(f"{path} lacks {what} {', '.join(missing)}: it is not a "
                                 f"minibigram {kind} model file.")
        vocab = _read_vocab(reader)

        def check_history(dtype: np.dtype, shape: tuple[int, ...]) -> None:
            if len(shape) != 1 or dtype.kind != "f":
                raise ModelFileError(f"{path} has a training history of shape {shape} and "
                                     f"dtype {dtype}, not a list of losses: it is not a "
                                     "minibigram model file.")

        history = reader.read("history", check_history)
        if not np.isfinite(history).all():   # training stops at a non-finite loss
            raise ModelFileError(f"{path} holds NaN or infinite values in its training "
                                 "history: retrain the model or use another copy.")
        K = settings.get("context")   # checked above to be a whole number >= 1, if given
        sizes: dict[str, tuple[int, str]] = {"V": (len(vocab), "")}
        if K is not None:
            sizes["K"] = (K, "")
        arrays = {k: reader.read(k, _array_check(path, k, layout[k], sizes)) for k in names}
    for k, a in arrays.items():
        # -inf is allowed: it is the logit of a probability of exactly 0 (the closed-form
        # optimum with reg 0), as long as every row keeps a finite entry.
        if a.dtype.kind == "f" and (np.isnan(a).any() or np.isposinf(a).any()
                                    or (a.ndim > 0 and a.shape[-1] > 0
                                        and not np.isfinite(a).any(axis=-1).all())):
            raise ModelFileError(f"{path} holds NaN or infinite values in {k}: retrain the "
                                 "model or use another copy.")
    return arrays, vocab, [float(x) for x in history], settings


def _array_check(path: str, name: str, want: Array, sizes: dict[str, tuple[int, str]]
                 ) -> Callable[[np.dtype, tuple[int, ...]], None]:
    """The check of ``name``'s header against ``want``: ``sizes`` holds each dimension's size
    and the array it was read from ("" for the vocabulary and the settings); a dimension
    first met here (``"C"``) is added to it."""
    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype.name not in want.dtypes:
            allowed = " or ".join(want.dtypes) if len(want.dtypes) <= 2 else "numbers"
            raise ModelFileError(f"{path} holds {name} of dtype {dtype}, not {allowed}: it is "
                                 "not a minibigram model file.")
        if len(shape) != len(want.shape) or any(
                d in sizes and sizes[d][1] == "" and n != sizes[d][0]
                for n, d in zip(shape, want.shape)):
            context = f" and a context of {sizes['K'][0]}" if "K" in want.shape and "K" in sizes \
                else ""
            raise ModelFileError(f"{path} holds {name} of shape {shape} but a vocabulary of "
                                 f"{sizes['V'][0]} characters{context}, which do not fit "
                                 "together: retrain the model or use another copy.")
        for n, d in zip(shape, want.shape):
            if d not in sizes:
                sizes[d] = (n, name)
            elif n != sizes[d][0]:   # a number of contexts another array has otherwise
                raise ModelFileError(f"{path} holds {name} of shape {shape} but {sizes[d][1]} "
                                     f"with {sizes[d][0]} rows, which do not fit together: "
                                     "retrain the model or use another copy.")
    return check
