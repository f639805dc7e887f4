"""``precomputed``: out-of-fold predictions made elsewhere (a 7B model fine-tuned on another
machine, an earlier run), brought into the audit like a trained backend.

The file is either a table (Parquet or CSV: ``example_id`` plus one probability column per class
name, rows in any order) or an ``oof.npz`` written by ``audit find-issues`` (``example_ids``,
``classes`` and one ``pred_probs__<backend>`` array per model; ``model=NAME`` picks one when it
holds several). The out-of-fold engine does not train it: it reads the file, checks it against
the dataset, and uses the rows as given (also in round 2 of ``find-issues``: given predictions
cannot be retrained).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from labelcore.errors import ConfigError, DataError, ModelError
from finetune.backends.base import Backend, BackendConfig

#: A row's probabilities may sum to 1 within this (files round); rows are renormalised.
SUM_TOLERANCE = 1e-3
TABLE_SUFFIXES = (".parquet", ".pq", ".csv")
ID_COLUMN = "example_id"
#: Optional: the label each row was trained with (a table's column; an oof.npz's ``labels``).
LABEL_COLUMN = "label"
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True)
class PrecomputedConfig(BackendConfig):
    backend = "precomputed"
    positional_field = "path"

    path: str = field(
        default="",
        metadata={"help": "Parquet/CSV with example_id + one probability column per class, or an oof.npz "
                  "from an earlier run."},
    )
    params: int = field(
        default=0,
        metadata={"help": "Parameters of the model that made the predictions: places it on the scale "
                  "axis of the pair diagnosis (0 = unknown)."},
    )
    name: str = field(default="", metadata={"help": "Its name in the outputs (default 'precomputed')."})
    model: str = field(
        default="",
        metadata={"help": "oof.npz only: which pred_probs__<MODEL> array to use (needed when it holds several)."},
    )
    test: str = field(
        default="",
        metadata={"help": "The same model's predictions on the test split (same formats; trained on the whole "
                  "train split): its test accuracy in the scales table."},
    )
    seconds: float = field(
        default=0.0,
        metadata={"help": "Its out-of-fold training time, measured where it was trained (the scales table; "
                  "0 = unknown)."},
    )

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("precomputed: give a file, e.g. 'precomputed:path=preds.parquet'")
        suffix = Path(self.path).suffix.lower()
        if suffix not in (*TABLE_SUFFIXES, ".npz"):
            raise ConfigError(
                f"precomputed: {self.path!r} is not a .parquet, .csv or .npz file"
            )
        if self.model and suffix != ".npz":
            raise ConfigError("precomputed: model= picks an array of an oof.npz; a table has one model")
        if self.test and Path(self.test).suffix.lower() not in (*TABLE_SUFFIXES, ".npz"):
            raise ConfigError(f"precomputed: test={self.test!r} is not a .parquet, .csv or .npz file")
        if self.params < 0 or self.seconds < 0:
            raise ConfigError(f"precomputed: params and seconds must be >= 0, got {self.params} and {self.seconds}")
        if self.name and not _NAME.match(self.name):
            raise ConfigError(f"precomputed: name {self.name!r} may hold letters, digits and _ . + - only")

    @property
    def display_name(self) -> str:
        return self.name or "precomputed"

    def fingerprint(self) -> str:
        """The options plus the file's content: a changed file is a different model."""
        digest = hashlib.sha256(super().fingerprint().encode())
        p = Path(self.path)
        if p.is_file():
            with p.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()[:16]


