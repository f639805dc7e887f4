"""``retrain.json``, written by ``audit retrain``: the before/after comparison of the models
trained on two dataset versions, with paired bootstrap intervals (:mod:`audit.retrain`)."""

from __future__ import annotations

from pathlib import Path

from audit.formats.json_document import read_json_document
from labelcore.errors import DataError

FILE = "retrain.json"
FORMAT = "label-audit/retrain"
FORMAT_VERSION = 1
#: Keys every retrain.json has (docs/formats.md).
REQUIRED_KEYS = ("results", "confidence")


def read_retrain(path: str | Path) -> dict:
    """``retrain.json`` from a folder (or the file itself), checked."""
    result, file = read_json_document(path, file_name=FILE, format_name=FORMAT, format_version=FORMAT_VERSION,
                                      required_keys=REQUIRED_KEYS, written_by="audit retrain")
    if not isinstance(result["results"], list):
        raise DataError("'results' must be a list", path=file, column="results")
    return result


def retrain_document(result: dict) -> dict:
    """The JSON document of a retrain result: ``result`` with its format and version."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **result}
