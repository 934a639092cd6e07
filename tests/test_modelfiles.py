"""Model files (minibigram.modelfiles, minibigram.archive) against hostile and careless input.

Every crafted model file here is built by the test itself, member by member, with a
small zip writer that can set what numpy and zipfile would not write (a compression
method, the encryption flag, a deflate stream that inflates to gigabytes). Each case
must end in one documented exception with a clear message (and, through the CLI, in
one line ``minibigram: error: ...`` and exit status 2), never a traceback, a hang or
unbounded memory.
"""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
from conftest import cli_error, pairs_by_hand

import minibigram as mb
from minibigram import (
    BigramModel,
    ConcatModel,
    CountModel,
    FileAccessError,
    ModelFileError,
    NGramModel,
    Vocabulary,
    load_model,
)
from minibigram.archive import FORMAT, MAX_LOAD_BYTES, Array, load_npz, save_npz
from minibigram.modelfiles import MODEL_CLASSES, model_kind
from minibigram.models import DTYPES

ITOS = [".", "a", "b", "n", "o"]


# --- a zip writer for crafted files ---------------------------------------------------------

def npy(a):
    """The .npy bytes of ``a`` (as np.save writes them)."""
    f = io.BytesIO()
    np.lib.format.write_array(f, np.asarray(a), allow_pickle=False)
    return f.getvalue()


