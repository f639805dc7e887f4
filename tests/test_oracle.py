import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from labelcore.data import load_data  # noqa: E402
from labelcore.errors import DataError  # noqa: E402
from audit.oracle import ORACLE, oracle_decisions  # noqa: E402
from audit.versions import apply_decisions  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    return load_data("demo")


def test_oracle_restores_planted_labels_and_keeps_right_ones(demo):
    tr = demo.train
    truth = tr.extra["true_label"].to_numpy()
    wrong = np.flatnonzero(tr.label_names != truth)
    right = np.flatnonzero(tr.label_names == truth)[:7]
    flagged = [tr.example_ids[i] for i in [*wrong[:10], *right]]
    log = oracle_decisions(tr, flagged + flagged[:2], true_labels=truth, annotated_at="2026-11-23T00:00:00+00:00")

    assert list(log["example_id"]) == flagged  # order kept, repeats ignored
    assert (log["annotator"] == ORACLE).all() and ORACLE == "oracle (simulation)"
    assert list(log["decision"]) == ["relabel"] * 10 + ["keep"] * 7
    assert list(log["new_label"][:10]) == list(truth[wrong[:10]])
    assert list(log["row"]) == [int(tr.rows[i]) for i in [*wrong[:10], *right]]

    # the log is a valid decision log: applying it repairs exactly the flagged planted flips
    applied = apply_decisions(demo, log)
    fixed = applied.bundle.train
    still_wrong = np.flatnonzero(fixed.label_names != fixed.extra["true_label"].to_numpy())
    assert len(still_wrong) == len(wrong) - 10
    assert set(applied.changes["change"]) == {"relabel"} and len(applied.changes) == 10


def test_oracle_accepts_int_codes_and_rejects_bad_input(demo):
    tr = demo.train
    codes = np.array([tr.classes.index(t) for t in tr.extra["true_label"]])
    by_name = oracle_decisions(tr, tr.example_ids[:50], true_labels=tr.extra["true_label"], annotated_at="t")
    by_code = oracle_decisions(tr, tr.example_ids[:50], true_labels=codes, annotated_at="t")
    assert by_name.equals(by_code)
    with pytest.raises(DataError, match="not in the train split"):
        oracle_decisions(tr, ["missing"], true_labels=codes)
    with pytest.raises(DataError, match="shape"):
        oracle_decisions(tr, tr.example_ids[:1], true_labels=codes[:-1])
    with pytest.raises(DataError, match="not among"):
        oracle_decisions(tr, tr.example_ids[:1], true_labels=np.full(len(tr), "nope"))
