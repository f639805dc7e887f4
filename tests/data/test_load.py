"""Loading: ids, row numbers, canonical class order, definitions, Hugging Face sources."""

from __future__ import annotations

import numpy as np
import pytest

from labelcore.data import load_data
from labelcore.errors import ServiceError
from tests.conftest import needs_banking77


def test_ids_survive_reordering_and_rows_follow_the_file(tmp_path):
    rows = ["text,label", "alpha,x", "beta,y", "alpha,x", "gamma,x"]
    (tmp_path / "a.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([rows[0], rows[4], rows[2], rows[1], rows[3]]) + "\n")
    a, b = load_data(tmp_path / "a.csv").train, load_data(tmp_path / "b.csv").train
    assert len(set(a.example_ids)) == 4  # the repeated text gets its own id
    assert sorted(a.example_ids) == sorted(b.example_ids)
    by_id = dict(zip(b.example_ids, b.texts))
    assert [by_id[i] for i in a.example_ids] == a.texts
    assert list(b.rows) == [0, 1, 2, 3]
    assert b.texts[0] == "gamma"


def test_demo_is_deterministic_with_planted_flips(demo):
    again = load_data("demo")
    assert again.fingerprint == demo.fingerprint
    train = demo.train
    assert len(train.classes) == 12 and "card_arrival" in train.classes
    flipped = (train.extra["true_label"].to_numpy() != train.label_names).mean()
    assert 0.02 < flipped < 0.08
    assert (demo.test.extra["true_label"].to_numpy() == demo.test.label_names).all()


@needs_banking77
def test_banking77_uses_categories_json_order():
    import json

    from tests.conftest import BANKING77

    b = load_data("banking77")
    assert b.classes == tuple(json.loads((BANKING77 / "categories.json").read_text()))
    assert len(b.train) == 10003 and len(b.test) == 3080
    assert b.test.classes is b.train.classes or b.test.classes == b.train.classes


def test_hf_save_to_disk_with_classlabel(tmp_path):
    import datasets as hfds

    features = hfds.Features({"text": hfds.Value("string"), "label": hfds.ClassLabel(names=["zeta", "alpha"])})
    d = hfds.DatasetDict(
        {
            "train": hfds.Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 0]}, features=features),
            "test": hfds.Dataset.from_dict({"text": ["d"], "label": [1]}, features=features),
        }
    )
    d.save_to_disk(tmp_path / "hf")
    b = load_data(tmp_path / "hf")
    assert b.classes == ("zeta", "alpha")  # ClassLabel order, not alphabetical
    assert list(b.train.label_names) == ["zeta", "alpha", "zeta"]
    assert list(b.test.label_names) == ["alpha"]


def test_hub_id_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ServiceError, match="HF_HUB_OFFLINE"):
        load_data("hf:PolyAI/banking77")


def test_subset_and_with_labels(demo):
    ds = demo.train
    sub = ds.subset([3, 1])
    assert sub.texts == [ds.texts[3], ds.texts[1]] and list(sub.rows) == [3, 1]
    relabelled = ds.with_labels(np.zeros(len(ds), dtype=int))
    assert relabelled.fingerprint != ds.fingerprint and relabelled.texts is ds.texts