class PrecomputedBackend(Backend):
    """Given out-of-fold predictions: :meth:`given_oof_pred_probs`; nothing to fit."""

    config_class = PrecomputedConfig
    provides_oof = True

    def given_oof_pred_probs(self, example_ids: Sequence[str], classes: Sequence[str], *,
                             labels: Sequence[str] | None = None) -> np.ndarray:
        cfg = self.config
        self.n_parameters_, self.given_seconds_ = int(cfg.params), float(cfg.seconds)
        return load_given_pred_probs(cfg.path, example_ids, classes, model=cfg.model or None, labels=labels)

    def given_test_pred_probs(self, example_ids: Sequence[str], classes: Sequence[str]) -> np.ndarray | None:
        """``(M, K)`` test-split probabilities from ``test=``, checked as the out-of-fold file is;
        None without one."""
        cfg = self.config
        return load_given_pred_probs(cfg.test, example_ids, classes, model=cfg.model or None) if cfg.test else None

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "PrecomputedBackend":
        raise ModelError(
            f"precomputed:{self.config.path}: predictions given from elsewhere cannot be trained "
            "(use it in find-issues; retrain needs a trainable backend)"
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raise ModelError(f"precomputed:{self.config.path}: holds predictions for its own examples only")


def load_given_pred_probs(
    path: str | Path, example_ids: Sequence[str], classes: Sequence[str], *, model: str | None = None,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """``(N, K)`` probabilities for ``example_ids`` (rows) and ``classes`` (columns) from a file.

    path : Parquet / CSV (``example_id`` + one column per class name, any row and column
        order, optionally a ``label`` column) or an ``oof.npz`` (``model`` picks its
        ``pred_probs__<model>`` array; ``labels``, when there, are the rows' labels).
    labels : the dataset's label of each of ``example_ids`` (N,). When the file records the
        labels its model was trained with, they must be these: out-of-fold predictions made
        for other labels (another version, other planted noise) would be scored as if they
        were for these.
    Raises :class:`DataError` naming the problem: the file is missing or unreadable; ids
    missing, duplicated or unknown; class columns that are not the dataset's classes; values
    that are NaN, negative or not numbers; rows that do not sum to 1 (within ``SUM_TOLERANCE``);
    recorded labels that differ from ``labels``. Rows are renormalised to sum to exactly 1.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("no such file (precomputed predictions)", path=p)
    classes = [str(c) for c in classes]
    if p.suffix.lower() == ".npz":
        ids, columns, values, file_labels = _read_npz(p, model)
    else:
        ids, columns, values = _read_table(p)
        file_labels = None
        if LABEL_COLUMN in columns and LABEL_COLUMN not in classes:
            recorded = values.pop(LABEL_COLUMN)
            empty = [ids[r] for r in np.flatnonzero(recorded.isna().to_numpy())]
            if empty:
                raise DataError(f"{len(empty)} row(s) have an empty {LABEL_COLUMN!r} (example_id {_few(empty)}): "
                                "give every row's label, or leave the column out", path=p, column=LABEL_COLUMN)
            file_labels = [str(v) for v in recorded]
            columns = [c for c in columns if c != LABEL_COLUMN]

    missing_cols = [c for c in classes if c not in columns]
    extra_cols = [c for c in columns if c not in set(classes)]
    if missing_cols or extra_cols:
        parts = []
        if missing_cols:
            parts.append(f"no column for {len(missing_cols)} of the dataset's classes ({_few(missing_cols)})")
        if extra_cols:
            parts.append(f"{len(extra_cols)} column(s) that are not the dataset's classes ({_few(extra_cols)})")
        raise DataError("class columns do not match the dataset's classes: " + "; ".join(parts), path=p)

    seen, dupes = set(), []
    for i in ids:
        (dupes.append(i) if i in seen else seen.add(i))
    if dupes:
        raise DataError(f"{len(dupes)} duplicated example_id(s) ({_few(dupes)})", path=p, column=ID_COLUMN)
    wanted = [str(i) for i in example_ids]
    position = {i: r for r, i in enumerate(ids)}
    missing = [i for i in wanted if i not in position]
    if missing:
        raise DataError(
            f"no predictions for {len(missing)} of the dataset's {len(wanted)} examples ({_few(missing)})",
            path=p, column=ID_COLUMN,
        )
    known = set(wanted)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise DataError(
            f"{len(unknown)} example_id(s) are not in the dataset ({_few(unknown)}); "
            "were the predictions made on another dataset or split?",
            path=p, column=ID_COLUMN,
        )

    if labels is not None and file_labels is not None:
        _check_labels(p, wanted, [file_labels[position[i]] for i in wanted], [str(v) for v in labels],
                      column="labels" if p.suffix.lower() == ".npz" else LABEL_COLUMN)

    if not isinstance(values, np.ndarray):  # a table: its class columns must hold numbers
        import pandas as pd

        bad = [c for c in classes if not pd.api.types.is_numeric_dtype(values[c])]
        if bad:
            raise DataError(f"class column(s) that do not hold numbers: {_few(bad)}", path=p)
        values = values.to_numpy(dtype=np.float64)
    order = [columns.index(c) for c in classes]
    probs = values[[position[i] for i in wanted]][:, order]
    nan_rows = np.flatnonzero(np.isnan(probs).any(1))
    if nan_rows.size:
        raise DataError(f"{nan_rows.size} row(s) hold NaN or empty probabilities (example_id {_few([wanted[r] for r in nan_rows])})", path=p)
    neg_rows = np.flatnonzero((probs < 0).any(1))
    if neg_rows.size:
        raise DataError(f"{neg_rows.size} row(s) hold negative probabilities (example_id {_few([wanted[r] for r in neg_rows])})", path=p)
    sums = probs.sum(1)
    off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    if off.size:
        r = off[0]
        raise DataError(
            f"{off.size} row(s) do not sum to 1 (tolerance {SUM_TOLERANCE:g}); e.g. example_id "
            f"{wanted[r]!r} sums to {sums[r]:.6g}: give probabilities, not scores or logits",
            path=p,
        )
    return probs / sums[:, None]


def _read_table(p: Path) -> tuple[list[str], list[str], "pd.DataFrame"]:
    import pandas as pd

    try:
        if p.suffix.lower() == ".csv":
            frame = pd.read_csv(p, dtype={ID_COLUMN: str})
        else:
            frame = pd.read_parquet(p)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise DataError(f"cannot read the file: {exc}", path=p) from None
    if ID_COLUMN not in frame.columns:
        raise DataError(f"no {ID_COLUMN!r} column (columns: {_few([str(c) for c in frame.columns])})", path=p)
    ids = frame.pop(ID_COLUMN)
    if ids.isna().any():
        raise DataError(f"{int(ids.isna().sum())} row(s) have no example_id", path=p, column=ID_COLUMN)
    frame.columns = [str(c) for c in frame.columns]
    return [str(i) for i in ids], list(frame.columns), frame


def _check_labels(p: Path, ids: list[str], recorded: list[str], given: list[str], *, column: str) -> None:
    """Raise when the labels the file's model was trained with are not the dataset's."""
    if len(given) != len(ids):
        raise ValueError("labels must have one entry per example_id")
    differ = [r for r, (a, b) in enumerate(zip(recorded, given)) if a != b]
    if differ:
        r = differ[0]
        raise DataError(
            f"its predictions were made for other labels: {len(differ)} of the {len(ids)} rows are labelled "
            f"differently there (e.g. example_id {ids[r]!r}: {recorded[r]!r} in the file, {given[r]!r} here). "
            "Out-of-fold predictions hold only for the labels they were trained on (another dataset version? "
            "other planted noise?): make them again on these labels",
            path=p, column=column,
        )


def _read_npz(p: Path, model: str | None) -> tuple[list[str], list[str], np.ndarray, list[str] | None]:
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise DataError(f"cannot read the file as an oof.npz: {exc}", path=p) from None
    for key in ("example_ids", "classes"):
        if key not in arrays:
            raise DataError(f"no {key!r} array: not an oof.npz written by audit find-issues", path=p)
    models = sorted(k.removeprefix("pred_probs__") for k in arrays if k.startswith("pred_probs__"))
    if not models:
        raise DataError("no pred_probs__<backend> array: no model's predictions in it", path=p)
    if model is None:
        if len(models) > 1:
            raise DataError(
                f"holds the predictions of {len(models)} models ({', '.join(models)}); pick one with "
                f"model=NAME, e.g. 'precomputed:path={p},model={models[0]}'",
                path=p,
            )
        model = models[0]
    elif model not in models:
        raise DataError(f"no model {model!r} in it; it holds {', '.join(models)}", path=p)
    values = np.asarray(arrays[f"pred_probs__{model}"], dtype=np.float64)
    ids, columns = [str(i) for i in arrays["example_ids"]], [str(c) for c in arrays["classes"]]
    if values.shape != (len(ids), len(columns)):
        raise DataError(f"pred_probs__{model} has shape {values.shape}, expected ({len(ids)}, {len(columns)})", path=p)
    file_labels = None
    if "labels" in arrays:  # codes into classes, as audit find-issues writes them
        codes = np.asarray(arrays["labels"])
        if codes.shape != (len(ids),) or codes.dtype.kind not in "iu" or (codes.size and (codes.min() < 0 or codes.max() >= len(columns))):
            raise DataError(f"'labels' must be {len(ids)} class indices below {len(columns)}", path=p, column="labels")
        file_labels = [columns[c] for c in codes]
    return ids, columns, values, file_labels


def _few(items: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(repr(str(i)) for i in list(items)[:n])
    return shown + (", ..." if len(items) > n else "")
