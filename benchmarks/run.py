"""Speed benchmarks of minibigram, side by side with the notebook's torch code: one run, one table.

The ratio column compares with the torch row of the same task (training, sampling) or
with `python -c "import numpy"` (whole processes).

    python benchmarks/run.py                 # the full run (a 1 GB counting file), a few minutes
    python benchmarks/run.py --count-mb 64   # a quicker run
    python benchmarks/run.py --only dask --shard-mb 16   # the Dask row alone, small shards
    python benchmarks/run.py --only train,concat,process   # training and start-up, about a minute
    python benchmarks/run.py --only train,process --runs 5   # five runs, then their spread
    python benchmarks/run.py --only lm --kenlm-python /tmp/kenlmvenv/bin/python   # beside KenLM

Every measurement runs in a fresh subprocess (this file with ``--worker``), so
peak memory is the growth of that process's resident set (Linux ``VmHWM`` reset
through ``/proc/self/clear_refs``) over what it held before the measured code:
honest for numpy and torch alike. Times are medians of repeats (wall clock).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS, LR, REG = 100, 50.0, 0.01          # the notebook's training loop


# ---------------------------------------------------------------- measuring, in a worker


def _status(key: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS: now, VmHWM: peak since the reset)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def _measure(fn, repeats: int) -> dict:
    """Median wall time of ``fn()`` over ``repeats`` runs and the peak RSS growth during them."""
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                       # reset the peak (VmHWM) to now
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times), "peak_bytes": _status("VmHWM") - before}


def _names_data():
    import minibigram as mb
    words = mb.load_words()
    vocab = mb.Vocabulary.from_words(words)
    xs, ys = mb.bigrams(words, vocab)
    return mb, words, vocab, xs, ys


def worker_train(variant: str, repeats: int) -> dict:
    """The notebook's 100 full-batch steps (or Newton's solve) from data already in memory."""
    mb, words, vocab, xs, ys = _names_data()
    V = len(vocab)
    if variant == "torch":
        import torch
        import torch.nn.functional as F
        txs, tys = torch.tensor(xs), torch.tensor(ys)
        num = txs.nelement()

        def run():
            g = torch.Generator().manual_seed(2147483647)
            W = torch.randn((V, V), generator=g, requires_grad=True)
            for _ in range(STEPS):
                xenc = F.one_hot(txs, num_classes=V).float()   # the notebook rebuilds it each step
                logits = xenc @ W
                counts = logits.exp()
                probs = counts / counts.sum(1, keepdims=True)
                loss = -probs[torch.arange(num), tys].log().mean() + REG * (W**2).mean()
                W.grad = None
                loss.backward()
                W.data += -LR * W.grad
            return loss.item()
        return _measure(run, repeats)
    from minibigram.engines import counts_loss_and_grad, loss_and_grad
    from minibigram.optim import gradient_descent, newton
    W0 = mb.models.init_weights(V, 2147483647)
    if variant in ("fit", "onehot", "index"):
        engine = "counts" if variant == "fit" else variant

        def run():   # from the raw words: vocabulary, pairs, counting, init and 100 steps
            return mb.BigramModel.fit(words, engine=engine)
    elif variant == "newton":
        def run():
            N = mb.bigram_counts(xs, ys, V)                # the counting pass is included
            return newton(N, REG)
    elif variant == "counts":
        def run():
            N = mb.bigram_counts(xs, ys, V)                # the counting pass is included
            return gradient_descent(lambda W: counts_loss_and_grad(W, N, REG), W0, STEPS, LR)
    elif variant == "counts-once":
        def run():   # as fit trains: the counts checked once, by objective()
            N = mb.bigram_counts(xs, ys, V)                # the counting pass is included
            return gradient_descent(mb.objective("counts", N.shape, N=N, reg=REG), W0, STEPS,
                                    LR)
    else:
        def run():
            return gradient_descent(lambda W: loss_and_grad(W, xs, ys, REG, engine=variant),
                                    W0, STEPS, LR)
    return _measure(run, repeats)


def worker_sample(variant: str, n: int) -> dict:
    """Names per second, Python strings out."""
    mb, words, vocab, xs, ys = _names_data()
    model = mb.BigramModel.fit(words)
    if variant == "torch-loop":
        import torch
        import torch.nn.functional as F
        W = torch.tensor(model.W)
        itos = vocab.itos
        V = len(vocab)

        def run():
            g = torch.Generator().manual_seed(2147483647)
            names = []
            for _ in range(n):                             # the notebook's sampling loop
                out = []
                ix = 0
                while True:
                    xenc = F.one_hot(torch.tensor([ix]), num_classes=V).float()
                    logits = xenc @ W
                    counts = logits.exp()
                    p = counts / counts.sum(1, keepdims=True)
                    ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
                    out.append(itos[ix])
                    if ix == 0:
                        break
                names.append("".join(out))
            return names
    elif variant.endswith(":per-draw"):                   # the reference: one draw at a time
        from minibigram.sampling import sample_one_at_a_time
        from minibigram.torchrng import TorchGenerator, draw_torch, draw_torch_cdf, draw_torch_mkl
        draw = {"torch-mkl": draw_torch_mkl, "torch": draw_torch,
                "torch-cdf": draw_torch_cdf}[variant.split(":")[0]]
        P = model.probs()

        def run():
            ids = sample_one_at_a_time(P, n, TorchGenerator(1), draw)
            return [vocab.decode(w) for w in ids]
    else:
        def run():
            return model.sample(n, seed=1, sampler=variant)
    res = _measure(run, 3)
    res["rate"] = n / res["seconds"]
    return res


def worker_sample_deep(variant: str, n: int) -> dict:
    """Words per second of a count-family model with contexts of 4 characters on 5,000 mixed
    lines (``method:sampler``: add-k is the CountModel, the other methods a BackoffModel)."""
    import minibigram as mb
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from userdata import mixed_words  # the tests' user data
    method, sampler = variant.split(":")
    words = mixed_words(5000)
    model = (mb.CountModel.fit(words, context=4) if method == "add-k"
             else mb.BackoffModel.fit(words, context=4, method=method))

    def run():
        return model.sample(n, seed=1, sampler=sampler)
    res = _measure(run, 3)
    res["rate"] = n / res["seconds"]
    res["V"] = model.V
    return res


def worker_plot(model_path: str, repeats: int) -> dict:
    """`minibigram plot` of a saved model as a whole process (start-up and PNG included)."""
    out = model_path[:-4] + ".png"
    cmd = [sys.executable, "-m", "minibigram", "plot", "--model", model_path, "--out", out]
    env = dict(os.environ, PYTHONPATH=ROOT)
    return _measure(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, env=env),
                    repeats)


def _alphabet_model(folder: str, V: int) -> str:
    """The notebook's net (27 characters), or a net over V printable characters, saved."""
    sys.path.insert(0, ROOT)
    import numpy as np

    import minibigram as mb
    chars = [chr(c) for c in range(0x21, 0x250) if chr(c).isprintable() and chr(c) != "."]
    rng = np.random.default_rng(V)
    words = None if V == 27 else ["".join(chars[: V - 1])] + [   # every character, then more
        "".join(rng.choice(chars[: V - 1], 6)) for _ in range(20_000)]
    path = os.path.join(folder, f"alphabet{V}.npz")
    mb.BigramModel.fit(words).save(path)
    return path


