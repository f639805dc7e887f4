"""Read a source file into a DataFrame whose index is the 0-based data row.

Each reader raises :class:`DataError` naming the file and, where it can, the row."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from labelcore.errors import DataError

#: Strings read as missing values in CSV cells (besides the empty cell).
NA_STRINGS = ["", "nan", "NaN", "NULL", "null", "None"]

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}


def detect_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise DataError(
            f"cannot tell the format from the extension {path.suffix!r}; "
            f"use one of {', '.join(sorted(FORMATS))}",
            path=path,
        ) from None


def read_text(path: Path) -> str:
    """Read UTF-8 text; an undecodable byte is reported with its data row."""
    if not path.exists():
        raise DataError("file not found", path=path)
    if path.is_dir():
        raise DataError("is a directory, expected a file", path=path)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start)  # 0-based line of the bad byte
        raise DataError(
            f"byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line + 1}) is not valid "
            "UTF-8; re-save the file as UTF-8",
            path=path,
            row=line - 1 if path.suffix.lower() in (".csv", ".tsv") else line,
        ) from None


def read_table(path: Path, fmt: str | None = None) -> pd.DataFrame:
    fmt = fmt or detect_format(path)
    if fmt in ("csv", "tsv"):
        text = read_text(path)
        try:
            return pd.read_csv(
                io.StringIO(text),
                sep="\t" if fmt == "tsv" else ",",
                dtype=str,
                keep_default_na=False,
                na_values=NA_STRINGS,
                skip_blank_lines=False,
            )
        except pd.errors.ParserError as exc:
            raise DataError(f"malformed {fmt.upper()}: {exc}", path=path) from None
        except pd.errors.EmptyDataError:
            raise DataError("file is empty", path=path) from None
    if fmt == "jsonl":
        records = []
        for i, line in enumerate(read_text(path).splitlines()):
            if not line.strip():
                records.append({})
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", path=path, row=i) from None
            if not isinstance(obj, dict):
                raise DataError("each line must be a JSON object", path=path, row=i)
            records.append(obj)
        if not records:
            raise DataError("file is empty", path=path)
        return pd.DataFrame.from_records(records)
    if fmt == "json":
        try:
            obj = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON at line {exc.lineno}: {exc.msg}", path=path) from None
        if not isinstance(obj, list) or not all(isinstance(o, dict) for o in obj):
            raise DataError("expected a JSON list of objects", path=path)
        return pd.DataFrame.from_records(obj)
    if fmt == "parquet":
        if not path.exists():
            raise DataError("file not found", path=path)
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DataError(f"cannot read Parquet: {exc}", path=path) from None
    raise DataError(f"unknown format {fmt!r}", path=path)