def npy_header(shape, dtype):
    """Only the .npy header of an array of ``shape`` and ``dtype``: a claim, no data."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(
        np.dtype(dtype)), "fortran_order": False, "shape": shape})
    return f.getvalue()


def deflate(raw):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)   # raw deflate, as in zip members
    return c.compress(raw) + c.flush()


def member(raw, *, method=8, flags=0):
    """A zip member: (payload, crc, uncompressed size, method, flags)."""
    payload = deflate(raw) if method == 8 else raw
    return payload, zlib.crc32(raw), len(raw), method, flags


def write_zip(path, members):
    """A zip file of ``{name: member(...)}``; zip64 sizes where they exceed 4 GiB."""
    out, central = bytearray(), bytearray()
    for name, (payload, crc, usize, method, flags) in members.items():
        n = name.encode()
        big = usize >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, usize, len(payload)) if big else b""
        us, cs = (0xFFFFFFFF, 0xFFFFFFFF) if big else (usize, len(payload))
        ver = 45 if big else 20
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, ver, flags, method, 0, 0x21, crc, cs, us,
                           len(n), len(extra)) + n + extra + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, ver, ver, flags, method, 0,
                               0x21, crc, cs, us, len(n), len(extra), 0, 0, 0, 0, offset)
        central += n + extra
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                       len(out), 0)
    path.write_bytes(bytes(out + central + eocd))
    return path


def model_members(*, itos=ITOS, W=None, settings=None, kind="bigram", meta=None, **extra):
    """The members of a bigram model file; ``extra`` adds or (with None) removes some."""
    V = len(itos)
    W = np.zeros((V, V), np.float32) if W is None else W
    meta = meta if meta is not None else json.dumps(
        {"format": FORMAT, "kind": kind, "settings": settings or {}})
    members = {"meta.npy": member(npy(np.array(meta))), "itos.npy": member(npy(np.array(itos))),
               "history.npy": member(npy(np.zeros(2))), "W.npy": member(npy(W))}
    for k, v in extra.items():
        if v is None:
            members.pop(k, None)
        else:
            members[k] = v
    return members


def zeros_bomb(header, n):
    """A member: ``header`` then ``n`` zero bytes, deflated to about n/1000 bytes, built
    in a fraction of a second (one 16 MiB block is compressed and its bytes repeated:
    after a sync flush each block only refers back to zeros). Its CRC is not computed
    (that would take seconds): a reader must refuse the member before its end."""
    chunk = 2**24
    k, r = divmod(n, chunk)
    assert k >= 2
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header + bytes(chunk)) + c.flush(zlib.Z_SYNC_FLUSH)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_SYNC_FLUSH)
    tail = c.compress(bytes(r)) + c.flush()
    return first + block * (k - 1) + tail, 0, len(header) + n, 8, 0




# --- crafted model files: one clear error each ----------------------------------------------

def _corrupt_deflate():
    payload, crc, usize, method, flags = member(npy(np.zeros((5, 5), np.float32)))
    return {"W.npy": (b"\xff" * len(payload), crc, usize, method, flags)}   # block type 3


def _method_99():
    payload, crc, usize, _, flags = member(npy(np.zeros((5, 5), np.float32)))
    return {"W.npy": (payload, crc, usize, 99, flags)}


def _encrypted():
    payload, crc, usize, method, _ = member(npy(np.zeros((5, 5), np.float32)))
    return {"W.npy": (payload, crc, usize, method, 0x1)}


def _deep_meta():
    return {"meta": '{"format": "minibigram-1", "kind": "bigram", "settings": '
                    + "[" * 100_000 + "]" * 100_000 + "}"}


HUGE = (10**7, 10**7)
CRAFTED = {
    "corrupt deflate data": (_corrupt_deflate(), "is truncated or corrupt"),
    "compression method 99": (_method_99(), "with compression method 99, which minibigram "
                                            "does not read"),
    "encrypted flag": (_encrypted(), "is encrypted"),
    "W declares 10^7 x 10^7": ({"W.npy": member(npy_header(HUGE, "<f4"))},
                               "holds W of shape (10000000, 10000000) but a vocabulary of 5 "
                               "characters, which do not fit together"),
    "history declares 10^7 x 10^7": ({"history.npy": member(npy_header(HUGE, "<f8"))},
                                     "has a training history of shape (10000000, 10000000)"),
    "history declares 10^14 entries": ({"history.npy": member(npy_header((10**14,), "<f8"))},
                                       "a model file may hold"),
    "meta nested 100,000 deep": (_deep_meta(), "has an unreadable header"),
    "lone surrogate in itos": ({"itos": [".", "a", "b", "n", "\ud800"]},
                               "has an invalid vocabulary"),
    "W saved without .npy": ({"W.npy": None, "W": member(npy(np.zeros((5, 5))))},
                             "lacks the array W"),
    "settings.split not a string": ({"settings": {"split": 80}}, "settings.split = 80, not"),
    "settings.split not a split": ({"settings": {"split": "80/80"}}, "settings.split = '80/80'"),
    "settings.split_seed a string": ({"settings": {"split": "80/10/10", "split_seed": "x"}},
                                     "settings.split_seed = 'x', not a whole number"),
    "settings.split_seed null": ({"settings": {"split": "80/10/10", "split_seed": None}},
                                 "settings.split_seed = None, not a whole number"),
    "W of object dtype": ({"W.npy": member(npy_header((5, 5), object))},
                          "holds pickled Python objects"),
    "meta of object dtype": ({"meta.npy": member(npy_header((), object))},
                             "holds pickled Python objects"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_model_file_is_one_clear_error(tmp_path, case):
    changes, phrase = CRAFTED[case]
    path = write_zip(tmp_path / "bad.npz", model_members(**changes))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value).startswith(str(path)) and phrase in str(info.value), str(info.value)
    assert cli_error(tmp_path, "sample", "--model", path) == str(info.value)


def test_model_with_a_bad_split_is_refused_by_eval_not_used(tmp_path):
    """``split_seed: null`` used to make eval draw its split from OS entropy."""
    path = write_zip(tmp_path / "m.npz", model_members(settings={"split": "80/10/10",
                                                                  "split_seed": None}))
    assert "settings.split_seed" in cli_error(tmp_path, "eval", "--model", path)


def test_a_two_byte_PK_file_is_corrupt_not_pickled(tmp_path):
    p = tmp_path / "pk.npz"
    p.write_bytes(b"PK")
    with pytest.raises(ModelFileError) as info:
        load_model(p)
    assert str(info.value) == f"{p} is truncated or corrupt: retrain the model or use another copy."
    assert "pickle" not in cli_error(tmp_path, "score", "--model", p, "anna")


def test_a_fifo_as_model_is_refused_without_blocking(tmp_path):
    p = tmp_path / "fifo.npz"
    os.mkfifo(p)
    with pytest.raises(FileAccessError, match=r"is a named pipe \(FIFO\), not a model file"):
        load_model(p)   # would block forever in open() if it were opened for a blocking read
    assert model_kind(p) == "bigram"
    assert "named pipe" in cli_error(tmp_path, "sample", "--model", p, timeout=60)


def test_a_zip_listing_many_members_is_refused_before_parsing(tmp_path):
    members = {f"x{i}.npy": member(b"") for i in range(1000)}
    path = write_zip(tmp_path / "many.npz", model_members(**members))
    with pytest.raises(ModelFileError, match="lists 1004 members"):
        load_model(path)


def test_unused_members_are_never_read(tmp_path):
    """An extra member that is corrupt, encrypted or huge is not opened: the model loads."""
    bad = _corrupt_deflate()["W.npy"]
    path = write_zip(tmp_path / "m.npz", model_members(
        W=np.eye(5, dtype=np.float32), **{"junk.npy": bad, "huge.npy": member(
            npy_header(HUGE, "<f8")), "secret.npy": _encrypted()["W.npy"]}))
    m = load_model(path)
    assert isinstance(m, BigramModel) and (m.W == np.eye(5)).all()


def test_shapes_are_checked_for_every_kind_before_reading(tmp_path):
    counts = CountModel.fit(["anna", "bob"], context=2)
    p = tmp_path / "c.npz"
    counts.save(p)
    raw = {"meta.npy": member(npy(np.array(json.dumps({"format": FORMAT, "kind": "counts",
                                                        "settings": counts.settings})))),
           "itos.npy": member(npy(np.array(counts.vocab.itos))),
           "history.npy": member(npy(np.zeros(0))),
           "N.npy": member(npy_header((3, counts.V + 1), "<f8")),
           "contexts.npy": member(npy(counts.contexts))}
    write_zip(p, raw)
    with pytest.raises(ModelFileError, match=rf"holds N of shape \(3, {counts.V + 1}\)"):
        load_model(p)
    raw["N.npy"] = member(npy(counts.N))
    raw["contexts.npy"] = member(npy(np.zeros((len(counts.contexts), 3), np.int64)))
    write_zip(p, raw)
    with pytest.raises(ModelFileError, match="and a context of 2, which do not fit"):
        load_model(p)
    concat = ConcatModel.fit(["anna", "bob"], context=2, steps=1, lr=1.0)
    concat.save(p)
    arrays, vocab, _, _ = load_npz(p, kind="concat", layout=ConcatModel.ARRAYS)
    assert arrays["W"].shape == (2, 5, 5) and len(vocab) == 5
    with pytest.raises(ModelFileError, match=r"holds W of shape \(2, 5, 5\) but a vocabulary "
                                             "of 5 characters and a context of 2, which do not"):
        load_npz(p, kind="concat", layout={"W": Array(("K", "K", "V"), DTYPES)})


BOMB_PROBE = textwrap.dedent("""
    import json, resource, sys, time
    from minibigram import ModelFileError, load_model
    t = time.perf_counter()
    try:
        result = type(load_model(sys.argv[1])).__name__
    except ModelFileError as e:
        result = str(e)
    try:   # the peak RSS of this program (ru_maxrss may keep the forking parent's peak)
        with open("/proc/self/status") as f:
            kb = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    except OSError:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"result": result, "seconds": time.perf_counter() - t, "rss_mb": kb / 1024}))
