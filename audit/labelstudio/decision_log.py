"""CSV files of the import: the append-only decision log and its companions, written atomically."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, fields
from pathlib import Path
from typing import Sequence

from labelcore.errors import DataError
from audit.labelstudio.manifest import write_atomically

DECISION_COLUMNS = ("example_id", "row", "decision", "new_label", "annotator", "annotated_at", "task_id", "note")


def columns_of(record_type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


def _render(columns: Sequence[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def append_rows(path: str | Path, columns: Sequence[str], records: list) -> int:
    """Append the dataclass ``records`` not already in the CSV at ``path``; return how many.

    A row counts as present when all its values are equal (compared as text), so importing
    the same annotations twice leaves the file unchanged, while a changed decision adds a row
    (the last row of an example is the current one). The file is rewritten atomically.
    """
    path = Path(path)
    existing: list[tuple] = []
    if path.exists():
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is not None and tuple(header) != tuple(columns):
                raise DataError(f"has columns {header}, expected {list(columns)}: not a log this command wrote",
                                path=path)
            existing = [tuple(r) for r in reader]
    seen = set(existing)
    new = []
    for record in records:
        row = tuple("" if v is None else str(v) for v in astuple(record))
        if row not in seen:
            seen.add(row)
            new.append(row)
    if new or not path.exists():
        write_atomically(path, _render(columns, existing + new))
    return len(new)


def write_rows(path: str | Path, columns: Sequence[str], records: list) -> None:
    """Write the dataclass ``records`` as a fresh CSV (a snapshot), atomically."""
    write_atomically(path, _render(columns, [astuple(r) for r in records]))
