"""The ``audit find-issues --out`` folder: its files, the one writer and the one reader.

| file | content |
|---|---|
| ``issues.csv`` | one row per example, worst label quality first (:data:`ISSUE_COLUMNS` first) |
| ``pairs.csv`` | confused label pairs, most confused first (:data:`PAIR_COLUMNS` first) |
| ``oof.npz`` | ``labels (N,)``, ``classes (K,)``, ``example_ids (N,)``, ``ensemble_pred_probs (N, K)``, ``pred_probs__<backend> (N, K)`` |
| ``summary.json`` | :class:`audit.formats.summary.RunSummary` |
| ``classes.csv`` | per-class label quality (when the ``class_quality`` detector ran) |
| ``report.md`` | a short human summary |

The folder is written whole (:func:`labelcore.io.write_folder`): a failed run leaves the
previous folder as it was, and files of an earlier run that this one does not write are gone.
CSV text cells are neutralised for spreadsheets (:mod:`labelcore.spreadsheet`) and restored
when read here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from audit.formats.summary import FILE as SUMMARY_FILE
from audit.formats.summary import RunSummary, read_summary, write_summary
from labelcore.errors import DataError
from labelcore.io import read_csv, write_csv, write_folder, write_npz, write_text

if TYPE_CHECKING:
    from audit.pipeline import FindIssuesResult

ISSUES, PAIRS, OOF, CLASSES, REPORT = "issues.csv", "pairs.csv", "oof.npz", "classes.csv", "report.md"
#: Every file this folder may hold: a rerun replaces all of them (other files are kept).
FILES = (ISSUES, PAIRS, OOF, SUMMARY_FILE, CLASSES, REPORT)
ISSUE_COLUMNS = ("row", "example_id", "text", "given_label", "suggested_label", "label_quality", "is_label_issue")
PAIR_COLUMNS = ("label_a", "label_b")
#: numeric evidence columns of pairs.csv (audit.pairs), empty where not measured
PAIR_EVIDENCE_NUMBERS = ("expected", "q_value", "noise_share", "relabel_share", "drop", "ambiguity", "separation_auc",
                         "pair_ambiguity")
PRED_PREFIX = "pred_probs__"
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no", "")


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """What a find-issues folder holds; a missing file is ``None``.

    oof : ``labels (N,)`` int codes, ``classes (K,)``, ``example_ids (N,)`` and
        ``pred_probs {backend: (N, K)}``.
    """

    path: Path
    issues: pd.DataFrame | None
    pairs: pd.DataFrame | None
    oof: dict | None
    summary: RunSummary | None

    @property
    def classes(self) -> list[str]:
        if self.oof is not None:
            return list(self.oof["classes"])
        return list(self.summary.classes) if self.summary else []

    @property
    def issues_path(self) -> Path:
        return self.path / ISSUES

    @property
    def pairs_path(self) -> Path:
        return self.path / PAIRS

    def ensemble_pred_probs(self) -> np.ndarray | None:
        """(N, K) mean of the backends' out-of-fold probabilities (None without oof.npz)."""
        if not self.oof or not self.oof["pred_probs"]:
            return None
        return np.mean(list(self.oof["pred_probs"].values()), axis=0)


