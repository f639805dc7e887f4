"""Property-based: random malformed CSV / JSONL / Parquet data files and decision logs, fed to
`audit find-issues`, `finetune train` and `audit apply`, end with exit code 0 or one from the
table in ``labelcore.cli.EXIT_CODES``, never a traceback; a failed command writes nothing under
--out; every input file is byte-identical afterwards.

Inputs: broken quoting, missing / renamed / duplicated columns, empty cells, wrong types
(numbers, lists, dicts, NaN), binary garbage, huge cells, formula-like cells, duplicate ids,
one class. Fixed seed (derandomize) so CI is stable; tiny files so valid ones train in well
under a second."""

from __future__ import annotations

import csv
import os
import io
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from audit.cli.app import app  # noqa: E402
from finetune.cli import app as finetune_app  # noqa: E402
from labelcore.cli import EXIT_CODES  # noqa: E402

runner = CliRunner()
ALLOWED = {0} | {code for _, code, _ in EXIT_CODES}
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

# --- cells, rows, tables ------------------------------------------------------------------------
WORDS = ["apple pie", "card arrived", "pin blocked", "rate", "x", "hello world", "the the"]
texts = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.sampled_from(["", " ", "=1+1", "+cmd|' /C calc'!A0", "-2", "@SUM(A1)", '"quoted, comma"',
                     "line\nbreak", "tab\there", "\x00nul", "ünïcødé", "null", "NaN", "None"]),
    st.just("w " * 20000),  # a huge cell
    st.integers(-5, 5), st.floats(allow_nan=True), st.none(), st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
)
labels = st.one_of(
    st.sampled_from(["a", "b", "a", "b", "c"]),
    st.sampled_from(["", " ", "=HYPERLINK(\"x\")", "a ", "A"]),
    st.integers(0, 2), st.floats(allow_nan=True, allow_infinity=True), st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=2), st.dictionaries(st.just("k"), st.just("a"), max_size=1),
)
columns = st.sampled_from([("text", "label"), ("text", "labl"), ("txt", "label"), ("text",), ("label", "text"),
                           ("text", "label", "id"), ("text", "text", "label"), ("", "label")])
row = st.tuples(texts, labels, st.sampled_from(["1", "2", "1", None, ""]))
rows = st.lists(row, min_size=0, max_size=10)


def _csv_bytes(cols, table, quoting) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=quoting, lineterminator="\n")
    writer.writerow(cols)
    for t, lab, i in table:
        writer.writerow([t, lab, i][: len(cols)])
    return buf.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def data_files(draw) -> tuple[str, bytes]:
    """(file name, bytes) of a small, often malformed, data file."""
    kind = draw(st.sampled_from(["csv", "csv", "csv-broken", "jsonl", "jsonl-broken", "parquet", "garbage"]))
    # mostly a valid core (two classes, enough rows for 2 folds) with 0-2 random rows in it,
    # so the mix holds valid files, files with one bad cell, and files that are bad throughout
    cols = ("text", "label") if draw(st.sampled_from([True, True, False])) else draw(columns)
    table = draw(st.lists(row, max_size=2)) if draw(st.sampled_from([True, True, False])) else draw(rows)
    if draw(st.sampled_from([True, True, True, False])):
        core = [(f"{w} {i}", lab, str(10 + i)) for i, (w, lab) in enumerate(
            [("apple", "a"), ("pear", "a"), ("gold", "b"), ("iron", "b"), ("plum", "a"), ("zinc", "b")])]
        at = draw(st.integers(0, len(core)))
        table = core[:at] + table + core[at:]
    if kind == "csv":
        return "d.csv", _csv_bytes(cols, table, draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    if kind == "csv-broken":
        raw = _csv_bytes(cols, table, csv.QUOTE_MINIMAL)
        cut = draw(st.integers(0, max(0, len(raw))))
        junk = draw(st.sampled_from([b'"', b'"unclosed,', b",,,,\n", b"\xff\xfe", b"\r", b"a,b,c,d,e\n"]))
        return "d.csv", raw[:cut] + junk + raw[cut:]
    if kind.startswith("jsonl"):
        lines = []
        for t, lab, i in table:
            record = dict(zip(cols, [t, lab, i]))
            lines.append(json.dumps(record, default=str, allow_nan=True))
        if kind == "jsonl-broken":
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["{", "[1, 2]", "\"str\"", "{'a': 1}", ""])))
        return "d.jsonl", ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if kind == "parquet":
        data = {c: [r[k] if k < 3 else None for r in table] for k, c in enumerate(dict.fromkeys(cols))}
        try:
            buf = io.BytesIO()
            pd.DataFrame(data).to_parquet(buf)
            return "d.parquet", buf.getvalue()
        except Exception:  # noqa: BLE001 - pyarrow refuses mixed columns: write garbage instead
            return "d.parquet", b"PAR1" + bytes(draw(st.binary(max_size=40))) + b"PAR1"
    return draw(st.sampled_from(["d.csv", "d.jsonl", "d.parquet"])), draw(st.binary(max_size=200))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _check(result, *, inputs: Path, before: dict, out: Path) -> None:
    hypothesis.event(f"exit {result.exit_code}")  # the mix of outcomes: --hypothesis-show-statistics
    if os.environ.get("PROP_DEBUG"):
        hypothesis.event(result.output.strip().splitlines()[-1][:70] if result.output.strip() else "-")
    assert result.exit_code in ALLOWED, (result.exit_code, result.output[-2000:])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert _snapshot(inputs) == before  # every input byte-identical, nothing added beside them
    if result.exit_code != 0:
        assert not out.exists(), f"a failed command wrote {sorted(p.name for p in out.rglob('*'))}"


