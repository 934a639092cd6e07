"""Write the pinned sample lists that tests/test_sampling.py compares the samplers with.

Run from the repository root, once, with the code whose names are to be pinned:

    PYTHONPATH=. python tests/data/make_samples.py

It writes ``samples_<model>_<sampler>.txt`` (2,000 names, one per line) for every
sampler and three models: ``bigram`` (``BigramModel.fit()``, the notebook's net,
float32), ``counts`` (``CountModel.fit(smoothing=1)``, float64) and ``counts2``
(``CountModel.fit(context=2, smoothing=1)``, rows for V**2 contexts), all with seed 2147483647.
The files were made with the one-draw-at-a-time samplers (commit 'pin the samplers'
names') before they were vectorized; rerunning it must leave them unchanged. The two
count models' ``torch-mkl`` lists were made again, one draw at a time, when count
models began to sample the notebook's float32 table under the torch eras (issue 12):
torch-mkl's draw depends on the table's dtype; torch and torch-cdf gave the same names.
"""

from pathlib import Path

import minibigram as mb

SEED = 2147483647
N = 2000
MODELS = {
    "bigram": lambda: mb.BigramModel.fit(),
    "counts": lambda: mb.CountModel.fit(smoothing=1),
    "counts2": lambda: mb.CountModel.fit(context=2, smoothing=1.0),
}

if __name__ == "__main__":
    here = Path(__file__).parent
    for name, fit in MODELS.items():
        model = fit()
        for sampler in mb.SAMPLERS:
            words = model.sample(N, seed=SEED, sampler=sampler)
            (here / f"samples_{name}_{sampler}.txt").write_text(
                "".join(w + "\n" for w in words), encoding="utf-8")
