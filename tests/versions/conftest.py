import os

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from labelcore.data import load_data  # noqa: E402


@pytest.fixture(scope="session")
def demo():
    return load_data("demo")


@pytest.fixture
def make_row():
    """A decision-log row as import-labelstudio writes it."""
    return _decision_row


def _decision_row(example_id, decision, new_label="", **extra):
    return {"example_id": example_id, "row": extra.pop("row", ""), "decision": decision,
            "new_label": new_label, "annotator": extra.pop("annotator", "ann1"),
            "annotated_at": extra.pop("annotated_at", "2026-11-23T10:00:00Z"),
            "task_id": extra.pop("task_id", ""), "note": extra.pop("note", ""), **extra}


@pytest.fixture
def planted(demo):
    """Positions of train rows whose given label differs from the planted true label."""
    tr = demo.train
    return [i for i in range(len(tr)) if tr.label_names[i] != tr.extra["true_label"][i]]


@pytest.fixture
def write_decisions(tmp_path):
    def write(rows, name="decisions.csv"):
        path = tmp_path / name
        pd.DataFrame(rows).to_csv(path, index=False)
        return path

    return write