class _Workspace:
    def __enter__(self) -> Path:
        self.root = Path(tempfile.mkdtemp(prefix="prop-"))
        (self.root / "in").mkdir()
        return self.root

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@SETTINGS
@given(data_files())
def test_find_issues_on_malformed_data(file):
    name, content = file
    with _Workspace() as root:
        path = root / "in" / name
        path.write_bytes(content)
        before = _snapshot(root / "in")
        out = root / "out"
        result = runner.invoke(app, ["find-issues", "--data", str(path), "-b", "tfidf-lr", "--folds", "2",
                                     "--rounds", "1", "--no-cache", "--jobs", "1", "--detector", "label_issues",
                                     "--out", str(out)])
        _check(result, inputs=root / "in", before=before, out=out)


@settings(SETTINGS, max_examples=25)
@given(data_files())
def test_finetune_train_on_malformed_data(file):
    name, content = file
    with _Workspace() as root:
        path = root / "in" / name
        path.write_bytes(content)
        before = _snapshot(root / "in")
        out = root / "model"
        result = runner.invoke(finetune_app, ["train", "--data", str(path), "--backend", "tfidf-lr", "--out", str(out)])
        _check(result, inputs=root / "in", before=before, out=out)


# --- decision logs -------------------------------------------------------------------------------
DATA = "text,label\n" + "".join(f"{w} number {i},{lab}\n" for i, (w, lab) in enumerate(
    [("apple", "a"), ("pear", "a"), ("gold", "b"), ("iron", "b"), ("plum", "a"), ("zinc", "b")]))
decision_cells = st.one_of(
    st.sampled_from(["relabel", "keep", "drop", "merge", "keep_apart", "RELABEL", "", "delete", "=1+1"]),
    st.text(max_size=6),
)
log_rows = st.lists(st.tuples(
    st.one_of(st.sampled_from(["ROW0", "ROW1", "ROW2", "pair:a|b", "pair:a", "nope", "", "=cmd"]), st.text(max_size=5)),
    decision_cells,
    st.one_of(st.sampled_from(["a", "b", "c", "", "=SUM(1)"]), st.text(max_size=4)),
    st.sampled_from(["0", "1", "-1", "x", "", "99"]),
), max_size=6)
log_columns = st.sampled_from([
    ("example_id", "decision", "new_label", "row"), ("example_id", "decision", "new_label"),
    ("example_id", "decision"), ("id", "decision", "new_label"), ("example_id", "decision", "new_label", "split"),
])


@st.composite
def decision_logs(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=120))
    cols, table = draw(log_columns), draw(log_rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for r in table:
        writer.writerow(list(r)[: len(cols)])
    raw = buf.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.sampled_from([b'"', b"\xff", b",,,\n", b""])) + raw[cut:]
    return raw


@settings(SETTINGS, max_examples=40)
@given(decision_logs())
def test_apply_on_malformed_decision_logs(log):
    from labelcore.data import load_data

    with _Workspace() as root:
        data = root / "in" / "d.csv"
        data.write_text(DATA)
        ids = load_data(data).train.example_ids
        for k in range(3):  # real ids, so some rows are valid decisions
            log = log.replace(f"ROW{k}".encode(), ids[k].encode())
        decisions = root / "in" / "decisions.csv"
        decisions.write_bytes(log)
        before = _snapshot(root / "in")
        out = root / "v1"
        result = runner.invoke(app, ["apply", "--data", str(data), "--decisions", str(decisions), "--out", str(out)])
        _check(result, inputs=root / "in", before=before, out=out)
