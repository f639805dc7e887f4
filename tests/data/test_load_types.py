"""Cells of the wrong type never reach a model: a text that is not a string, a label that is a
list, dict, array, bytes or a fractional / non-finite float, is a DataError naming file, row and
column. Data with one class, or fewer rows than folds, is a DataError before any training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelcore.data import load_data
from labelcore.errors import DataError

GOOD_TEXTS = ["alpha one", "beta two", "gamma three", "delta four"]
GOOD_LABELS = ["a", "b", "a", "b"]


def _parquet(tmp_path, text, label):
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": text, "label": label}).to_parquet(p)
    return p


def _jsonl(tmp_path, records):
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return p


PARQUET_BAD = {
    "text ints": ([1, 2, 3, 4], GOOD_LABELS, "text", 0, "int"),
    "text floats": ([1.5, 2.5, 3.5, 4.5], GOOD_LABELS, "text", 0, "float"),
    "text bools": ([True, False, True, False], GOOD_LABELS, "text", 0, "bool"),
    "text lists": ([["x"], ["y"], ["z"], ["w"]], GOOD_LABELS, "text", 0, "ndarray"),
    "text bytes": ([b"x", b"y", b"z", b"w"], GOOD_LABELS, "text", 0, "bytes"),
    "text structs": ([{"a": "x"}] * 4, GOOD_LABELS, "text", 0, "dict"),
    "label lists": (GOOD_TEXTS, [["a"], ["b"], ["a"], ["b"]], "label", 0, "ndarray"),
    "label dicts": (GOOD_TEXTS, [{"k": "a"}, {"k": "b"}, {"k": "a"}, {"k": "b"}], "label", 0, "dict"),
    "label float with NaN": (GOOD_TEXTS, [0.0, 1.0, np.nan, 1.0], "label", 2, "missing"),
    "label fractional floats": (GOOD_TEXTS, [0.5, 1.0, 0.5, 1.0], "label", 0, "float"),
    "label inf": (GOOD_TEXTS, [0.0, np.inf, 0.0, 1.0], "label", 1, "float"),
    "label bytes": (GOOD_TEXTS, [b"a", b"b", b"a", b"b"], "label", 0, "bytes"),
}


@pytest.mark.parametrize("case", sorted(PARQUET_BAD))
def test_parquet_cells_of_the_wrong_type(tmp_path, case):
    text, label, column, row, word = PARQUET_BAD[case]
    p = _parquet(tmp_path, text, label)
    with pytest.raises(DataError) as e:
        load_data(p)
    assert (e.value.path, e.value.row, e.value.column) == (str(p), row, column), str(e.value)
    assert word in str(e.value)


JSONL_BAD = {
    "text number": ({"text": 7, "label": "a"}, "text"),
    "text list": ({"text": ["a", "b"], "label": "a"}, "text"),
    "text object": ({"text": {"t": "x"}, "label": "a"}, "text"),
    "text true": ({"text": True, "label": "a"}, "text"),
    "label list": ({"text": "hello", "label": ["a"]}, "label"),
    "label object": ({"text": "hello", "label": {"name": "a"}}, "label"),
    "label fraction": ({"text": "hello", "label": 0.25}, "label"),
    "label null": ({"text": "hello", "label": None}, "label"),
    "text null": ({"text": None, "label": "a"}, "text"),
}


@pytest.mark.parametrize("case", sorted(JSONL_BAD))
def test_jsonl_cells_of_the_wrong_type(tmp_path, case):
    record, column = JSONL_BAD[case]
    p = _jsonl(tmp_path, [{"text": "fine", "label": "a"}, {"text": "also fine", "label": "b"}, record])
    with pytest.raises(DataError) as e:
        load_data(p)
    assert (e.value.row, e.value.column) == (2, column), str(e.value)


def test_integer_codes_and_whole_floats_are_class_names(tmp_path):
    b = load_data(_parquet(tmp_path, GOOD_TEXTS, [0, 1, 0, 1]))
    assert b.classes == ("0", "1")
    b = load_data(_jsonl(tmp_path, [{"text": t, "label": float(i % 2)} for i, t in enumerate(GOOD_TEXTS)]))
    assert b.classes == ("0", "1")


def test_ids_of_the_wrong_type_or_missing(tmp_path):
    p = _jsonl(tmp_path, [{"text": "x", "label": "a", "id": 1}, {"text": "y", "label": "b", "id": None}])
    with pytest.raises(DataError, match="empty id") as e:
        load_data(p, id_column="id")
    assert (e.value.row, e.value.column) == (1, "id")
    p = _jsonl(tmp_path, [{"text": "x", "label": "a", "id": [1]}, {"text": "y", "label": "b", "id": 2}])
    with pytest.raises(DataError) as e:
        load_data(p, id_column="id")
    assert (e.value.row, e.value.column) == (0, "id")


# --- data that cannot be audited: before any training -----------------------------------------
@pytest.fixture
def no_training(monkeypatch):
    from finetune.backends.tfidf import TfidfLRBackend

    monkeypatch.setattr(TfidfLRBackend, "fit", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))


def _csv(tmp_path, rows):
    p = tmp_path / "d.csv"
    p.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows))
    return p


DEGENERATE = {
    "one class": ([(f"text {i}", "only") for i in range(10)], "at least two"),
    "one class, whitespace variants": ([(f"text {i}", " only " if i % 2 else "only") for i in range(10)],
                                       "at least two"),
    "fewer rows than folds": ([("a text", "x"), ("b text", "y"), ("c text", "x")], "folds"),
    "a class smaller than the folds": ([(f"t {i}", "x") for i in range(6)] + [("lonely", "y")], "fewer examples"),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_find_issues_refuses_data_that_cannot_be_audited(tmp_path, no_training, case):
    from audit.cli.app import app

    rows, words = DEGENERATE[case]
    p = _csv(tmp_path, rows)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["find-issues", "--data", str(p), "-b", "tfidf-lr", "--folds", "5",
                                      "--no-cache", "--out", str(out)])
    assert result.exit_code == 65, (result.output, result.exception)
    assert words in result.output and str(p) in result.output
    assert not out.exists()


def test_finetune_train_refuses_one_class(tmp_path, no_training):
    from finetune.cli import app

    p = _csv(tmp_path, [(f"text {i}", "only") for i in range(5)])
    result = CliRunner().invoke(app, ["train", "--data", str(p), "--backend", "tfidf-lr", "--out", str(tmp_path / "m")])
    assert result.exit_code == 65 and "at least two classes" in result.output
    assert not (tmp_path / "m").exists()


def test_assign_folds_refuses_one_class():
    from finetune.oof import assign_folds

    with pytest.raises(DataError, match="at least two classes"):
        assign_folds(np.zeros(20, dtype=int), n_folds=2, seed=0)
