"""Model files and safe writing: what is written, what may be replaced, what is read back.

A model file is an ``.npz`` archive (a zip of ``.npy`` arrays) with the members
``meta`` (a JSON header: format, kind, settings), ``itos`` (the vocabulary),
``history`` (training losses) and the kind's arrays (``W``, ``N``, ``contexts``).
Nothing in it is ever unpickled, and reading it is bounded:

- only the members the model needs are opened; any other member is never inflated;
- each ``.npy`` header is read first, from the member's stream, and the declared
  dtype and shape are checked against the vocabulary (read first) and against
  :data:`MAX_LOAD_BYTES` *before* a byte of the array itself is inflated;
- the zip's directory is bounded (:data:`MAX_MEMBERS`), only stored or deflated
  members are read (no encryption), and every member's CRC is checked;
- the settings that drive later work (the split, its seed, the context length)
  are type-checked.

Writing (:func:`atomic_write`) replaces only a regular file, never the input, and
never leaves a half-written file: see :func:`check_writable` and ``docs/safety.md``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Callable, Union

# json, signal, struct, threading, zipfile and zlib are imported by the functions that save
# or load: importing them here would slow down the start of every command (issue 15).
if TYPE_CHECKING:
    import zipfile

import numpy as np

from .errors import DataError, FileAccessError, ModelFileError
from .vocab import Vocabulary
from .words import PathLike, parse_split

if TYPE_CHECKING:
    from .models import LanguageModel

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
_TMP_PREFIX = ".minibigram-"
_TMP_NAME = re.compile(r"\.minibigram-(\d+)-[0-9a-f]{8}\.tmp")

#: A dimension of an expected shape: an exact size, ``"V"`` (the vocabulary size), or
#: ``None`` (any size, bounded by :data:`MAX_LOAD_BYTES`).
Dim = Union[int, str, None]


# --- writing --------------------------------------------------------------------------------

def _describe_mode(mode: int) -> str:
    for test, what in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _target(path: str) -> str:
    """The file a save to ``path`` replaces: ``path``, or the file its symbolic link names.

    Raises
    ------
    FileAccessError
        If ``path`` is a symbolic link that leads nowhere (or round in a loop).
    """
    if not os.path.islink(path):
        return path
    real = os.path.realpath(path)
    if not os.path.exists(real):
        raise FileAccessError(f"cannot write {path}: it is a symbolic link to {real}, which "
                              "does not exist; give the path of a file, not of a broken link.")
    return real


def check_writable(path: PathLike, *, inputs: Sequence[PathLike | None] = ()) -> None:
    """Refuse, before any work, a path that a save could not or must not replace.

    What a save to ``path`` does, and so what is checked here:

    - It replaces a **regular file** at ``path``, or creates one. A folder, a device
      (``/dev/null``, ``/dev/full``), a named pipe or a socket is refused.
    - A **symbolic link** is followed: the regular file it points to is replaced (the
      link stays and names the new file), exactly as ``open(path, "w")`` would write
      through it. A link to a missing file, or to anything but a regular file, is
      refused.
    - It never replaces one of ``inputs`` (e.g. the ``--data`` file being trained on,
      or the model being plotted): the same file is recognised by its inode
      (:func:`os.path.samefile`), so hard links and symbolic links to it are caught.
    - The temporary file it writes first is really created and removed in the target's
      folder, and the name's length is checked against the file system's limit: a
      missing, read-only or special folder (``/proc``, ``/sys``) or a too long name is
      refused now, not after training.

    Parameters
    ----------
    path : str or PathLike
    inputs : sequence of paths, optional
        Files this run reads; ``None`` entries are skipped.

    Raises
    ------
    FileAccessError
    """
    path = os.fspath(path)
    if not path:
        raise FileAccessError("the output path is empty: give a file name such as model.npz.")
    target = _target(path)
    name = os.path.basename(target)
    try:
        name_max = os.pathconf(os.path.dirname(os.path.abspath(target)), "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):   # no pathconf (Windows) or no answer
        name_max = 255
    if len(os.fsencode(name)) > name_max:
        raise FileAccessError(f"cannot write {path}: its name is {len(os.fsencode(name))} "
                              f"bytes long, more than the {name_max} this file system allows; "
                              "choose a shorter name.")
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise FileAccessError(f"cannot write {path} ({e.strerror}): choose another "
                              "path.") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileAccessError(f"{path} is a folder: give a file name such as {path}/model.npz.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileAccessError(f"{path} is {_describe_mode(st.st_mode)}, not a regular file: "
                              "minibigram replaces only regular files; choose another path.")
    for source in inputs:
        if source is not None and st is not None and os.path.exists(source) \
                and os.path.samefile(target, source):
            raise FileAccessError(f"{path} is the input file {os.fspath(source)}, which "
                                  "minibigram never replaces: choose another output path.")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileAccessError(f"cannot write {path}: the folder {folder} does not exist; "
                              "create it first or choose another path.")
    if not os.access(folder, os.W_OK):
        raise FileAccessError(f"cannot write {path}: you are not allowed to write to the folder "
                              f"{folder}; choose another path.")
    tmp = _create_temporary(path, folder)   # the probe: can a file be made there at all?
    os.close(tmp[0])
    os.unlink(tmp[1])


def _create_temporary(path: str, folder: str) -> tuple[int, str]:
    """Create ``folder/.minibigram-PID-XXXXXXXX.tmp``; its descriptor and name."""
    tmp = os.path.join(folder, f"{_TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        # Created like open(path, "wb") would create path: mode 0o666 less the umask
        # (tempfile.mkstemp would give 0o600, and the rename would keep it).
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
    except OSError as e:
        raise FileAccessError(f"cannot write {path} ({e.strerror}): choose a folder you are "
                              "allowed to write to.") from None


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive advisory lock on ``fd`` (held by a writer until its process ends)."""
    try:
        import fcntl  # POSIX only; elsewhere a live writer is recognised by its PID alone
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):   # another user's process, or no such PID
        return pid < 2**31
    return True


