"""Count a corpus of many files on a Dask cluster: map each file to its counts, add them up.

Counts add (a word never spans two files), so counting a corpus is a map-reduce:

    files -> one task per file: count_bigrams / count_contexts -> counts -> pairwise sums

Each task streams its file with the same code as a single-process count, on the
worker that runs it; the counts are summed on the workers as they finish (a
reduction tree), and only the final sum reaches the caller. Text never travels,
counts do: a (V, V) or (C, V) int64 array per file, plus its vocabulary.

Dask is optional: it is imported inside :func:`count_files` only.
"""

from __future__ import annotations

import contextlib
import glob
import math
import operator
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Union

from .errors import DependencyError, FileAccessError, SettingsError, check_has_words
from .examples import BigramCounts, ContextCounts
from .stream import count_bigrams, count_contexts

PathLike = Union[str, "os.PathLike[str]"]

#: What to install for :func:`count_files` (the package is not on PyPI).
INSTALL_DASK = 'pip install ".[dask]"'


def shard_paths(paths: PathLike | Sequence[PathLike]) -> list[str]:
    """The files a corpus is made of: the matches of a glob, or the paths given.

    Parameters
    ----------
    paths : str, os.PathLike, or sequence of them
        A glob such as ``"corpus/*.txt"`` (``**`` descends into folders), one path,
        or a list of paths (taken as they are, not as globs).

    Returns
    -------
    list of str
        The files (folders left out of a glob), sorted for a glob, in the given
        order for a list.

    Raises
    ------
    FileAccessError
        If the glob matches no file, or a listed path is missing or a folder.
    SettingsError
        If the list is empty.
    """
    if isinstance(paths, (str, os.PathLike)):
        pattern = os.fspath(paths)
        if not glob.has_magic(pattern):
            return shard_paths([pattern])
        files = sorted(p for p in glob.glob(pattern, recursive=True) if not os.path.isdir(p))
        if not files:
            raise FileAccessError(f"the pattern {pattern!r} matches no file: check the folder "
                                  "and the pattern (quote it, so that the shell does not "
                                  "expand it).")
        return files
    files = [os.fspath(p) for p in paths]
    if not files:
        raise SettingsError("no files to count: give a glob or at least one path.")
    for f in files:
        if os.path.isdir(f):
            raise FileAccessError(f"{f} is a folder, not a file: give the path of a text file "
                                  "with one word per line, or a glob such as 'corpus/*.txt'.")
        if not os.path.exists(f):
            raise FileAccessError(f"{f} does not exist: check the path.")
    return files


def count_file(path: str, context: int = 1,
               chunk_bytes: int = 1 << 20) -> BigramCounts | ContextCounts:
    """The counts of one file: :func:`count_bigrams` for K = 1, :func:`count_contexts` beyond.

    This is the task every worker runs, one call per file.
    """
    if context == 1:
        return count_bigrams(path, chunk_bytes=chunk_bytes)
    return count_contexts(path, context, chunk_bytes=chunk_bytes)


def count_files(paths: PathLike | Sequence[PathLike], *, context: int = 1,
                address: str | None = None, chunk_bytes: int = 1 << 20,
                progress: Callable[[int, int], None] | None = None,
                timeout: float = 30.0) -> BigramCounts | ContextCounts:
    """Count the examples of many files on a Dask cluster and return their sum.

    Parameters
    ----------
    paths : str, os.PathLike, or sequence of them
        A glob (``"corpus/*.txt"``) or a list of UTF-8 files with one word per line,
        read as :func:`minibigram.load_words` reads them. Every worker must see the
        files at the same paths, and so must the caller (it expands the glob, makes
        relative paths absolute, and reads the sizes for ``progress``).
    context : int, default 1
        The context length K. K = 1 counts bigrams; K > 1 counts the (K previous
        characters, next character) examples the n-gram models train on.
    address : str, optional
        The scheduler of a running cluster, e.g. ``"tcp://10.0.0.5:8786"``. ``None``
        starts a ``LocalCluster`` on this machine, one single-threaded worker
        process per core, and closes it at the end.
    chunk_bytes : int, default 1 MiB
        How much each task reads at a time; a worker's memory is a small multiple
        of it plus the counts.
    progress : callable, optional
        ``progress(files_done, bytes_done)`` each time a file's counts arrive
        (``bytes_done``: the sum of the sizes of the files done).
    timeout : float, default 30
        Seconds to wait for the scheduler to answer, and then for at least one
        worker to be connected to it. The counting itself has no time limit.

    Returns
    -------
    BigramCounts or ContextCounts
        ``BigramCounts`` for K = 1, ``ContextCounts`` for K > 1, indexed by the union
        of the alphabets of all files; equal, entry for entry, to the single-process
        counts of the files' concatenation.

    Raises
    ------
    DependencyError
        If ``dask[distributed]`` is not installed.
    FileAccessError
        If the glob matches no file, or a file is missing, a folder or unreadable.
    DataError
        If a file is not UTF-8 (the message names the file and the line), a word
        contains ``"."``, or the files hold no word at all.
    SettingsError
        If an option is out of range, the scheduler does not answer within
        ``timeout`` or has no worker, or workers kept dying on one file.

    Notes
    -----
    A file is the unit of work: one task reads one whole file, so a corpus spreads
    over as many workers as it has files (split one large file at line breaks
    first, e.g. ``split -C 128M corpus.txt shard-``). The tasks' counts are added
    pairwise on the workers as they finish,

    .. math:: N = \\sum_{f} N_f,

    each ``+`` merging two alphabets (and, for K > 1, two sets of contexts).

    If a worker dies (killed, out of memory), the scheduler runs its tasks again on
    the other workers; counting a file is deterministic, so the sum stays exact. A
    file whose task was running on each of ``distributed.scheduler.allowed-failures
    + 1`` (default 4) workers as they died is given up on, and this function then
    raises ``SettingsError`` naming it.
    """
    if isinstance(context, bool) or not isinstance(context, int) or context < 1:
        raise SettingsError(f"the context length must be a whole number >= 1, got {context!r}.")
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int) or chunk_bytes < 1:
        raise SettingsError(f"chunk_bytes must be a whole number >= 1, got {chunk_bytes!r}.")
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout) or timeout <= 0):
        raise SettingsError(f"the timeout must be a number of seconds > 0, got {timeout!r}.")
    # absolute: a worker's working folder is not the caller's
    files = [os.path.abspath(f) for f in shard_paths(paths)]
    sizes = [os.path.getsize(f) for f in files]
    try:
        from dask.distributed import Client
    except ImportError:
        raise DependencyError("counting on a Dask cluster needs dask[distributed]: install it "
                              f"with {INSTALL_DASK} from a minibigram checkout.") from None
    if address is None:
        with local_cluster() as cluster, Client(cluster, set_as_default=False) as client:
            return _count_on(client, files, sizes, context, chunk_bytes, progress)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        reason = str(e).split("\n")[0].rstrip(".: ")
        raise SettingsError(f"the Dask scheduler at {address!r} did not answer within "
                            f"{timeout:g} s ({reason}): check the address and that the "
                            "scheduler is running.") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise SettingsError(f"the Dask scheduler at {address!r} has no worker after "
                                f"{timeout:g} s: start workers with `dask worker "
                                f"{address}`.") from None
        return _count_on(client, files, sizes, context, chunk_bytes, progress)


