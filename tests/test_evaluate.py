"""Tests of minibigram.evaluate."""

import numpy as np
import pytest

import minibigram as mb
from minibigram.evaluate import sweep

WORDS = ["anna", "bob", "cara", "dan", "abba", "ada", "carol", "bonnie"]


def test_sweep_chooses_on_dev_and_reports_test_only_for_the_chosen(names):
    r = sweep(names, families=("network", "counts"), contexts=(1, 2), regs=(0.01, 1.0),
              smoothings=(0.1, 1.0))
    assert len(r["rows"]) == 8 and all("test" not in row for row in r["rows"])
    for g in r["groups"]:
        group = [row for row in r["rows"]
                 if (row["family"], row["context"]) == (g["family"], g["context"])]
        assert g["dev"] == min(row["dev"] for row in group)
        assert np.isfinite(g["test"])
    dev = {(g["family"], g["context"]): g["dev"] for g in r["groups"]}
    assert dev["network", 2] < dev["network", 1] and dev["counts", 2] < dev["counts", 1]
    assert r["best"]["dev"] == min(dev.values())
    with pytest.raises(mb.SettingsError, match="dev"):
        sweep(WORDS, fractions=(0.9, 0.0, 0.1))
    with pytest.raises(mb.SettingsError, match="dev part"):
        sweep(WORDS[:5], fractions=(0.8, 0.1, 0.1))


def test_sweep_still_takes_kinds_the_old_name_of_families(names):
    """A name once public stays usable: kinds= gives families='s sweep, with a warning."""
    with pytest.warns(DeprecationWarning, match="families"):
        old = sweep(names[:3000], kinds=("counts",), contexts=(1,), smoothings=(1.0,))
    new = sweep(names[:3000], families=("counts",), contexts=(1,), smoothings=(1.0,))
    assert old["rows"] == new["rows"] and old["best"] == new["best"]


def test_split_losses_refuse_a_bare_string():
    import minibigram as mb
    from minibigram.evaluate import split_losses

    model = mb.CountModel.fit(["anna", "bob"])
    with pytest.raises(mb.DataError, match="single string 'anna'"):
        split_losses(model, {"all": "anna"})
