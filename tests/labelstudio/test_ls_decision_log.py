import csv

import pytest

from labelcore.errors import DataError
from audit.formats.decision_log import COLUMNS as DECISION_COLUMNS
from audit.formats.decision_log import append_rows
from audit.labelstudio.annotations import Decision


def d(decision="relabel", new_label="x", at="t1"):
    return Decision("ex1", "3", decision, new_label, "a@x", at, 5, "a, \"quoted\"\nnote")


def read(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_appending_the_same_decisions_twice_changes_nothing(tmp_path):
    log = tmp_path / "decisions.csv"
    assert append_rows(log, DECISION_COLUMNS, [d(), d("drop", "")]) == 2
    before = log.read_bytes()
    assert append_rows(log, DECISION_COLUMNS, [d(), d("drop", "")]) == 0
    assert log.read_bytes() == before
    assert read(log)[0] == list(DECISION_COLUMNS)
    assert read(log)[1][-1] == "a, \"quoted\"\nnote"


def test_a_changed_decision_is_appended_after_the_old_one(tmp_path):
    log = tmp_path / "decisions.csv"
    append_rows(log, DECISION_COLUMNS, [d()])
    assert append_rows(log, DECISION_COLUMNS, [d("keep", "y", at="t2")]) == 1
    assert [r[2] for r in read(log)[1:]] == ["relabel", "keep"]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_an_empty_import_still_writes_the_header(tmp_path):
    log = tmp_path / "decisions.csv"
    assert append_rows(log, DECISION_COLUMNS, []) == 0
    assert read(log) == [list(DECISION_COLUMNS)]


def test_a_foreign_file_is_not_appended_to(tmp_path):
    log = tmp_path / "decisions.csv"
    log.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="decisions.csv"):
        append_rows(log, DECISION_COLUMNS, [d()])
    assert log.read_text() == "a,b\n1,2\n"
