"""``retrain.json``, written by ``audit retrain``: the before/after comparison of the models
trained on two dataset versions, with paired bootstrap intervals (:mod:`audit.retrain`)."""

from __future__ import annotations

import json
from pathlib import Path

from labelcore.errors import DataError

FILE = "retrain.json"
FORMAT = "label-audit/retrain"
FORMAT_VERSION = 1
#: Keys every retrain.json has (docs/formats.md).
REQUIRED_KEYS = ("results", "confidence")


def read_retrain(path: str | Path) -> dict:
    """``retrain.json`` from a folder (or the file itself), checked."""
    path = Path(path)
    file = path / FILE if path.is_dir() else path
    if not file.is_file():
        raise DataError(f"no {FILE} (run audit retrain --out DIR first)", path=file)
    try:
        result = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid JSON: {exc}", path=file) from None
    if not isinstance(result, dict):
        raise DataError("expected a JSON object", path=file)
    if result.get("format", FORMAT) != FORMAT or result.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise DataError(f"not a {FORMAT} file of version <= {FORMAT_VERSION}", path=file, column="format")
    for key in REQUIRED_KEYS:
        if key not in result:
            raise DataError(f"missing key {key!r}", path=file, column=key)
    if not isinstance(result["results"], list):
        raise DataError("'results' must be a list", path=file, column="results")
    return result


def retrain_document(result: dict) -> dict:
    """The JSON document of a retrain result: ``result`` with its format and version."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **result}
