"""The count family's default smoothing: add-one for bigrams (the notebook's table), modified
Kneser-Ney for longer contexts, whose samples stay near the training words; add-k is a flag
away, and a count model by definition."""

import json

import numpy as np
import pytest
from conftest import cli_error, mixed_words, run_cli

import minibigram as mb

#: The published notebook's count model prints these five names (torch 1.x, the default
#: sampler torch-cdf; tests/test_notebook.py copies them from the notebook).
NOTEBOOK_COUNT_NAMES = ["mor", "axx", "minaymoryles", "kondlaisah", "anchshizarie"]

#: Samples must stay under this many times the longest training word.
BOUND = 20


@pytest.fixture(scope="module")
def mixed():
    """5,000 product codes, e-mail addresses and city names: 67 characters, longest 35."""
    return mixed_words(5000)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mixed):
    d = tmp_path_factory.mktemp("countdefaults")
    (d / "mixed.txt").write_text("".join(w + "\n" for w in mixed), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def defaults(mixed):
    """``train`` of the counts family on the mixed lines with no method, per K."""
    return {K: mb.train(mixed, family="counts", context=K, samples=0) for K in (2, 3, 4)}


@pytest.mark.parametrize("options, method, smoothing", [
    ({"context": 1}, "add-k", 1.0),                       # the notebook's table
    ({"context": 2}, "modified-kneser-ney", None),
    ({"context": 5}, "modified-kneser-ney", None),
    ({"context": 2, "unk": True}, "modified-kneser-ney", None),
    ({"context": 3, "smoothing": 0.01}, "add-k", 0.01),   # a k alone means add-k
    ({"context": 3, "method": "add-k"}, "add-k", 1e-3),   # add-k's own default k, 10**-K
    ({"context": 3, "discount": 0.5}, "kneser-ney", None),   # a discount alone: kneser-ney
    ({"context": 1, "discount": 0.5}, "kneser-ney", None),
    ({"context": 2, "method": "witten-bell"}, "witten-bell", None),
])
def test_the_settings_name_the_method_and_a_k_only_for_add_k(options, method, smoothing):
    s = mb.train_settings(family="counts", **options)
    assert (s.method, s.smoothing) == (method, smoothing)
    assert s.method == mb.models.default_method(s.context, options) or "method" in options


@pytest.mark.parametrize("options, message", [
    ({"smoothing": 0.1, "discount": 0.5},
     "smoothing (add-k's k) and discount (that of kneser-ney or absolute) choose different "
     "methods: give one of them."),
    ({"method": "add-k", "discount": 0.5},
     "discount does not apply to method 'add-k' (the discount is that of kneser-ney or "
     "absolute): leave it out."),
    ({"context": 3, "discount": 0.5, "method": "modified-kneser-ney"},
     "discount does not apply to method 'modified-kneser-ney' (the discount is that of "
     "kneser-ney or absolute): leave it out."),
    ({"context": 3, "smoothing": 0.1, "method": "modified-kneser-ney"},
     "smoothing does not apply to method 'modified-kneser-ney' (smoothing is add-k's k): "
     "leave it out."),
])
def test_options_of_another_method_are_refused_before_reading(options, message):
    with pytest.raises(mb.SettingsError) as e:
        mb.train("no such file.txt", family="counts", **options)   # never opened
    assert str(e.value) == message


def test_the_cli_refuses_a_discount_add_k_does_not_take(folder):
    assert cli_error(folder, "train", "--data", "mixed.txt", "--family", "counts",
                     "--method", "add-k", "--discount", "0.5") == (
        "discount does not apply to method 'add-k' (the discount is that of kneser-ney or "
        "absolute): leave it out.")


@pytest.mark.parametrize("K", [2, 3, 4])
def test_the_default_beyond_bigrams_is_modified_kneser_ney(mixed, defaults, K):
    model = defaults[K].model
    want = mb.BackoffModel.fit(mixed, context=K, method="modified-kneser-ney")
    assert isinstance(model, mb.BackoffModel) and model.settings["method"] == \
        "modified-kneser-ney"
    for name, arr in want.to_arrays().items():
        assert np.array_equal(model.to_arrays()[name], arr), name
    assert model.settings["discounts"] == want.settings["discounts"]
    # counted, not trained: the recorded loss is the mean NLL of the training words
    assert model.final_loss == pytest.approx(defaults[K].eval["train"], rel=1e-12)
    assert model.settings["minibigram"] == mb.__version__


@pytest.mark.parametrize("K", [2, 3, 4])
def test_the_defaults_samples_stay_near_the_training_words(mixed, defaults, K):
    longest = max(map(len, mixed))
    for seed in (1, 2):
        samples = defaults[K].model.sample(100_000, seed=seed, sampler="numpy")
        assert len(samples) == 100_000
        assert max(map(len, samples)) < BOUND * longest, (K, seed)


def test_the_defaults_samples_stay_near_the_training_words_under_torch_cdf(mixed, defaults):
    samples = defaults[4].model.sample(100_000, seed=3, sampler="torch-cdf")
    assert len(samples) == 100_000
    assert max(map(len, samples)) < BOUND * max(map(len, mixed))


def test_add_k_wanders_where_kneser_ney_does_not(mixed, defaults):
    """Why the default changed: add-k's row of an unseen context is uniform, ending a word
    with probability 1/V a step; the backoff model takes the longest seen suffix's row."""
    longest = max(map(len, mixed))
    add_k = mb.CountModel.fit(mixed, context=4)                  # add-k, k = 10**-4
    wandered = max(map(len, add_k.sample(100_000, seed=0, sampler="numpy")))
    stayed = max(map(len, defaults[4].model.sample(100_000, seed=0, sampler="numpy")))
    assert wandered > 10 * longest and stayed < 5 * longest, (wandered, stayed)


def test_the_cli_trains_and_records_the_default_method(folder):
    r = run_cli("train", "--data", "mixed.txt", "--family", "counts", "--context", "3",
                "-n", "0", "-o", "kn.npz", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert "trained the modified-kneser-ney backoff model (K=3)" in r.stderr
    info = run_cli("info", "--json", "-m", "kn.npz", cwd=folder)
    assert info.returncode == 0, info.stderr
    got = json.loads(info.stdout)
    assert (got["kind"], got["settings"]["method"]) == ("backoff", "modified-kneser-ney")
    assert got["final_loss"] is not None


def test_the_cli_samples_of_the_default_stay_near_the_training_words(folder, mixed):
    r = run_cli("train", "--data", "mixed.txt", "--family", "counts", "--context", "4",
                "-n", "100000", "--sampler", "numpy", "-s", "5", cwd=folder)
    assert r.returncode == 0, r.stderr
    samples = r.stdout.splitlines()[-100_000:]
    assert max(map(len, samples)) < BOUND * max(map(len, mixed))


@pytest.mark.parametrize("flags, smoothing", [
    (["--smoothing", "0.01"], 0.01),     # a k alone: add-k with it
    (["--method", "add-k"], 1e-3),       # add-k with its default k, 10**-K
])
def test_the_cli_gives_add_k_when_asked(folder, mixed, flags, smoothing):
    r = run_cli("train", "--data", "mixed.txt", "--family", "counts", "--context", "3",
                "-n", "0", "-o", "addk.npz", *flags, cwd=folder)
    assert r.returncode == 0, r.stderr
    model = mb.load_model(folder / "addk.npz")
    assert isinstance(model, mb.CountModel)
    assert (model.settings["method"], model.smoothing) == ("add-k", smoothing)
    want = mb.CountModel.fit(mixed, context=3, smoothing=smoothing)
    assert np.array_equal(model.N, want.N) and np.array_equal(model.contexts, want.contexts)


def test_bigrams_keep_the_notebooks_count_model_and_names(folder):
    r = run_cli("train", "--family", "counts", "-n", "5", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-5:] == NOTEBOOK_COUNT_NAMES
    assert "count model (K=1, smoothing 1)" in r.stderr
    result = mb.train(family="counts", samples=5)
    assert isinstance(result.model, mb.CountModel) and result.model.smoothing == 1.0
    assert result.samples == NOTEBOOK_COUNT_NAMES


@pytest.mark.parametrize("unk", [False, True])
def test_a_deep_context_finds_its_longest_seen_history(mixed, unk):
    """The row lookup of a model whose ``Vu**K`` contexts are too many to map, against the
    definition: the longest suffix of the context that is a history of the tables."""
    model = mb.BackoffModel.fit(mixed, context=4, method="modified-kneser-ney", unk=unk)
    Vu, K = model.Vu, model.K
    assert Vu ** K > mb.backoff.MAX_MAP
    t = model.tables
    row_of = {(int(n), int(c)): i for i, (n, c) in enumerate(zip(t.lengths, t.codes))}
    rng = np.random.default_rng(0)
    seen = t.codes[t.lengths == K]
    full = np.concatenate((rng.choice(seen, 500), rng.integers(0, Vu ** K, 500),
                           seen[:10] % Vu ** 2))                  # boundary-padded short ones
    want = [next((row_of[j, c % Vu ** j] for j in range(K, 0, -1)
                  if (j, c % Vu ** j) in row_of), 0) for c in full.tolist()]
    assert model.rows_of(full).tolist() == want