def worker_concat(variant: str, repeats: int) -> dict:
    """``train --context K --encoding concat``: contexts, counts and Newton's solve, one way.

    ``variant`` is ``"K-solve"`` (``"3-cg"``, ``"3-dense"``); the result also holds the
    loss and max |dW| of the returned W.
    """
    from minibigram.examples import weighted_examples
    from minibigram.optim import concat_newton
    mb, words, vocab, xs, ys = _names_data()
    K, solve = int(variant.split("-")[0]), variant.split("-")[1]
    out = {}

    def run():
        contexts, N = mb.context_counts(*mb.ngrams(words, vocab, K), len(vocab))
        out["W"], out["history"] = concat_newton(contexts, N, REG, max_iter=STEPS, solve=solve)
        out["problem"] = weighted_examples(contexts, N)
    res = _measure(run, repeats)
    Xc, tc, wc = out["problem"]
    loss, dW = mb.concat_loss_and_grad(out["W"], Xc, tc, REG, wc)
    res.update(loss=loss, max_dW=float(abs(dW).max()), steps=len(out["history"]))
    return res


def worker_count(path: str, repeats: int) -> dict:
    import minibigram as mb
    res = _measure(lambda: mb.count_bigrams(path), repeats)
    res["rate"] = os.path.getsize(path) / res["seconds"]
    return res


