"""Safe writing: a file is replaced whole, atomically, or not at all.

:func:`atomic_write` writes to a locked temporary file beside the target and renames
it over the target; an error or a signal removes the temporary file and leaves the
previous file as it was. :func:`check_writable` refuses, before any work, a path that
must not be replaced (anything but a regular file, or an input); saves killed outright
leave temporary files that :func:`remove_stale_temporaries` clears. Model files,
exports and figures are all written here; see ``docs/safety.md``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import threading
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, Callable

from .errors import FileAccessError
from .words import PathLike

try:
    import fcntl
except ImportError:   # not POSIX: a live writer is recognised by its PID alone
    fcntl = None  # type: ignore[assignment]

_TMP_PREFIX = ".minibigram-"
_TMP_NAME = re.compile(r"\.minibigram-(\d+)-[0-9a-f]{8}\.tmp")


def describe_mode(mode: int) -> str:
    """What a file of ``mode`` (``st_mode``) that is not a regular file is, for a message."""
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
        raise FileAccessError(f"{path} is {describe_mode(st.st_mode)}, not a regular file: "
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
    if fcntl is None:
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
                    raise FileAccessError(f"{path} is {describe_mode(st.st_mode)}, not a "
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
            signal.raise_signal(e.signum)   # the previous handler decides what happens now
            raise KeyboardInterrupt from None   # (it returned: the save still did not happen)
        if isinstance(e, OSError) and not isinstance(e, FileAccessError):
            raise FileAccessError(f"cannot write {path} ({e.strerror}): check the free space "
                                  "and that the path is a file you may replace.") from None
        raise

