"""Reading a versioned JSON document (``{"format": ..., "format_version": ..., ...}``), checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from labelcore.errors import DataError


def read_json_document(path: str | Path, *, file_name: str, format_name: str, format_version: int,
                       required_keys: Sequence[str], written_by: str) -> tuple[dict, Path]:
    """``(document, file)``: ``file_name`` in the folder ``path`` (or ``path`` itself), a JSON
    object of ``format_name`` at a version ``<= format_version`` (an unversioned file is taken
    as the current one) holding ``required_keys``. Raises :class:`DataError` naming the file."""
    path = Path(path)
    file = path / file_name if path.is_dir() else path
    if not file.is_file():
        raise DataError(f"no {file_name} (run {written_by} --out DIR first)", path=file)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid JSON: {exc}", path=file) from None
    if not isinstance(document, dict):
        raise DataError("expected a JSON object", path=file)
    version = document.get("format_version", format_version)
    if document.get("format", format_name) != format_name or not isinstance(version, int) or version > format_version:
        raise DataError(f"not a {format_name} file of version <= {format_version}", path=file, column="format")
    for key in required_keys:
        if key not in document:
            raise DataError(f"missing key {key!r}", path=file, column=key)
    return document, file
