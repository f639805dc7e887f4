"""The decision log, ``decisions.csv``: what reviewers decided, one row per decision.

Written (appended to) by ``audit import-labelstudio``, by the simulated reviewer of
``audit benchmark --loop``, or by hand; read by ``audit apply``. Columns: :data:`COLUMNS`
(``example_id``, ``decision`` and ``new_label`` are required; an optional ``split`` column
picks the split when an id occurs in several).

Example rows (``example_id`` of a data row) decide one of :data:`EXAMPLE_DECISIONS`; pair rows
(``example_id = pair:<label_a>|<label_b>``) decide one of :data:`PAIR_DECISIONS`: ``merge`` (the
other label of the pair goes into ``new_label``), ``keep_apart`` or ``relabel`` (the pair stays;
its examples are decided on their own rows).

The log is append-only: a changed decision is a new row, and **the last row of an example (or
pair) is its current decision** (:func:`current_decisions`); earlier rows are its history.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, fields
from pathlib import Path
from typing import Sequence

import pandas as pd

from labelcore.errors import DataError
from labelcore.spreadsheet import neutralise_cell, restore_frame

COLUMNS = ("example_id", "row", "decision", "new_label", "annotator", "annotated_at", "task_id", "note")
REQUIRED_COLUMNS = ("example_id", "decision", "new_label")
OPTIONAL_COLUMNS = ("row", "annotator", "annotated_at", "task_id", "note", "split")
EXAMPLE_DECISIONS = ("relabel", "keep", "merge", "drop")
PAIR_DECISIONS = ("merge", "keep_apart", "relabel")
PAIR_PREFIX = "pair:"


def pair_key(label_a: str, label_b: str) -> str:
    """The ``example_id`` of a pair decision: ``pair:<label_a>|<label_b>``."""
    return f"{PAIR_PREFIX}{label_a}|{label_b}"


def is_pair(example_id: str) -> bool:
    return example_id.startswith(PAIR_PREFIX)


def pair_labels(example_id: str, *, path: str | Path, row: int) -> tuple[str, str]:
    """``pair:<a>|<b>`` -> ``(a, b)``."""
    a, sep, b = example_id[len(PAIR_PREFIX):].partition("|")
    if not sep or not a or not b:
        raise DataError(
            f"pair id {example_id!r} is not of the form 'pair:<label_a>|<label_b>'",
            path=path, row=row, column="example_id",
        )
    return a.strip(), b.strip()


def read_decisions(path: str | Path) -> pd.DataFrame:
    """Read and check a decision log: a DataFrame of strings (missing cells ``""``) whose index
    is the 0-based data row of the file (header excluded), used in error messages.

    Raises :class:`DataError` for a missing or unreadable file, a missing column, or an
    unknown decision.
    """
    from labelcore.data.readers import read_text

    path = Path(path)
    try:
        frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError("file is empty", path=path) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed CSV: {exc}", path=path) from None
    return check_decisions(restore_frame(frame), path=path)


def check_decisions(frame: pd.DataFrame, *, path: str | Path = "decisions") -> pd.DataFrame:
    """Validate the columns and decision values of a decision log; returns a cleaned copy
    (every cell a stripped string, optional columns added, decisions lower-cased)."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"a decision log is a table, got {type(frame).__name__}", path=path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; a decision log has {list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}",
            path=path, column=missing[0],
        )
    frame = frame.copy().reset_index(drop=True)
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    for column in frame.columns:  # every cell a string, missing ones ""
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), "").astype(str)
    for column in ("example_id", "decision", "new_label", "split"):
        frame[column] = frame[column].str.strip()
    frame["decision"] = frame["decision"].str.lower()
    for i, (eid, decision, new_label) in enumerate(zip(frame["example_id"], frame["decision"], frame["new_label"])):
        if not eid:
            raise DataError("empty example_id", path=path, row=i, column="example_id")
        allowed = PAIR_DECISIONS if is_pair(eid) else EXAMPLE_DECISIONS
        if decision not in allowed:
            kind = "a pair" if is_pair(eid) else "an example"
            raise DataError(f"decision {decision!r} is not one of {list(allowed)} for {kind}",
                            path=path, row=i, column="decision")
        if decision in ("relabel", "merge") and not new_label and not (is_pair(eid) and decision == "relabel"):
            raise DataError(f"decision {decision!r} needs a new_label", path=path, row=i, column="new_label")
    return frame


def current_decisions(frame: pd.DataFrame) -> pd.DataFrame:
    """The current decision of every example and pair: the last row of each
    (``example_id``, ``split``), in file order, with the file's row numbers as index."""
    return frame[~frame.duplicated(["example_id", "split"], keep="last")]


def columns_of(record_type) -> tuple[str, ...]:
    """The CSV columns of a dataclass record type (its field names, in order)."""
    return tuple(f.name for f in fields(record_type))


def _render(columns: Sequence[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[neutralise_cell(v) for v in row] for row in rows])
    return buf.getvalue()


def _read_rows(path: Path, columns: Sequence[str]) -> list[tuple]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if tuple(frame.columns) != tuple(columns):
        raise DataError(f"has columns {list(frame.columns)}, expected {list(columns)}: not a log this command wrote",
                        path=path)
    return [tuple(r) for r in restore_frame(frame).itertuples(index=False)]


def append_rows(path: str | Path, columns: Sequence[str], records: list) -> int:
    """Append the dataclass ``records`` not already in the CSV at ``path``; return how many.

    A row counts as present when all its values are equal (compared as text), so importing
    the same annotations twice leaves the file unchanged, while a changed decision adds a row
    (the last row of an example is the current one). The file is rewritten atomically.
    """
    from labelcore.io import write_text

    path = Path(path)
    existing: list[tuple] = []
    if path.exists() and path.stat().st_size:
        try:
            existing = _read_rows(path, columns)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read: {exc}", path=path) from None
    seen = set(existing)
    new = []
    for record in records:
        row = tuple("" if v is None else str(v) for v in astuple(record))
        if row not in seen:
            seen.add(row)
            new.append(row)
    if new or not path.exists():
        write_text(_render(columns, existing + new), path)
    return len(new)


def write_rows(path: str | Path, columns: Sequence[str], records: list) -> None:
    """Write the dataclass ``records`` as a fresh CSV (a snapshot), atomically."""
    from labelcore.io import write_text

    write_text(_render(columns, [astuple(r) for r in records]), path)
