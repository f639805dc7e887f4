"""``benchmark.json``, written by ``audit benchmark``: detection on planted noise, scored
against the truth (:mod:`audit.benchmark`)."""

from __future__ import annotations

from pathlib import Path

from audit.formats.json_document import read_json_document
from labelcore.errors import DataError

FILE = "benchmark.json"
FORMAT = "label-audit/benchmark"
FORMAT_VERSION = 1
#: Keys every benchmark.json has (docs/formats.md).
REQUIRED_KEYS = ("data", "noise", "rate", "seed", "n_flipped", "methods")
#: Keys every method's metrics have.
METRIC_KEYS = ("n_flagged", "precision", "recall", "f1", "auprc")


def read_benchmark(path: str | Path) -> dict:
    """``benchmark.json`` from a folder (or the file itself), checked."""
    result, file = read_json_document(path, file_name=FILE, format_name=FORMAT, format_version=FORMAT_VERSION,
                                      required_keys=REQUIRED_KEYS, written_by="audit benchmark")
    for key, kinds in (("n_flipped", int), ("seed", int), ("rate", (int, float))):
        if not isinstance(result[key], kinds) or isinstance(result[key], bool):
            raise DataError(f"{key!r} must be a number, got {result[key]!r}", path=file, column=key)
    for key in ("data", "noise"):
        if not isinstance(result[key], str):
            raise DataError(f"{key!r} must be a string, got {result[key]!r}", path=file, column=key)
    if not isinstance(result.get("models", []), list) or not all(isinstance(m, str) for m in result.get("models", [])):
        raise DataError("'models' must be a list of model names", path=file, column="models")
    if not isinstance(result.get("planted_pairs", {}), dict):
        raise DataError("'planted_pairs' must be an object (pair -> rank)", path=file, column="planted_pairs")
    methods = result["methods"]
    if not isinstance(methods, dict) or not methods:
        raise DataError("'methods' must be a non-empty object", path=file, column="methods")
    for name, metrics in methods.items():
        missing = [k for k in METRIC_KEYS if not isinstance(metrics, dict) or not isinstance(metrics.get(k), (int, float))]
        if missing:
            raise DataError(f"method {name!r} lacks the number(s) {', '.join(missing)}", path=file, column="methods")
    return result


def benchmark_document(summary: dict) -> dict:
    """The JSON document of a benchmark summary: ``summary`` with its format and version."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **summary}