def worker_gradcheck(variant: str, repeats: int) -> dict:
    """Check the 27 x 27 bigram loss (counts of names.txt, reg 0.01) in float64, one way."""
    mb, words, vocab, xs, ys = _names_data()
    V = len(vocab)
    N = mb.bigram_counts(xs, ys, V)
    W = mb.models.init_weights(V, 2147483647).astype("float64")
    if variant.startswith("torch"):
        import torch
        tN = torch.tensor(N, dtype=torch.float64)
        tW = torch.tensor(W, requires_grad=True)

        def loss(W):                                       # the same function, in torch
            return (-(tN * torch.log_softmax(W, dim=1)).sum() / tN.sum()
                    + REG * (W**2).mean())

        def run():
            return torch.autograd.gradcheck(loss, (tW,), fast_mode=variant == "torch-fast")
        return _measure(run, repeats)
    from minibigram.engines import counts_loss_and_grad

    def run():
        result = mb.gradcheck(lambda W: counts_loss_and_grad(W, N, REG), W,
                              fast=variant == "fast")
        assert result.ok, str(result)
    return _measure(run, repeats)


def _torch_verdict(case, dtype: str, mistake, fast: bool, seed: int) -> str:
    """``torch.autograd.gradcheck`` on a battery case: its numpy f behind a torch Function."""
    import warnings

    import numpy as np
    import torch

    f, keys = case.function(dtype, mistake), list(case.params)
    calls = []
    # fast mode needs a forward and two per input; beyond that torch has found a mismatch and
    # reruns its slow mode to word the message (4 * 10**6 forwards for 10**6 entries)
    fast_budget = 1 + 2 * len(keys) + 8

    class Rerun(Exception):
        pass

    class Case(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *ts):
            calls.append(1)
            if fast and len(calls) > fast_budget:
                raise Rerun
            loss, grads = f({k: t.detach().numpy() for k, t in zip(keys, ts)})
            ctx.grads = grads
            return torch.tensor(loss, dtype=ts[0].dtype)

        @staticmethod
        def backward(ctx, gout):
            return tuple(gout * torch.from_numpy(np.asarray(ctx.grads[k])).to(gout.dtype)
                         for k in keys)

    inputs = tuple(torch.tensor(case.params[k].astype(dtype), requires_grad=True) for k in keys)
    torch.manual_seed(seed)                                # fast mode's random vectors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # "not a double precision" (float32)
        try:
            ok = torch.autograd.gradcheck(Case.apply, inputs, fast_mode=fast,
                                          raise_exception=False)
        except Rerun:
            ok = False
    return "pass" if ok else "fail"


def worker_gradcheck_battery(variant: str, max_size: int) -> dict:
    """One checker's verdicts on the battery: per mode and dtype, on true and wrong gradients."""
    from minibigram.battery import battery, gradcheck_verdict, tally

    checker = _torch_verdict if variant == "torch" else gradcheck_verdict
    cases = battery(max_size=max_size or None)
    out = {}
    for dtype in ("float64", "float32"):
        for mode in ("full", "fast"):
            t = tally(checker, cases, dtype, fast=mode == "fast")
            out[f"{mode} {dtype}"] = {"true": t.true, "wrong": t.wrong, "missed": t.missed}
    return out


def worker_shards(variant: str, pattern: str) -> dict:
    """Count every file of ``pattern``: one process in a row ("single"), or on 2 Dask workers."""
    import glob

    import minibigram as mb
    files = sorted(glob.glob(pattern))
    size = sum(os.path.getsize(f) for f in files)
    if variant == "single":
        res = _measure(lambda: sum(map(mb.count_bigrams, files[1:]), mb.count_bigrams(files[0])),
                       1)
    else:
        from minibigram.cluster import local_cluster
        t = time.perf_counter()
        with local_cluster(2) as cluster:
            start = time.perf_counter() - t
            res = _measure(lambda: mb.count_files(files, address=cluster.scheduler_address), 1)
        res["startup"] = start
    res["rate"] = size / res["seconds"]
    return res


def worker_score(variant: str, repeats: int) -> dict:
    """Score all 32,033 names one log-probability each: model.score, a log_prob loop, nltk.lm."""
    import minibigram as mb
    words = mb.load_words()
    if variant == "nltk":
        from nltk.lm import Laplace
        from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
        train, vocab = padded_everygram_pipeline(2, [list(w) for w in words])
        lm = Laplace(2)
        lm.fit(train, vocab)

        def run():
            out = []
            for w in words:
                toks = list(pad_both_ends(list(w), n=2))
                out.append(sum(lm.logscore(t, [c]) for c, t in zip(toks, toks[1:])))
            return out
    else:
        model = mb.BigramModel.fit(words)                  # the notebook's model
        if variant == "score":
            def run():
                return model.score(words)
        else:
            def run():
                return [model.log_prob(w) for w in words]
    res = _measure(run, repeats)
    res["rate"] = len(words) / res["seconds"]
    return res


