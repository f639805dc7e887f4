"""Read what ``audit find-issues`` and ``audit retrain`` wrote (see docs/formats.md).

Every file is optional except that a find-issues folder must hold at least one of them; a
report shows the sections its files allow. Malformed files raise :class:`DataError`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from labelcore.errors import DataError

PRED_PREFIX = "pred_probs__"


@dataclasses.dataclass(frozen=True)
class IssuesRun:
    """The contents of a find-issues folder. Missing files are ``None`` (``summary``: ``{}``).

    oof : ``labels (N,)`` int codes, ``classes (K,)``, ``example_ids (N,)`` and
        ``pred_probs {backend: (N, K)}``.
    """

    path: Path
    issues: pd.DataFrame | None
    pairs: pd.DataFrame | None
    oof: dict | None
    summary: dict

    @property
    def classes(self) -> list[str]:
        if self.oof is not None:
            return list(self.oof["classes"])
        return list(self.summary.get("classes", []))

    def ensemble_pred_probs(self) -> np.ndarray | None:
        """(N, K) mean of the backends' out-of-fold probabilities (None without oof.npz)."""
        if not self.oof or not self.oof["pred_probs"]:
            return None
        return np.mean(list(self.oof["pred_probs"].values()), axis=0)


def read_issues_dir(path: str | Path) -> IssuesRun:
    path = Path(path)
    if not path.is_dir():
        raise DataError("not a folder (expected the --out folder of audit find-issues)", path=path)
    run = IssuesRun(
        path=path,
        issues=_csv(path / "issues.csv"),
        pairs=_csv(path / "pairs.csv"),
        oof=_oof(path / "oof.npz"),
        summary=_json(path / "summary.json") or {},
    )
    if run.issues is None and run.pairs is None and run.oof is None and not run.summary:
        raise DataError("none of issues.csv, pairs.csv, oof.npz, summary.json is here", path=path)
    return run


def read_retrain(path: str | Path) -> dict:
    """``retrain.json`` from a folder (or the file itself)."""
    path = Path(path)
    file = path / "retrain.json" if path.is_dir() else path
    result = _json(file)
    if result is None:
        raise DataError("no retrain.json (run audit retrain --out DIR first)", path=file)
    for key in ("results", "confidence"):
        if key not in result:
            raise DataError(f"missing key {key!r}", path=file)
    return result


def _csv(file: Path) -> pd.DataFrame | None:
    if not file.is_file():
        return None
    try:
        return pd.read_csv(file, dtype={"example_id": str, "text": str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read CSV: {exc}", path=file) from None


def _json(file: Path) -> dict | None:
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid JSON: {exc}", path=file) from None


def _oof(file: Path) -> dict | None:
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read npz: {exc}", path=file) from None
    for key in ("labels", "classes"):
        if key not in data:
            raise DataError(f"missing array {key!r}", path=file)
    classes = [str(c) for c in data["classes"]]
    probs = {k[len(PRED_PREFIX):]: np.asarray(v, dtype=float) for k, v in data.items() if k.startswith(PRED_PREFIX)}
    n = len(data["labels"])
    for name, p in probs.items():
        if p.shape != (n, len(classes)):
            raise DataError(f"{PRED_PREFIX}{name} has shape {p.shape}, expected {(n, len(classes))}", path=file)
    return {
        "labels": np.asarray(data["labels"], dtype=np.int64),
        "classes": classes,
        "example_ids": [str(e) for e in data.get("example_ids", np.arange(n))],
        "pred_probs": probs,
    }