def remove_stale_temporaries(folder: PathLike) -> list[str]:
    """Delete the temporary files of saves that died (SIGKILL, power loss) in ``folder``.

    A file is removed only if its name is ``.minibigram-PID-XXXXXXXX.tmp``, it is a
    regular file, no process with that PID runs, and no process holds its lock (a
    writer locks its temporary file, so a live writer in another PID namespace sharing
    the folder is not disturbed). Returns the names removed.
    """
    removed: list[str] = []
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.startswith(_TMP_PREFIX)]
    except OSError:
        return removed
    for name in entries:
        m = _TMP_NAME.fullmatch(name)
        if not m or _pid_runs(int(m.group(1))):
            continue
        full = os.path.join(folder, name)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd, blocking=False):
                os.unlink(full)
                removed.append(name)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


class _Signalled(BaseException):
    """Raised inside a save by SIGTERM or SIGINT, so that the temporary file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While a save runs, SIGTERM and SIGINT raise :class:`_Signalled` (cleanup, then the
    signal is delivered again to the handler that was there before). An ignored signal
    stays ignored; outside the main thread handlers cannot be set, and nothing changes."""
    import signal  # here, not at the top: only a save needs them (start-up time)
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Signalled(signum)

    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            old = signal.getsignal(sig)
            if old is not signal.SIG_IGN and old is not None:
                previous[sig] = old
                signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` on a temporary file in the same folder, then rename it over ``path``.

    An interrupted or failed save (Ctrl-C, SIGTERM, a full disk, an error in
    ``write``) therefore never leaves a half-written file and never clobbers the
    previous one: the temporary file ``.minibigram-PID-XXXXXXXX.tmp`` is removed and
    ``path`` is untouched. A SIGTERM or SIGINT is then delivered again to the handler
    that was installed before the save (by default: the process ends, or
    ``KeyboardInterrupt``). Temporary files left by saves that were killed outright
    (SIGKILL) are removed by the next save in that folder
    (:func:`remove_stale_temporaries`).

    What may be replaced is decided by :func:`check_writable` (a regular file, or
    the regular file a symbolic link points to); it is checked again just before the
    rename.

    Raises
    ------
    FileAccessError
        If the path may not be replaced, the folder is missing or not writable, or
        writing fails.
    """
    path = os.fspath(path)
    check_writable(path)
    target = _target(path)
    folder = os.path.dirname(os.path.abspath(target))
    remove_stale_temporaries(folder)
    fd = tmp = None
    try:
        with _signals_raise():
            fd, tmp = _create_temporary(path, folder)
            _lock(fd, blocking=True)   # held until closed: tells a cleaner this file is live
            with os.fdopen(fd, "wb") as f:
                fd = None
                write(f)
                f.flush()
                try:   # a replaced file keeps its permissions, as open() would
                    st: os.stat_result | None = os.stat(target)
                except FileNotFoundError:
                    st = None
                if st is not None and not stat.S_ISREG(st.st_mode):   # changed since the check
                    raise FileAccessError(f"{path} is {_describe_mode(st.st_mode)}, not a "
                                          "regular file: minibigram replaces only regular "
                                          "files; choose another path.")
                if st is not None:
                    os.chmod(tmp, st.st_mode & 0o7777)
                os.replace(tmp, target)
                tmp = None
    except BaseException as e:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(e, _Signalled):
            import signal  # here, not at the top: only a save needs it (start-up time)

            signal.raise_signal(e.signum)   # the previous handler decides what happens now
            raise KeyboardInterrupt from None   # (it returned: the save still did not happen)
        if isinstance(e, OSError) and not isinstance(e, FileAccessError):
            raise FileAccessError(f"cannot write {path} ({e.strerror}): check the free space "
                                  "and that the path is a file you may replace.") from None
        raise


def save_npz(path: PathLike, *, kind: str, arrays: dict[str, np.ndarray], vocab: Vocabulary,
             history: Sequence[float], settings: dict[str, Any]) -> None:
    """Write a model file atomically (see :func:`atomic_write`): no pickled objects."""
    import json  # here, not at the top: only a save needs it (start-up time)

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


def _open_regular(path: str) -> IO[bytes]:
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
        raise FileAccessError(f"{path} is {_describe_mode(mode)}, not a model file: give the "
                              ".npz file written by model.save or 'minibigram train --out'.")
    return os.fdopen(fd, "rb")


def _check_directory(path: str, f: IO[bytes]) -> None:
    """Refuse a zip whose directory lists more than :data:`MAX_MEMBERS` members, before
    :mod:`zipfile` parses it all into memory. A file without the end record is left to
    zipfile (which reports it as not a zip)."""
    import struct  # here, not at the top: only a load needs it (start-up time)

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
        import zipfile  # here, not at the top: only a load needs them (start-up time)
        import zlib

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


def expected_shapes(kind: str, settings: Mapping[str, Any]) -> dict[str, tuple[Dim, ...]]:
    """The shapes a model file of ``kind`` declares for its arrays, checked before reading.

    ``"V"`` is the vocabulary size, ``None`` any size; how the arrays fit each other
    (W's rows against the contexts) is checked by the model's constructor.
    """
    K = settings.get("context")
    K = K if isinstance(K, int) and not isinstance(K, bool) and K >= 1 else None
    if kind == "counts":
        return {"N": (None, "V"), "contexts": (None, K)}
    if kind == "ngram" and settings.get("encoding") == "concat":
        return {"W": (K, "V", "V")}
    if kind == "ngram":
        return {"W": (None, "V"), "contexts": (None, K)}
    return {"W": ("V", "V")}


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
    with _open_regular(path) as f:
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
        import zipfile  # here, not at the top: only a load needs it (start-up time)

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
    import json  # here, not at the top: only a load needs it (start-up time)

    try:
        meta = json.loads(text)
        if (meta["format"] != FORMAT or not isinstance(meta["settings"], dict)
                or not isinstance(meta["kind"], str)):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError, IndexError):
        raise ModelFileError(f"{path} has an unreadable header: it is not a minibigram model "
                             "file of this version.") from None
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


def load_npz(path: PathLike, *, kind: str, names: Sequence[str], optional: Sequence[str] = (),
             shapes: Mapping[str, Sequence[Dim]] | None = None
             ) -> tuple[dict[str, np.ndarray], Vocabulary, list[float], dict[str, Any]]:
    """Read and check a model file written by :func:`save_npz`.

    ``names`` are the arrays the file must hold, ``optional`` those it may hold.

    Reads ``meta``, then ``itos``, then ``history`` and ``names``, and nothing else.
    Each array's declared dtype and shape are checked before it is inflated: against
    ``shapes`` (default :func:`expected_shapes` of ``kind`` and the file's settings)
    and, in total, against :data:`MAX_LOAD_BYTES`. Nothing is ever unpickled.

    Raises
    ------
    FileAccessError
        If the path does not exist, is a folder or another non-regular file (a FIFO is
        refused without being opened for a blocking read), or cannot be read.
    ModelFileError
        If the file is not a minibigram model file, is truncated, corrupt, encrypted or
        compressed by a method other than deflate, holds pickled objects, declares
        arrays that do not fit its vocabulary or exceed the bound, or its settings have
        the wrong types.
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
        missing = [k for k in ("itos", "history", *names) if k not in reader.members]
        if missing:
            what = "the array" if len(missing) == 1 else "the arrays"
            raise ModelFileError(f"{path} lacks {what} {', '.join(missing)}: it is not a "
                                 f"minibigram {kind} model file.")
        vocab = _read_vocab(reader)
        V = len(vocab)

        def check_history(dtype: np.dtype, shape: tuple[int, ...]) -> None:
            if len(shape) != 1 or dtype.kind != "f":
                raise ModelFileError(f"{path} has a training history of shape {shape} and "
                                     f"dtype {dtype}, not a list of losses: it is not a "
                                     "minibigram model file.")

        history = reader.read("history", check_history)
        rules = expected_shapes(kind, settings) if shapes is None else shapes
        arrays = {}
        for k in (*names, *(o for o in optional if o in reader.members)):
            arrays[k] = reader.read(k, _array_check(path, k, rules.get(k), V))
    for k, a in arrays.items():
        # -inf is allowed: it is the logit of a probability of exactly 0 (the closed-form
        # optimum with reg 0), as long as every row keeps a finite entry.
        if a.dtype.kind == "f" and (np.isnan(a).any() or np.isposinf(a).any()
                                    or (a.ndim > 0 and a.shape[-1] > 0
                                        and not np.isfinite(a).any(axis=-1).all())):
            raise ModelFileError(f"{path} holds NaN or infinite values in {k}: retrain the "
                                 "model or use another copy.")
    return arrays, vocab, [float(x) for x in history], settings


def _array_check(path: str, name: str, rule: Sequence[Dim] | None, V: int
                 ) -> Callable[[np.dtype, tuple[int, ...]], None]:
    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype.kind not in "fiu":
            raise ModelFileError(f"{path}: {name} holds {dtype} values, not numbers: it is not "
                                 "a minibigram model file.")
        if rule is None:
            return
        want = [V if d == "V" else d for d in rule]
        if len(shape) != len(want) or any(w is not None and s != w
                                          for s, w in zip(shape, want)):
            K = [d for d in rule if isinstance(d, int)]
            context = f" and a context of {K[0]}" if K else ""
            raise ModelFileError(f"{path} holds {name} of shape {shape} but a vocabulary of "
                                 f"{V} characters{context}, which do not fit together: "
                                 "retrain the model or use another copy.")
    return check


def model_kind(path: PathLike) -> str:
    """The kind ("bigram", "counts" or "ngram") written in a model file's header.

    Reads only the header member. Returns "bigram" if the header cannot be read, so
    that :meth:`BigramModel.load` reports what exactly is wrong with the file.
    """
    try:
        with _open_model(os.fspath(path)) as reader:
            return str(_read_meta(reader, None)["kind"])
    except (ModelFileError, FileAccessError):
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