def worker_lm(variant: str, repeats: int) -> dict:
    """Score all names with a smoothed model of K characters (add-k: the CountModel, else a
    BackoffModel): model.score, one word per call, or the kenlm module reading the model's
    ARPA file (``side:method:K``)."""
    import minibigram as mb
    side, method, K = variant.split(":")
    words = mb.load_words()
    model = (mb.CountModel.fit(words, context=int(K)) if method == "add-k"
             else mb.BackoffModel.fit(words, context=int(K), method=method))
    if side == "kenlm":
        import kenlm
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.arpa")
            with open(path, "w", encoding="utf-8") as f:
                mb.write_arpa(model, f)
            lm = kenlm.Model(path)
        sentences = [" ".join(w) for w in words]

        def run():
            return [lm.score(s, bos=True, eos=True) for s in sentences]
        ln10 = 2.302585092994046
        gap = max(abs(a * ln10 - b) for a, b in zip(run(), model.score(words).tolist()))
    elif side == "score":
        def run():
            return model.score(words)
    else:
        one = words[:3000]

        def run():
            return [model.score([w]) for w in one]
    run()                                                  # tables made, pages touched
    res = _measure(run, repeats)
    res["rate"] = (3000 if side == "one" else len(words)) / res["seconds"]
    if side == "kenlm":
        res["gap"] = gap
    return res


def _kenlm_python(python: str) -> str | None:
    """``python`` if it can import the kenlm module, else None."""
    probe = subprocess.run([python, "-c", "import kenlm"], capture_output=True)
    return python if probe.returncode == 0 else None


def _lm_rows(kenlm_python: str) -> list[tuple[str, str, str, str, str, str]]:
    """Smoothed models' model.score beside the kenlm module's per-word loop on their ARPA."""
    python = _kenlm_python(kenlm_python)
    rows = []
    for method, K in (("add-k", 1), ("add-k", 2), ("add-k", 3), ("kneser-ney", 1),
                      ("kneser-ney", 2), ("kneser-ney", 3), ("kneser-ney", 4)):
        task = f"score names, {method} K={K}"
        ours = _worker("lm", f"score:{method}:{K}", "15")
        one = _worker("lm", f"one:{method}:{K}", "5")
        theirs = (_worker("lm", f"kenlm:{method}:{K}", "7", python=python) if python
                  else None)
        ratio = f"{ours['rate'] / theirs['rate']:.1f}x kenlm" if theirs else "-"
        met = (f">= 2x kenlm: {'met' if ours['rate'] >= 2 * theirs['rate'] else 'NOT met'}"
               if theirs else "")
        rows.append((task, f"{'CountModel' if method == 'add-k' else 'BackoffModel'}.score "
                     "(one pass)", f"{ours['rate']:,.0f} words/s",
                     ratio, _mb(ours["peak_bytes"]), met))
        us = 1e6 / one["rate"]
        rows.append((task, "model.score([w]), one word per call", f"{us:.1f} us/word", "-",
                     "-", f"< 10 us: {'met' if us < 10 else 'NOT met'}" if K <= 3 else ""))
        if theirs:
            rows.append((task, "kenlm.Model.score per word (same ARPA)",
                         f"{theirs['rate']:,.0f} words/s", "1x", _mb(theirs["peak_bytes"]),
                         f"max |ours - kenlm| {theirs['gap']:.1e} nats"))
        else:
            rows.append((task, "kenlm (not importable: skipped)", "-", "-", "-", ""))
    return rows


def _score_rows() -> list[tuple[str, str, str, str, str, str]]:
    """model.score beside the log_prob loop and nltk.lm (skipped cleanly without nltk)."""
    try:
        import nltk  # noqa: F401
        have_nltk = True
    except ImportError:
        have_nltk = False
    runs = {"score": _worker("score", "score", "21"), "loop": _worker("score", "loop", "3")}
    if have_nltk:
        runs["nltk"] = _worker("score", "nltk", "1")
    base = runs["loop"]["rate"]
    labels = {"score": "model.score (one vectorized pass)", "loop": "model.log_prob loop",
              "nltk": "nltk.lm Laplace(2) logscore"}
    rows = []
    for variant, r in runs.items():
        met = (f">= 1M words/s: {'met' if r['rate'] >= 1e6 else 'NOT met'}"
               if variant == "score" else "")
        rows.append(("score 32,033 names", labels[variant], f"{r['rate']:,.0f} words/s",
                     f"{r['rate'] / base:,.1f}x loop", _mb(r["peak_bytes"]), met))
    if not have_nltk:
        rows.append(("score 32,033 names", "nltk.lm (not installed: skipped)", "-", "-", "-",
                     ""))
    return rows


