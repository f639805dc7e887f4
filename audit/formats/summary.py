"""``summary.json`` of a find-issues run: one typed schema, its reader and its writer.

Producers build a :class:`RunSummary`; consumers read one with :func:`read_summary` and use its
fields (no guessing at key names). ``format_version`` rises when a field changes meaning or
is removed; a file of a newer version is refused rather than misread.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelcore.errors import DataError

FORMAT = "label-audit/find-issues-summary"
FORMAT_VERSION = 1
FILE = "summary.json"


@dataclass
class BackendSummary:
    """One backend of a run. ``spec``: its config as a dict; ``seconds``: training time summed
    over folds; ``test_accuracy``: on the dataset's test split, when the run scored one (the
    backend trained once on the whole split, ``fit_final``)."""

    name: str
    spec: dict = field(default_factory=dict)
    fingerprint: str = ""
    oof_accuracy: float | None = None
    oof_log_loss: float | None = None
    ensemble_weight: float | None = None
    n_parameters: int | None = None
    seconds: float | None = None
    folds_cached: int | None = None
    test_accuracy: float | None = None
    #: the predictions were given (``precomputed``), not trained
    given: bool = False
    # Scores with 95% intervals and serving costs, for the decision (audit/model_scales.py
    # fills them; ``S_<metric>_ci`` = [low, high]; ``costs``: finetune.latency's dict).
    oof_accuracy_ci: list | None = None
    oof_macro_f1: float | None = None
    oof_macro_f1_ci: list | None = None
    oof_worst_class_recall: float | None = None
    oof_worst_class_recall_ci: list | None = None
    oof_worst_class: str | None = None
    test_accuracy_ci: list | None = None
    test_macro_f1: float | None = None
    test_macro_f1_ci: list | None = None
    test_worst_class_recall: float | None = None
    test_worst_class_recall_ci: list | None = None
    test_worst_class: str | None = None
    n_test: int | None = None
    final_fit_seconds: float | None = None
    costs: dict | None = None


@dataclass
class RunSummary:
    """What a find-issues run records about itself (docs/formats.md lists the fields)."""

    classes: list[str]
    backends: list[BackendSummary] = field(default_factory=list)
    data: str = ""
    split: str = ""
    source: str = ""
    data_fingerprint: str = ""
    n_examples: int | None = None
    n_classes: int | None = None
    ensemble_accuracy: float | None = None
    n_label_issues: int | None = None
    n_label_issues_first_round: int | None = None
    filter_by: str = ""
    weights: str = ""
    noise_aware: bool | None = None
    rounds: int | None = None
    folds: int | None = None
    seed: int | None = None
    detectors: dict[str, dict] = field(default_factory=dict)
    detectors_skipped: dict[str, str] = field(default_factory=dict)  # name -> why it did not run
    wall_seconds: float | None = None

    def backend(self, name: str) -> BackendSummary:
        for b in self.backends:
            if b.name == name:
                return b
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, raw: Any, *, path: str | Path = FILE) -> "RunSummary":
        """Check ``raw`` (parsed JSON) against the schema; :class:`DataError` names the key."""
        if not isinstance(raw, dict):
            raise DataError(f"expected a JSON object, got {type(raw).__name__}", path=path)
        if raw.get("format", FORMAT) != FORMAT:
            raise DataError(f"format {raw.get('format')!r} is not {FORMAT!r}", path=path, column="format")
        version = raw.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise DataError(f"format_version {version!r} is newer than this label-audit reads ({FORMAT_VERSION}); "
                            "upgrade label-audit", path=path, column="format_version")
        values = _fields(cls, {k: v for k, v in raw.items() if k not in ("format", "format_version", "backends")},
                         path=path, where="")
        classes = values.get("classes")
        if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
            raise DataError("needs 'classes': a list of at least 2 class names", path=path, column="classes")
        backends = raw.get("backends") or []
        if not isinstance(backends, list):
            raise DataError("'backends' must be a list", path=path, column="backends")
        values["backends"] = [BackendSummary(**_fields(BackendSummary, b, path=path, where=f"backends[{i}]."))
                              for i, b in enumerate(backends)]
        return cls(**values)


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "list": list}


def _fields(cls, raw: Any, *, path, where: str) -> dict:
    if not isinstance(raw, dict):
        raise DataError(f"{where or 'the summary'} must be a JSON object", path=path, column=where.rstrip(".") or None)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise DataError(f"unknown key(s) {[where + k for k in unknown]}", path=path, column=where + unknown[0])
    out = {}
    for key, value in raw.items():
        kind = str(known[key].type).split(" | ")[0].split("[")[0]
        optional = "None" in str(known[key].type)
        if value is None and optional:
            out[key] = None
            continue
        expected = _TYPES.get(kind)
        ok = expected is None or (isinstance(value, expected) and not (kind in ("int", "float") and isinstance(value, bool)))
        if kind == "float" and ok and not math.isfinite(value):
            ok = False
        if not ok:
            raise DataError(f"{where}{key} should be {kind}, got {value!r}", path=path, column=where + key)
        out[key] = value
    if "name" in known and "name" not in raw and known["name"].default is dataclasses.MISSING:
        raise DataError(f"{where}name is missing", path=path, column=where + "name")
    return out


def read_summary(path: str | Path) -> RunSummary:
    """Read and check ``summary.json`` (a file, or the folder holding it)."""
    path = Path(path)
    file = path / FILE if path.is_dir() else path
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("not found", path=file) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid JSON: {exc}", path=file) from None
    return RunSummary.from_dict(raw, path=file)


def write_summary(summary: RunSummary, path: str | Path) -> Path:
    from labelcore.io import write_json

    return write_json(summary.to_dict(), path)
