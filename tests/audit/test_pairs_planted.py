"""The pair diagnosis on real BANKING77 texts with planted structure whose answer is known:
one intent split at random under two names (-> merge), 30% of one class given another's label
(-> relabel, the planted rows listed), a few random flips between two distinct classes
(-> never merge). The whole pipeline runs: out-of-fold models, cleanlab flags, two rounds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.conftest import needs_banking77

# twelve BANKING77 intents that are far apart
CLASSES = ["age_limit", "exchange_rate", "lost_or_stolen_card", "top_up_limits", "terminate_account",
           "apple_pay_or_google_pay", "atm_support", "visa_or_mastercard", "country_support",
           "change_pin", "get_physical_card", "card_linking"]
SPLIT = "apple_pay_or_google_pay"               # split in two halves -> merge
ONE_WAY = ("exchange_rate", "country_support")  # 30% of exchange_rate labelled country_support -> relabel
FLIPS = ("atm_support", "change_pin")           # 4 rows of atm_support labelled change_pin -> not merge


def planted_data():
    """A 12-intent BANKING77 subset with the three planted structures; returns
    ``(data, one_way (N,) bool, flips (4,) indices, twin label)``."""
    from labelcore.data import load_data
    from audit.noise import plant_noise, split_classes

    train = load_data("banking77").train
    index = {c: i for i, c in enumerate(train.classes)}
    rows = np.flatnonzero(np.isin(train.labels, [index[c] for c in CLASSES]))
    sub = train.subset(rows)
    remap = np.full(len(train.classes), -1)
    remap[[index[c] for c in CLASSES]] = np.arange(len(CLASSES))
    code = {c: i for i, c in enumerate(CLASSES)}
    labels, _ = split_classes(remap[sub.labels], classes=[code[SPLIT]], n_classes=len(CLASSES), seed=1)
    labels, one_way = plant_noise(labels, kind="pairs", rate=0.3, seed=2, pairs=[(code[ONE_WAY[0]], code[ONE_WAY[1]])])
    flips = np.random.default_rng(3).choice(np.flatnonzero(labels == code[FLIPS[0]]), size=4, replace=False)
    labels[flips] = code[FLIPS[1]]
    twin = f"{SPLIT}__twin"
    return dataclasses.replace(sub, labels=labels, classes=tuple(CLASSES) + (twin,)), one_way, flips, twin


def run_planted(cache_dir):
    from audit.pipeline import find_issues
    from finetune.backends import parse_backend_spec

    data, one_way, flips, twin = planted_data()
    backends = [parse_backend_spec("tfidf-lr:char_ngrams=0,C=3"), parse_backend_spec("tfidf-lr:char_ngrams=0")]
    result = find_issues(data, backends, n_folds=5, seed=0, cache_dir=cache_dir, detectors=["label_issues"])
    pairs = {frozenset((r["label_a"], r["label_b"])): r for r in result.pairs.to_dict("records")}
    return pairs, data, one_way, flips, twin


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return run_planted(str(tmp_path_factory.mktemp("cache")))


def _rows(record, direction_from, direction_to):
    column = "rows_a_to_b" if record["label_a"] == direction_from else "rows_b_to_a"
    assert {record["label_a"], record["label_b"]} == {direction_from, direction_to}
    return {int(x) for x in str(record[column]).split()}


@pytest.mark.slow
@needs_banking77
def test_split_class_is_found_and_merge(planted):
    pairs, _, _, _, twin = planted
    r = pairs[frozenset((SPLIT, twin))]
    assert r["diagnosis"] == "overlap" and r["recommendation"] == "merge", r["evidence"]
    assert r["separation_auc_high"] < 0.75


@pytest.mark.slow
@needs_banking77
def test_one_way_noise_is_relabel_with_the_planted_rows(planted):
    pairs, data, one_way, _, _ = planted
    r = pairs[frozenset(ONE_WAY)]
    assert r["recommendation"] == "relabel", r["evidence"]
    listed = _rows(r, ONE_WAY[1], ONE_WAY[0])  # labelled country_support, should be exchange_rate
    planted_rows = set(data.rows[one_way].tolist())
    assert len(listed & planted_rows) >= 0.5 * len(planted_rows)
    assert len(listed & planted_rows) >= 0.8 * len(listed)  # what it lists is mostly what was planted


@pytest.mark.slow
@needs_banking77
def test_a_few_random_flips_are_never_merge(planted):
    pairs, data, _, flips, _ = planted
    r = pairs.get(frozenset(FLIPS))
    assert r is not None and r["recommendation"] != "merge"
    if r["recommendation"] == "relabel":  # then it lists the flipped rows, and little else
        listed, flipped = _rows(r, FLIPS[1], FLIPS[0]), set(data.rows[flips].tolist())
        assert listed & flipped and len(listed & flipped) >= 0.5 * len(listed)