# ---------------------------------------------------------------- the run


def _worker(*args: str, env: dict | None = None, python: str | None = None) -> dict:
    out = subprocess.run([python or sys.executable, os.path.abspath(__file__), "--worker", *args],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def _make_ascii_file(folder: str, megabytes: int) -> str:
    """names.txt repeated, one name per line, to at least ``megabytes`` MB."""
    sys.path.insert(0, ROOT)
    import minibigram as mb
    block = ("\n".join(mb.load_words()) + "\n").encode("ascii")
    block *= max(1, (1 << 22) // len(block))               # ~4 MB per write
    path = os.path.join(folder, "corpus.txt")
    with open(path, "wb") as f:
        for _ in range(-(-megabytes * 10**6 // len(block))):
            f.write(block)
    return path


def _process_times(runs: int) -> tuple[float, float]:
    """Median wall time of 'python -c "import numpy"' and 'python -m minibigram train'.

    Both run as an installed package would: with compiled bytecode (kept in a
    temporary PYTHONPYCACHEPREFIX, warmed by one run), alternating, so noise on
    this shared machine hits both alike.
    """
    with tempfile.TemporaryDirectory() as pyc:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=pyc, PYTHONPATH=ROOT)
        cmds = ([sys.executable, "-c", "import numpy"],
                [sys.executable, "-m", "minibigram", "train"])
        times: list[list[float]] = [[], []]
        for i in range(runs + 1):
            for k, cmd in enumerate(cmds):
                t = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
                if i:                                      # run 0 warms the bytecode cache
                    times[k].append(time.perf_counter() - t)
    return statistics.median(times[0]), statistics.median(times[1])


def _machine() -> str:
    import numpy
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        import torch
        torch_v = f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch_v = ", torch not installed"
    return (f"{os.cpu_count()} cores (nproc), {cpu}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}{torch_v}")


def _mb(b: float) -> str:
    return f"{b / 1e6:+.1f} MB"


def _gradcheck_rows(have_torch: bool, battery_max_size: int = 0
                    ) -> list[tuple[str, str, str, str, str, str]]:
    """Gradient checking the 27 x 27 bigram loss in float64, beside torch.autograd.gradcheck;
    first the table of verdicts on the battery."""
    _print_battery_table(have_torch, battery_max_size)
    rows = []
    check = {}
    for variant, repeats in (("full", 3), ("fast", 21), ("torch", 3), ("torch-fast", 21)):
        if variant.startswith("torch") and not have_torch:
            continue
        check[variant] = _worker("gradcheck", variant, str(repeats))
    base = check.get("torch", {}).get("seconds")
    labels = {"full": "gradcheck, every entry (4 calls each)",
              "fast": "gradcheck fast=True (4 directions)",
              "torch": "torch.autograd.gradcheck",
              "torch-fast": "torch.autograd.gradcheck fast_mode"}
    for variant, r in check.items():
        ratio = f"{base / r['seconds']:,.2f}x" if base else "-"
        rows.append(("gradcheck 27x27 float64", labels[variant], f"{r['seconds'] * 1e3:,.1f} ms",
                     ratio, _mb(r["peak_bytes"]), ""))
    return rows


def _print_battery_table(have_torch: bool, max_size: int) -> None:
    """Each checker's verdicts on minibigram.battery, per mode and dtype, side by side."""
    from minibigram.battery import FULL_MODE_MAX_SIZE, VISIBLE_SHARE, battery

    cases = battery(max_size=max_size or None)
    checkers = ["minibigram", *(["torch"] if have_torch else [])]
    # the checkers run at once, one process each: these are counts, not timings
    procs = {c: subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker",
                                  "gradcheck-battery", c, str(max_size)],
                                 stdout=subprocess.PIPE, text=True) for c in checkers}
    verdicts = {c: json.loads(p.communicate()[0]) for c, p in procs.items()}
    n_full = sum(c.size <= FULL_MODE_MAX_SIZE for c in cases)
    print(f"Gradient checkers on the battery: {len(cases)} functions (full mode: the {n_full} of "
          f"at most {FULL_MODE_MAX_SIZE} entries, once; fast mode: all, 5 direction seeds), "
          f"default settings; wrong = mistakes whose error is >= {VISIBLE_SHARE:g} of the "
          "gradient's norm. true: accepted / inconclusive / rejected; wrong: rejected / "
          "inconclusive / accepted.")
    rows = []
    for mode in ("full", "fast"):
        for dtype in ("float64", "float32"):
            for checker in checkers:
                v = verdicts[checker][f"{mode} {dtype}"]
                t, w = v["true"], v["wrong"]
                rows.append((checker, mode, dtype,
                             f"{t.get('pass', 0)} / {t.get('inconclusive', 0)} / "
                             f"{t.get('fail', 0)} of {sum(t.values())}",
                             f"{w.get('fail', 0)} / {w.get('inconclusive', 0)} / "
                             f"{w.get('pass', 0)} of {sum(w.values())}"))
    _print_table(rows, head=("checker", "mode", "dtype", "true gradients: acc / inc / rej",
                             "wrong: rej / inc / acc"))
    for key, v in verdicts["minibigram"].items():        # what minibigram got wrong, by name
        for line in v["missed"]:
            print(f"  minibigram {key}: {line}")


def _ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2f}x"