@contextlib.contextmanager
def local_cluster(n_workers: int | None = None) -> Iterator[Any]:
    """A Dask ``LocalCluster`` for counting: ``n_workers`` single-threaded processes.

    ``n_workers`` defaults to the number of cores. The workers start without the
    ``MALLOC_TRIM_THRESHOLD_=65536`` Dask's nanny sets by default: it fixes glibc's
    mmap threshold, so every 1 MiB chunk is mapped and unmapped afresh, and counting
    runs 2-4 times slower. There is no dashboard, and the scheduler's HTTP server
    takes a free port, and the workers log only critical errors (a task's error is
    raised in the caller by :func:`count_files`, not logged twice). Use it as ``with
    local_cluster(2) as cluster:``.

    Raises
    ------
    DependencyError
        If ``dask[distributed]`` is not installed.
    """
    try:
        import dask
        from dask.distributed import LocalCluster
    except ImportError:
        raise DependencyError("counting on a Dask cluster needs dask[distributed]: install it "
                              f"with {INSTALL_DASK} from a minibigram checkout.") from None
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                         processes=True, dashboard_address=None,
                         scheduler_kwargs={"dashboard_address": ":0"},
                         silence_logs=50) as cluster:   # logging.CRITICAL: no tracebacks
        yield cluster


def _count_on(client: Any, files: list[str], sizes: list[int], context: int,
              chunk_bytes: int, progress: Callable[[int, int], None] | None,
              ) -> BigramCounts | ContextCounts:
    """Map the files to counts on ``client``'s cluster and reduce them pairwise as they finish."""
    from dask.distributed import as_completed
    from distributed import KilledWorker

    # pure=False: the same path may hold other words by the next call.
    futures = client.map(count_file, files, context=context, chunk_bytes=chunk_bytes,
                         pure=False)
    shard = {f.key: (path, size) for f, path, size in zip(futures, files, sizes)}
    files_done = bytes_done = 0
    pending = None
    seq = as_completed(futures, loop=client.loop)
    del futures                    # a file's counts are dropped once they are added
    try:
        for fut in seq:
            if fut.status == "error":
                fut.result()       # raises the task's own error (DataError, FileAccessError)
            if fut.key in shard:
                files_done += 1
                bytes_done += shard[fut.key][1]
                if progress is not None:
                    progress(files_done, bytes_done)
            if pending is None:
                pending = fut
            else:                  # add the two on a worker: only counts move between workers
                seq.add(client.submit(operator.add, pending, fut, pure=False))
                pending = None
        assert pending is not None
        total: BigramCounts | ContextCounts = pending.result()
    except KilledWorker as e:
        path = shard.get(getattr(e, "task", None), ("a sum of counts", 0))[0]
        raise SettingsError(f"Dask workers kept dying while counting {path} (out of "
                            "memory?), so it was given up on: give the workers more memory "
                            "or use a smaller chunk_bytes.") from None
    check_has_words(total.num_examples, f"the {len(files)} file(s)")
    return total


__all__ = ["count_file", "count_files", "local_cluster", "shard_paths"]