""")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """Three 2-7 MB files whose W (or an unused member) inflates to gigabytes."""
    folder = tmp_path_factory.mktemp("bombs")
    # The case: W claims (40000, 40000) float32, 6.4 GB, over a 5-letter vocabulary.
    w64 = zeros_bomb(npy_header((40_000, 40_000), "<f4"), 6_400_000_000)
    write_zip(folder / "shape.npz", model_members(**{"W.npy": w64}))
    # W fits its vocabulary of 6,000 characters, but 288 MB exceeds MAX_LOAD_BYTES.
    itos = ["."] + [chr(0x4E00 + i) for i in range(5_999)]
    fits = zeros_bomb(npy_header((6_000, 6_000), "<f8"), 6_000 * 6_000 * 8)
    write_zip(folder / "bound.npz", model_members(itos=itos, **{"W.npy": fits}))
    # The bomb in an unused member: the model loads, the member is never inflated.
    write_zip(folder / "extra.npz", model_members(**{"junk.npy": w64}))
    return folder


@pytest.mark.parametrize("name, expected", [
    ("shape", "holds W of shape (40000, 40000) but a vocabulary of 5 characters"),
    ("bound", f"declares W of shape (6000, 6000) and dtype float64, 288 MB, more than the "
              f"{MAX_LOAD_BYTES / 1e6:.3g} MB left"),
    ("extra", "BigramModel"),
])
def test_decompression_bombs_are_refused_before_inflating(bombs, name, expected):
    path = bombs / f"{name}.npz"
    assert path.stat().st_size < 8_000_000
    # a subprocess, to measure its own peak memory; the timeout only guards against a hang
    r = subprocess.run([sys.executable, "-c", BOMB_PROBE, str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert expected in out["result"], out
    assert out["rss_mb"] < 200, out   # ~30 MB measured; inflating W would pass 288 MB


@pytest.fixture
def model():
    return BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)


def test_round_trip_still_holds(tmp_path, model):
    save_npz(tmp_path / "m.npz", kind="bigram", arrays={"W": model.W}, vocab=model.vocab,
             history=[1.0, 0.5], settings={"split": "80/10/10", "split_seed": 3})
    arrays, vocab, history, settings = load_npz(tmp_path / "m.npz", kind="bigram",
                                                layout=BigramModel.ARRAYS)
    assert (arrays["W"] == model.W).all() and arrays["W"].dtype == model.W.dtype
    assert vocab == model.vocab and history == [1.0, 0.5]
    assert settings == {"split": "80/10/10", "split_seed": 3}
    assert model_kind(tmp_path / "m.npz") == "bigram"


WORDS = ["anna", "bob", "cara", "dan", "abba", "ada", "carol", "bonnie"]


def test_every_kind_round_trips_and_is_detected(tmp_path):
    models = {"counts": CountModel.fit(WORDS, context=2, smoothing=0.3),
              "joint": NGramModel.fit(WORDS, context=3, reg=0),   # -inf logits survive
              "concat": NGramModel.fit(WORDS, context=2, encoding="concat", steps=5, lr=1.0),
              "bigram": mb.BigramModel.fit(WORDS, steps=3, lr=1.0)}
    for name, m in models.items():
        path = tmp_path / f"{name}.npz"
        m.save(path)
        back = load_model(path)
        assert type(back) is type(m) and model_kind(path) == m.kind
        assert MODEL_CLASSES[m.kind] is type(m)
        assert back.nll(WORDS) == m.nll(WORDS)
        assert back.sample(4, seed=3) == m.sample(4, seed=3)
    with pytest.raises(mb.ModelFileError, match="counts model"):
        mb.BigramModel.load(tmp_path / "counts.npz")
    with pytest.raises(mb.MinibigramError, match="does not exist"):
        load_model(tmp_path / "missing.npz")


def test_a_concat_model_round_trips_as_its_own_kind(tmp_path):
    m = ConcatModel.fit(WORDS, context=3, reg=0.1, dtype="float32")
    m.save(tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as z:
        assert json.loads(str(z["meta"]))["kind"] == "concat" and z["W"].shape == (3, m.V, m.V)
        assert "contexts" not in z.files
    for back in (ConcatModel.load(tmp_path / "c.npz"), load_model(tmp_path / "c.npz")):
        assert type(back) is ConcatModel and back.W.dtype == np.float32
        assert np.array_equal(back.W, m.W) and back.history == m.history
        assert back.settings == m.settings and repr(back) == repr(m)
        assert back.score(WORDS).tolist() == m.score(WORDS).tolist()
    with pytest.raises(ModelFileError, match="holds a concat model, not a ngram model"):
        NGramModel.load(tmp_path / "c.npz")
    # the format's other spelling of the kind: "ngram" with the concat encoding
    write_old_file(tmp_path / "old.npz", "ngram", m.settings, m.vocab.itos, m.history, W=m.W)
    old = load_model(tmp_path / "old.npz")
    assert type(old) is ConcatModel and old.score(WORDS).tolist() == m.score(WORDS).tolist()


def _of_every_kind():
    return {"bigram": BigramModel.fit(WORDS, steps=2, lr=1.0),
            "ngram": NGramModel.fit(WORDS, context=2),
            "concat": ConcatModel.fit(WORDS, context=2, reg=0.1),
            "counts": CountModel.fit(WORDS, context=2)}


def _wrong_shape(a, dim):
    """``a`` with dimension ``dim`` one longer."""
    shape = list(a.shape)
    shape[dim] += 1
    return np.zeros(shape, a.dtype)


@pytest.mark.parametrize("kind", ["bigram", "ngram", "concat", "counts"])
def test_the_reader_refuses_arrays_that_are_not_the_declared_layout(tmp_path, kind):
    """Every array of every kind, with each dimension one too long, with a dtype its class
    does not declare, or missing, is refused before its data is read, in one sentence."""
    m = _of_every_kind()[kind]
    cls, good = type(m), m.to_arrays()
    assert MODEL_CLASSES[kind] is cls and set(good) == set(cls.ARRAYS)
    path = tmp_path / "bad.npz"

    def refused(arrays):
        save_npz(path, kind=kind, arrays=arrays, vocab=m.vocab, history=m.history,
                 settings=m.settings)
        with pytest.raises(ModelFileError) as info:
            load_model(path)
        assert str(info.value).startswith(f"{path} ") and "\n" not in str(info.value)
        return str(info.value)

    for name, declared in cls.ARRAYS.items():
        a = good[name]
        assert a.dtype.name in declared.dtypes and a.ndim == len(declared.shape)
        for dim in range(a.ndim):
            why = refused({**good, name: _wrong_shape(a, dim)})
            assert "do not fit together" in why, why
            assert f"holds {name} of shape" in why or f"but {name} with" in why, why
        for dtype in (np.complex128, np.bool_, "U1"):
            why = refused({**good, name: a.astype(dtype)})
            assert f"holds {name} of dtype" in why, why
        if not declared.optional:
            rest = {k: v for k, v in good.items() if k != name}
            assert f"lacks the array {name}" in refused(rest)
    save_npz(path, kind=kind, arrays=good, vocab=m.vocab, history=m.history, settings=m.settings)
    assert load_model(path).score(WORDS).tolist() == m.score(WORDS).tolist()


def test_arrays_that_disagree_on_the_number_of_contexts_are_refused(tmp_path):
    m = CountModel.fit(WORDS, context=2)
    save_npz(tmp_path / "c.npz", kind="counts", arrays={"N": m.N[:-1], "contexts": m.contexts},
             vocab=m.vocab, history=[], settings=m.settings)
    with pytest.raises(ModelFileError, match=rf"holds contexts of shape \({len(m.N)}, 2\) but N "
                                             rf"with {len(m.N) - 1} rows, which do not fit"):
        load_model(tmp_path / "c.npz")


@pytest.mark.parametrize("contexts", [[[0], [1], [-1]], [[1], [0], [2]], [[0], [0], [1]]])
def test_model_file_contexts_must_be_sorted_distinct_ids(tmp_path, contexts):
    """Scoring looks contexts up by searchsorted: a file whose contexts are negative,
    unsorted or repeated is refused in one sentence, not scored wrongly or crashed on."""
    m = CountModel.fit(["ab", "ba"])
    path = tmp_path / "bad.npz"
    save_npz(path, kind="counts", arrays={"N": np.ones((3, m.V)), "contexts": np.array(contexts)},
             vocab=m.vocab, history=[], settings=m.settings)
    with pytest.raises(mb.ModelFileError, match="not sorted, distinct character ids"):
        CountModel.load(path)
    with pytest.raises(mb.ModelFileError, match="not sorted, distinct character ids"):
        load_model(path)


def test_interrupted_or_failed_save_keeps_the_previous_file(tmp_path, prev, monkeypatch):
    before = prev.read_bytes()
    model = BigramModel.fit(["zoë", "åsa"], steps=1, lr=1.0)

    for exc in (KeyboardInterrupt, OSError(28, "No space left on device")):
        def half_write(f, *args, exc=exc, **kwargs):
            f.write(b"PK\x03\x04 half of a model file")
            raise exc

        monkeypatch.setattr(np, "savez", half_write)
        with pytest.raises((KeyboardInterrupt, OSError)) as info:
            model.save(prev)
        if isinstance(exc, OSError):
            assert str(info.value) == (f"cannot write {prev} (No space left on device): check "
                                       "the free space and that the path is a file you may "
                                       "replace.")
        assert prev.read_bytes() == before
        assert os.listdir(tmp_path) == ["prev.npz"]


def test_saved_files_get_the_permissions_open_would_give(tmp_path):
    """A new file is 0o666 less the umask (not mkstemp's 0o600); a replaced one keeps its mode."""
    model = BigramModel.fit(["anna", "bob"], steps=1, lr=1.0)
    old = os.umask(0o022)
    try:
        model.save(tmp_path / "new.npz")
        (tmp_path / "kept.npz").write_bytes(b"")
        os.chmod(tmp_path / "kept.npz", 0o640)
        model.save(tmp_path / "kept.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "kept.npz").stat().st_mode & 0o777 == 0o640
    assert BigramModel.load(tmp_path / "kept.npz").vocab == model.vocab


DOTTED = ["St. Louis", "a.b@example.org", "Jr.", "emma", "...", "x.y.z"]


def write_old_file(path, kind, settings, itos, history, **arrays):
    """A model file as minibigram wrote it before issue 17, by hand: np.savez of the header
    JSON, itos with '.' first, the history and the kind's arrays."""
    meta = json.dumps({"format": "minibigram-1", "kind": kind, "settings": settings})
    np.savez(path, meta=np.array(meta), itos=np.array(itos),
             history=np.asarray(history, dtype=np.float64), **arrays)


def test_a_model_file_in_the_old_format_loads_and_gives_the_same_results(tmp_path, names):
    itos = [".", *"abcdefghijklmnopqrstuvwxyz"]
    W = np.random.default_rng(0).standard_normal((27, 27)).astype(np.float32)   # (V, V)
    settings = {"solver": "gd", "steps": 2, "lr": 50.0, "reg": 0.01, "seed": 2147483647,
                "dtype": "float32", "engine": "counts", "init": "torch",
                "num_examples": 228146, "final_loss": 3.1}
    write_old_file(tmp_path / "old.npz", "bigram", settings, itos, [3.5, 3.3], W=W)
    m = mb.load_model(tmp_path / "old.npz")
    assert isinstance(m, BigramModel) and m.vocab.itos == itos and m.history == [3.5, 3.3]
    # the same numbers as the model made from the same arrays, and as the softmax by hand
    P = np.exp(W.astype(np.float64))
    P /= P.sum(axis=1, keepdims=True)                                   # (V, V)
    by_hand = -np.mean([np.log(P[a, b]) for a, b in pairs_by_hand(names[:200], m.vocab.stoi)])
    assert m.nll(names[:200]) == pytest.approx(by_hand, rel=1e-6)
    fresh = BigramModel(W, Vocabulary(itos[1:]), settings=settings)
    assert m.sample(20, seed=3) == fresh.sample(20, seed=3)
    assert m.nll(names[:200]) == fresh.nll(names[:200])
    # written again, the file is the same model
    m.save(tmp_path / "again.npz")
    assert np.array_equal(mb.load_model(tmp_path / "again.npz").W, W)

    # a count model and a context network in the old format
    counts = CountModel.fit(names, context=2, smoothing=1.0)
    write_old_file(tmp_path / "c.npz", "counts", {"smoothing": 1.0, "context": 2}, itos, [],
                   N=counts.N, contexts=counts.contexts)
    assert mb.load_model(tmp_path / "c.npz").nll(names[:300]) == counts.nll(names[:300])
    net = NGramModel.fit(names, context=2)
    write_old_file(tmp_path / "n.npz", "ngram", {"context": 2, "encoding": "joint"}, itos,
                   net.history, W=net.W, contexts=net.contexts)
    assert mb.load_model(tmp_path / "n.npz").nll(names[:300]) == net.nll(names[:300])


def test_dotted_model_files_store_the_display_symbol_and_stay_unambiguous(tmp_path):
    m = BigramModel.fit(DOTTED, steps=3, lr=5.0)
    m.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:
        assert z["itos"][0] == "\u23ce" and "." in z["itos"][1:].tolist()
        assert json.loads(str(z["meta"]))["format"] == "minibigram-1"
    loaded = mb.load_model(tmp_path / "m.npz")
    assert loaded.vocab == m.vocab and loaded.nll(DOTTED) == m.nll(DOTTED)
    # '.' first and '.' among the characters, or '⏎' first without '.': not written by us
    chars = sorted(set("".join(DOTTED)))
    W = np.zeros((len(chars) + 1,) * 2, np.float32)
    for itos in ([".", *chars], ["\u23ce", *[c for c in chars if c != "."]]):
        V = len(itos)
        write_old_file(tmp_path / "bad.npz", "bigram", {}, itos, [], W=W[:V, :V])
        with pytest.raises(ModelFileError, match="invalid vocabulary"):
            mb.load_model(tmp_path / "bad.npz")