def _train_rows(have_torch: bool) -> list[tuple[str, str, str, str, str, str]]:
    """The notebook's 100 steps: the torch loop, then each numpy path.

    The ratio is torch's time over the row's (above 1: faster than torch). The onehot
    engine, written to be read beside the lecture, has a floor: at most 2x the torch
    loop's time in the same run.
    """
    train = {}
    # The three slow ones run once, side by side (100 steps already average out the noise);
    # the fast ones take the median of 51, which a moment of another job's load cannot move.
    for variant, repeats in (("torch", 1), ("onehot", 1), ("index", 1), ("fit", 51),
                             ("counts", 51), ("counts-once", 51), ("newton", 51)):
        if variant == "torch" and not have_torch:
            continue
        train[variant] = _worker("train", variant, str(repeats))
    base = train.get("torch", {}).get("seconds")
    names = {"torch": "torch notebook loop",
             "fit": "BigramModel.fit(words): vocabulary, pairs, counts, init, 100 steps",
             "onehot": "onehot engine vs torch loop (floor 2x): fit(words, engine='onehot')",
             "index": "BigramModel.fit(words, engine='index')",
             "counts": "counts engine from pairs (checks N every step)",
             "counts-once": "counts engine from pairs, objective() (checks N once)",
             "newton": "newton (to max abs dW < 1e-10)"}
    rows = []
    for variant, r in train.items():
        speedup = base / r["seconds"] if base else None
        met = ""
        if variant == "onehot" and speedup:
            met = (f"time <= 2x torch's: {'met' if 1 / speedup <= 2 else 'NOT met'} "
                   f"({1 / speedup:.2f}x)")
        if variant == "index":
            ok = (r["seconds"] <= train["onehot"]["seconds"]
                  and r["peak_bytes"] < train["onehot"]["peak_bytes"])
            met = f"<= onehot time and memory: {'met' if ok else 'NOT met'}"
        rows.append(("train, 100 steps", names[variant], f"{r['seconds'] * 1e3:,.1f} ms",
                     _ratio(speedup) if speedup else "-", _mb(r["peak_bytes"]), met))
    return rows


def _process_rows(runs: int) -> list[tuple[str, str, str, str, str, str]]:
    """The CLI as a whole process beside 'python -c "import numpy"': at most 1.5x its cost."""
    t_np, t_cli = _process_times(runs)
    return [("whole process", 'python -c "import numpy"', f"{t_np * 1e3:,.0f} ms", "1x", "-", ""),
            ("whole process", "minibigram train", f"{t_cli * 1e3:,.0f} ms", f"{t_cli / t_np:.2f}x",
             "-", f"<= 1.5x import numpy: {'met' if t_cli <= 1.5 * t_np else 'NOT met'}")]