def write_run_folder(result: "FindIssuesResult", out: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Write every file of a find-issues run to ``out``, whole or not at all.
    ``inputs``: the data files read (never overwritten; see :func:`labelcore.io.check_not_source`)."""
    from audit.report.short_report import short_report

    ds = result.dataset

    def write(tmp: Path) -> None:
        write_csv(result.issues, tmp / ISSUES)
        write_csv(result.pairs if len(result.pairs.columns) else pd.DataFrame(columns=list(PAIR_COLUMNS)), tmp / PAIRS)
        write_pred_probs_npz(tmp / OOF, example_ids=ds.example_ids, classes=ds.classes, pred_probs=result.pred_probs,
                             labels=ds.labels, ensemble_pred_probs=result.ensemble_pred_probs.astype(np.float32))
        write_summary(result.summary, tmp / SUMMARY_FILE)
        if "class_quality" in result.detectors:
            write_csv(pd.DataFrame(result.detectors["class_quality"].info["classes"]), tmp / CLASSES)
        write_text(short_report(result), tmp / REPORT)

    return write_folder(out, write, owns=lambda name: name in FILES, marker=SUMMARY_FILE, inputs=inputs)


def write_pred_probs_npz(path: str | Path, *, example_ids: Sequence[str], classes: Sequence[str],
                         pred_probs: dict[str, np.ndarray], labels: np.ndarray | None = None,
                         **extra: np.ndarray) -> Path:
    """The ``oof.npz`` format: ``example_ids (N,)``, ``classes (K,)``, one
    ``pred_probs__<name> (N, K)`` float32 array per model, ``labels (N,)`` (codes into
    ``classes``: the labels the models were trained with; ``precomputed`` checks them against
    the dataset it is used on), plus ``extra`` arrays; what ``precomputed:path=FILE`` reads back.
    Not compressed: probabilities shrink by ~7% (BANKING77, 2 models: 5.9 MB instead of 6.7 MB),
    for 0.15 s of zlib at the end of every run."""
    arrays = {} if labels is None else {"labels": np.asarray(labels, dtype=np.int64)}
    return write_npz(path, compressed=False, example_ids=np.asarray(example_ids, dtype=str), classes=np.asarray(classes, dtype=str),
                     **arrays, **extra,
                     **{f"{PRED_PREFIX}{name}": np.asarray(p, dtype=np.float32) for name, p in pred_probs.items()})


def read_run_folder(path: str | Path, *, require: Sequence[str] = ()) -> RunFolder:
    """Read a find-issues folder. Every file is optional except those named in ``require``
    (and at least one must be there); malformed files raise :class:`DataError` naming the
    file, row and column."""
    path = Path(path)
    if not path.is_dir():
        raise DataError("not a folder (expected the --out folder of audit find-issues)", path=path)
    for name in require:
        if not (path / name).is_file():
            raise DataError(f"not found: is {path} the --out folder of `audit find-issues`?", path=path / name)
    summary = read_summary(path / SUMMARY_FILE) if (path / SUMMARY_FILE).is_file() else None
    run = RunFolder(path=path, issues=_issues(path / ISSUES), pairs=_pairs(path / PAIRS), oof=_oof(path / OOF),
                    summary=summary)
    if run.issues is None and run.pairs is None and run.oof is None and summary is None:
        raise DataError(f"none of {ISSUES}, {PAIRS}, {OOF}, {SUMMARY_FILE} is here", path=path)
    return run


def parse_bool(value, *, path: Path, row: int, column: str) -> bool:
    """A boolean cell: ``true/false``, ``1/0``, ``yes/no`` (any case), or a bool."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise DataError(f"not a boolean: {value!r} (true/false)", path=path, row=row, column=column)


def _read(file: Path) -> pd.DataFrame | None:
    if not file.is_file():
        return None
    try:
        return read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read CSV: {exc}", path=file) from None


def _numbers(frame: pd.DataFrame, column: str, file: Path, *, integer: bool = False) -> None:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values % 1 != 0 if integer else False)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise DataError(f"not {'an integer' if integer else 'a number'}: {frame[column].iloc[i]!r}",
                        path=file, row=i, column=column)
    frame[column] = values.astype(np.int64) if integer else values


def _read_table(file: Path, required: tuple[str, ...]) -> pd.DataFrame | None:
    frame = _read(file)
    missing = [] if frame is None else [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"missing columns {missing}", path=file, column=missing[0])
    return frame


def _issues(file: Path) -> pd.DataFrame | None:
    frame = _read_table(file, ISSUE_COLUMNS)
    if frame is None:
        return None
    _numbers(frame, "row", file, integer=True)
    _numbers(frame, "label_quality", file)
    for column in [c for c in frame.columns if c == "is_label_issue" or c.startswith(("is_", "flag__"))]:
        frame[column] = [parse_bool(v, path=file, row=i, column=column) for i, v in enumerate(frame[column])]
    for column in [c for c in frame.columns if c.startswith("quality__") or c.endswith("_score")] + \
                  [c for c in ("n_models_disagree", "n_models") if c in frame.columns]:
        _numbers(frame, column, file, integer=column.startswith("n_models"))
    if "review_error_probability" in frame.columns:  # audit rerank: empty on reviewed rows
        _optional_numbers(frame, "review_error_probability", file)
    return frame


def _optional_numbers(frame: pd.DataFrame, column: str, file: Path) -> None:
    """Parse ``column`` as numbers in place; an empty cell is NaN, anything else must be a number."""
    empty = frame[column].str.strip() == ""
    values = frame[column].where(~empty, "0")
    _numbers(frame.assign(**{column: values}), column, file)
    frame[column] = pd.to_numeric(values).where(~empty)


def _pairs(file: Path) -> pd.DataFrame | None:
    frame = _read_table(file, PAIR_COLUMNS)
    if frame is None:
        return None
    for column in ("n_a_as_b", "n_b_as_a", "confusion_rate"):
        if column in frame.columns:
            _numbers(frame, column, file)
    # the diagnosis's numbers (docs/formats.md); empty for pairs not above chance
    optional = [c for c in frame.columns if c in PAIR_EVIDENCE_NUMBERS or c.endswith(("_low", "_high"))]
    for column in optional:
        _optional_numbers(frame, column, file)
    return frame


def _oof(file: Path) -> dict | None:
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
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
