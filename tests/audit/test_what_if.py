"""audit what-if: merges and splits measured by retraining, with the retrain bootstrap."""

import numpy as np
import pytest

from audit.retrain import compare_predictions
from audit.what_if import merged_labels, propose_split, what_if
from labelcore.data import load_data
from labelcore.errors import ConfigError

SPEC = "tfidf-lr:char_ngrams=0"
A, B = "card_arrival", "card_delivery_estimate"


@pytest.fixture(scope="module")
def demo():
    return load_data("demo")


@pytest.fixture(scope="module")
def merged(demo):
    return what_if(demo, merge=(A, B), backends=[SPEC], n_resamples=300)


def _fit_predict(demo, labels):
    from finetune.backends import make_backend, parse_backend_spec

    model = make_backend(parse_backend_spec(SPEC, seed=0)).fit(demo.train.texts, np.asarray(labels, dtype=object))
    return model.predict(demo.test.texts)


def test_merge_figures_are_those_of_models_trained_on_each_labelling(demo, merged):
    task = next(r for r in merged["results"] if r["yardstick"] == "task")["metrics"]["accuracy"]
    before = _fit_predict(demo, demo.train.label_names)
    after = _fit_predict(demo, merged_labels(demo.train.label_names, source=B, target=A))
    assert B not in set(after)
    assert task["before"] == pytest.approx(np.mean(before == demo.test.label_names))
    assert task["after"] == pytest.approx(np.mean(after == merged_labels(demo.test.label_names, source=B, target=A)))
    shared = next(r for r in merged["results"] if r["yardstick"] == "shared")["metrics"]["accuracy"]
    # mapped into the merged labels, the before-model's A/B confusions stop counting
    assert shared["before"] == pytest.approx(np.mean(merged_labels(before, source=B, target=A)
                                                     == merged_labels(demo.test.label_names, source=B, target=A)))
    assert shared["before"] >= task["before"]
    for r in merged["results"]:
        for m in r["metrics"].values():
            assert m["ci_low"] <= m["diff"] <= m["ci_high"]
    assert merged["change"]["n_test_moved"] == int((demo.test.label_names == B).sum())
    assert merged["classes_after"] == len(demo.classes) - 1


def test_split_makes_two_subclasses_that_partition_the_class(demo):
    result = what_if(demo, split=A, backends=[SPEC], n_resamples=200)
    subs = result["change"]["subclasses"]
    assert [s["label"] for s in subs] == [f"{A}/1", f"{A}/2"]
    assert sum(s["n_train"] for s in subs) == int((demo.train.label_names == A).sum())
    assert sum(s["n_test"] for s in subs) == int((demo.test.label_names == A).sum())
    assert all(s["n_train"] > 0 and s["top_terms"] for s in subs)
    assert result["classes_after"] == len(demo.classes) + 1


def test_propose_split_separates_two_obvious_groups():
    train = ["pay the bill online"] * 5 + ["my card never arrived"] * 5
    clusters, test, _ = propose_split(train, ["bill online pay", "card arrived never"], seed=0)
    assert len(set(clusters[:5])) == len(set(clusters[5:])) == 1 and clusters[0] != clusters[5]
    assert list(test) == [clusters[0], clusters[5]]


def test_different_tasks_share_the_resamples():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    pred = np.array([0, 1, 2, 0, 2, 2, 1, 1])
    same = compare_predictions(y, [pred], [pred], classes=["a", "b", "c"], n_resamples=200)
    other = compare_predictions(y, [pred], [pred], classes=["a", "b", "c"], n_resamples=200,
                                after_labels=y, after_classes=["a", "b", "c"])
    for m in ("accuracy", "macro_f1"):
        assert other["metrics"][m]["diff"] == 0 and other["metrics"][m]["ci_low"] == other["metrics"][m]["ci_high"] == 0
        assert other["metrics"][m]["before"] == same["metrics"][m]["before"]
    assert other["per_class"] == []


def test_bad_requests(demo):
    with pytest.raises(ConfigError):
        what_if(demo, backends=[SPEC])
    with pytest.raises(ConfigError):
        what_if(demo, merge=(A, B), split=A, backends=[SPEC])
    with pytest.raises(ConfigError, match="not a class"):
        what_if(demo, merge=(A, "no_such_class"), backends=[SPEC])