def _concat_rows() -> list[tuple[str, str, str, str, str, str]]:
    """``train --context K --encoding concat``: Newton by conjugate gradients beside the dense
    Hessian, K = 3 and K = 4. The ratio is the dense time
    over the row's."""
    runs = {v: _worker("concat", v, r) for v, r in (("3-dense", "1"), ("3-cg", "3"),
                                                    ("4-cg", "3"))}
    base = runs["3-dense"]
    rows = []
    for variant, r in runs.items():
        K, solve = variant.split("-")
        label = (f"K={K}, " + ("dense (K V V)^2 Hessian, np.linalg.solve" if solve == "dense"
                               else "conjugate gradients on H U products"))
        same = abs(r["loss"] - base["loss"]) <= 1e-10 * base["loss"] and r["max_dW"] < 1e-8
        met = f"{r['steps']} steps, max|dW| {r['max_dW']:.0e}"
        if variant == "3-cg":
            ok = r["seconds"] <= 2 and same
            met += f"; <= 2 s at the dense optimum: {'met' if ok else 'NOT met'}"
        rows.append(("train concat Newton", label, f"{r['seconds'] * 1e3:,.0f} ms",
                     _ratio(base["seconds"] / r["seconds"]) if K == "3" else "-",
                     _mb(r["peak_bytes"]), met))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count-mb", type=int, default=1024,
                   help="size of the generated ASCII file to count (default 1024 MB)")
    p.add_argument("--cli-runs", type=int, default=21, help="process runs each (default 21)")
    p.add_argument("--shard-mb", type=int, default=128,
                   help="size of each of the 8 shards counted on Dask (default 128 MB)")
    p.add_argument("--only",
                   default="train,concat,sample,plot,score,lm,count,dask,gradcheck,process",
                   help="comma-separated sections to run (default: all of "
                        "train,concat,sample,plot,score,lm,count,dask,gradcheck,process)")
    p.add_argument("--kenlm-python", default=sys.executable,
                   help="a Python that can import kenlm, for the lm section's KenLM rows "
                        "(default: this one; the rows are skipped if it cannot)")
    p.add_argument("--runs", type=int, default=1,
                   help="run the sections this many times, each run's table in turn, then "
                        "one table of the spread (default 1)")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    sections = set(args.only.split(","))
    if args.worker:
        sys.path.insert(0, ROOT)
        kind, variant, arg = args.worker
        if kind == "shards":
            print(json.dumps(worker_shards(variant, arg)))
            return
        fn = {"train": worker_train, "sample": worker_sample, "count": worker_count,
              "sample-deep": worker_sample_deep,
              "gradcheck": worker_gradcheck, "plot": worker_plot, "score": worker_score,
              "gradcheck-battery": worker_gradcheck_battery,
              "concat": worker_concat, "lm": worker_lm}[kind]
        print(json.dumps(fn(variant, int(arg))))
        return
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    sys.path.insert(0, ROOT)
    tables = []
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        tables.append(_rows(sections, args, have_torch))
        if args.runs > 1:
            print(f"Run {run} of {args.runs}:")
        _print_table(tables[-1], t0)
    if args.runs > 1:
        _print_spread(tables)


def _rows(sections: set[str], args: argparse.Namespace,
          have_torch: bool) -> list[tuple[str, str, str, str, str, str]]:
    """One run of the benchmark sections: a row per (task, variant)."""
    from minibigram.sampling import SAMPLERS

    rows: list[tuple[str, str, str, str, str, str]] = []
    # Training: the notebook's 100 steps.
    if "train" in sections:
        rows += _train_rows(have_torch)
    # Longer contexts.
    if "concat" in sections:
        rows += _concat_rows()

    if "gradcheck" in sections:
        rows += _gradcheck_rows(have_torch)

    # Sampling: names per second.
    if "sample" in sections:
        sample = {}
        if have_torch:
            sample["torch-loop"] = _worker("sample", "torch-loop", "300")
        for name in SAMPLERS:
            sample[name] = _worker("sample", name, "1000000" if name == "numpy" else "100000")
            if name != "numpy":                                # beside the per-draw reference
                sample[f"{name}:per-draw"] = _worker("sample", f"{name}:per-draw", "3000")
        base = sample.get("torch-loop", {}).get("rate")
        for variant, r in sample.items():
            ratio = f"{r['rate'] / base:,.0f}x" if base else "-"
            met = ""
            if variant == "numpy":
                ok = r["rate"] >= 1e6 and (not base or r["rate"] >= 150 * base)
                met = f">= 1M/s and >= 150x torch: {'met' if ok else 'NOT met'}"
            elif variant in ("torch-mkl", "torch", "torch-cdf"):
                per_draw = sample[f"{variant}:per-draw"]["rate"]
                met = (f">= 100,000/s (same names): {'met' if r['rate'] >= 1e5 else 'NOT met'}; "
                       f"{r['rate'] / per_draw:,.0f}x per-draw")
            label = ("torch notebook loop" if variant == "torch-loop" else
                     f"sampler {variant.split(':')[0]!r}, one draw at a time (the reference)"
                     if variant.endswith(":per-draw") else f"sampler {variant!r}")
            rows.append(("sample names", label, f"{r['rate']:,.0f} names/s", ratio,
                         _mb(r["peak_bytes"]), met))
        # Deep contexts: every sampler walks the rows of the contexts seen; the count
        # family's default at K = 4 (modified Kneser-Ney) beside add-k
        for name in SAMPLERS:
            for method in ("modified-kneser-ney", "add-k"):
                r = _worker("sample-deep", f"{method}:{name}", "100000")
                secs = 100000 / r["rate"]
                rows.append((f"sample 100,000 words, K = 4, {r['V']} characters",
                             f"{method}, sampler {name!r}", f"{secs:,.2f} s", "-",
                             _mb(r["peak_bytes"]), f"< 2 s: {'met' if secs < 2 else 'NOT met'}"))

    # Plot: the labelled table of models of 27, 59 and 100 characters, as whole processes.
    if "plot" in sections:
        with tempfile.TemporaryDirectory() as folder:
            for V, bound in ((27, None), (59, 5.0), (100, 10.0)):
                r = _worker("plot", _alphabet_model(folder, V), "3")
                ok = bound and r["seconds"] <= bound
                met = f"<= {bound:.0f} s: {'met' if ok else 'NOT met'}" if bound else ""
                rows.append((f"plot, {V} characters", "minibigram plot (whole process)",
                             f"{r['seconds']:,.2f} s", "-", "-", met))

    if "score" in sections:
        rows += _score_rows()
    if "lm" in sections:
        rows += _lm_rows(args.kenlm_python)

    # Counting a large ASCII file in a stream.
    if "count" in sections:
        with tempfile.TemporaryDirectory() as folder:
            path = _make_ascii_file(folder, args.count_mb)
            size = os.path.getsize(path)
            r = _worker("count", path, "1")
        ok = r["rate"] >= 100e6 and r["peak_bytes"] < 100e6
        rows.append((f"count {size / 1e6:,.0f} MB ASCII", "count_bigrams (file in page cache)",
                     f"{r['rate'] / 1e6:,.0f} MB/s", "-", _mb(r["peak_bytes"]),
                     f">= 100 MB/s, < 100 MB: {'met' if ok else 'NOT met'}"))

    if "dask" in sections:
        _dask_rows(rows, args.shard_mb)

    # The CLI as a whole process, beside the numpy import it cannot avoid.
    if "process" in sections:
        rows += _process_rows(args.cli_runs)
    return rows


