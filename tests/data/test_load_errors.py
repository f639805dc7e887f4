"""Bad input gets a DataError naming file, row and column."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from labelcore.data import load_data
from labelcore.errors import DataError
from finetune.oof import assign_folds


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found") as e:
        load_data(tmp_path / "nope.csv")
    assert e.value.path.endswith("nope.csv")


def test_misnamed_column_suggests_close_match(tmp_path):
    p = write(tmp_path, "d.csv", "text,labl\nhello,a\n")
    with pytest.raises(DataError) as e:
        load_data(p)
    assert e.value.column == "label" and "did you mean 'labl'" in str(e.value)


def test_empty_text_names_row_and_column(tmp_path):
    p = write(tmp_path, "d.csv", "text,label\nhi,a\n,b\nyo,a\n")
    with pytest.raises(DataError) as e:
        load_data(p)
    assert (e.value.row, e.value.column) == (1, "text")
    assert "d.csv, row 1, column 'text'" in str(e.value)


def test_nan_label(tmp_path):
    p = write(tmp_path, "d.csv", "text,label\nhi,a\nthere,NaN\n")
    with pytest.raises(DataError) as e:
        load_data(p)
    assert (e.value.row, e.value.column) == (1, "label")


def test_jsonl_null_label_and_bad_json(tmp_path):
    p = write(tmp_path, "d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": null}\n')
    with pytest.raises(DataError) as e:
        load_data(p)
    assert (e.value.row, e.value.column) == (1, "label")
    p = write(tmp_path, "e.jsonl", '{"text": "a", "label": "x"}\n{"text": oops}\n')
    with pytest.raises(DataError, match="invalid JSON") as e:
        load_data(p)
    assert e.value.row == 1


def test_undecodable_bytes_name_the_row(tmp_path):
    p = write(tmp_path, "d.csv", b"text,label\nfine,a\nbad \xff byte,b\n", mode="wb")
    with pytest.raises(DataError, match="not valid UTF-8") as e:
        load_data(p)
    assert e.value.row == 1


def test_test_label_missing_from_train(tmp_path):
    train = write(tmp_path, "train.csv", "text,label\na,x\nb,y\n")
    test = write(tmp_path, "test.csv", "text,label\nc,x\nd,z\n")
    with pytest.raises(DataError, match="'z' is not among the 2 classes") as e:
        load_data(train, test=test)
    assert e.value.path.endswith("test.csv") and e.value.row == 1 and e.value.column == "label"


def test_duplicate_ids(tmp_path):
    p = write(tmp_path, "d.csv", "id,text,label\n1,a,x\n2,b,y\n1,c,x\n")
    with pytest.raises(DataError, match="duplicate id '1' \\(also at row 0\\)") as e:
        load_data(p, id_column="id")
    assert (e.value.row, e.value.column) == (2, "id")


def test_class_smaller_than_folds(demo):
    ds = demo.train
    labels = ds.labels.copy()
    labels[labels == 0] = 1
    labels[0] = 0  # class 0 now has a single example
    with pytest.raises(DataError, match="fewer examples than the 5 folds") as e:
        assign_folds(labels, n_folds=5, seed=0, dataset=ds)
    assert ds.classes[0] in str(e.value)


def test_parquet_and_json_round_trip(tmp_path):
    frame = pd.DataFrame({"utterance": ["a", "b", "c"], "intent": ["x", "y", "x"]})
    frame.to_parquet(tmp_path / "d.parquet")
    (tmp_path / "d.json").write_text(json.dumps(frame.to_dict("records")))
    for name in ("d.parquet", "d.json"):
        b = load_data(tmp_path / name, text_column="utterance", label_column="intent")
        assert b.train.texts == ["a", "b", "c"] and b.classes == ("x", "y")


def test_unknown_spec_lists_definitions():
    with pytest.raises(DataError, match="definitions: .*banking77"):
        load_data("no-such-dataset")