def _dask_rows(rows: list, shard_mb: int) -> None:
    """8 shards counted one after the other in one process, then on a 2-worker LocalCluster."""
    with tempfile.TemporaryDirectory() as folder:
        for i in range(8):
            sub = os.path.join(folder, str(i))
            os.mkdir(sub)
            os.rename(_make_ascii_file(sub, shard_mb), os.path.join(folder, f"shard{i}.txt"))
        pattern = os.path.join(folder, "shard*.txt")
        size = sum(os.path.getsize(os.path.join(folder, f"shard{i}.txt")) for i in range(8))
        single = _worker("shards", "single", pattern)
        dask = _worker("shards", "dask", pattern)
    task = f"count 8 x {size / 8e6:,.0f} MB ASCII"
    rows.append((task, "count_bigrams, one process, file after file",
                 f"{single['rate'] / 1e6:,.0f} MB/s", "1x", _mb(single["peak_bytes"]), ""))
    rows.append((task, "count_files, LocalCluster 2 workers",
                 f"{dask['rate'] / 1e6:,.0f} MB/s", f"{dask['rate'] / single['rate']:.2f}x", "-",
                 f"(+ {dask['startup']:.1f} s to start the cluster)"))


def _print_table(rows: list[tuple[str, ...]], t0: float | None = None,
                 head: tuple[str, ...] = ("task", "variant", "time or rate", "ratio",
                                          "peak memory", "target")) -> None:
    widths = [max(len(r[i]) for r in (*rows, head)) for i in range(len(head))]
    if t0 is not None:
        print(f"Machine: {_machine()}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    if t0 is not None:
        print(f"(benchmark wall time {time.perf_counter() - t0:.0f} s)")


def _print_spread(tables: list[list[tuple[str, str, str, str, str, str]]]) -> None:
    """Every row's figure and ratio in each run, and in how many runs its target was met."""
    print(f"Spread over {len(tables)} runs (figure, ratio):")
    spread = []
    for i, (task, variant, *_) in enumerate(tables[0]):
        runs = [t[i] for t in tables if i < len(t) and t[i][:2] == (task, variant)]
        targets = [r[5] for r in runs if "met" in r[5]]
        met = sum("NOT met" not in t and "met" in t for t in targets)
        spread.append((task, variant, *(f"{r[2]} ({r[3]})" for r in runs),
                       f"{met} of {len(targets)}" if targets else "-"))
    _print_table(spread, head=("task", "variant", *(f"run {k}" for k in range(1, len(tables) + 1)),
                               "target met"))


if __name__ == "__main__":
    main()
