"""Turn a raw table into a validated :class:`TextDataset` (columns, missing values, ids, classes)."""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from typing import Sequence

import numpy as np
import pandas as pd

from labelcore.data.schema import TextDataset
from labelcore.errors import DataError


def _missing(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip()
    ) or value is pd.NA or value is pd.NaT


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_text_value(value, *, path: str, row: int, column: str) -> str:
    """A text cell as ``str``; a number, list, dict or bytes is a DataError naming the cell
    (a column of integers read as texts would be audited as nonsense)."""
    if isinstance(value, str):
        return value
    kind = type(value).__name__
    raise DataError(
        f"the text is a {kind} ({_describe(value)}), not a string; is {column!r} the text column? "
        "(choose with --text-column)",
        path=path, row=row, column=column,
    )


def check_label_value(value, *, path: str, row: int, column: str) -> str:
    """A label cell as its name: a string, an integer code (``3`` -> ``"3"``) or a whole
    float (``3.0`` -> ``"3"``, as Parquet stores an integer column with gaps). Lists, dicts,
    arrays, bytes, fractional or infinite floats are a DataError naming the cell."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    kind = type(value).__name__
    raise DataError(
        f"the label is a {kind} ({_describe(value)}); a label must be a class name or an integer "
        "class code, one per row (is this the label column? choose with --label-column)",
        path=path, row=row, column=column,
    )


def check_trainable(dataset: TextDataset, *, n_folds: int | None = None, labels: np.ndarray | None = None) -> None:
    """Raise DataError when ``dataset`` (with ``labels (N,)`` codes instead of its own when
    given) cannot train a classifier or be split into ``n_folds`` stratified folds: fewer than
    two classes present, or fewer rows than folds. (Classes with fewer rows than folds are
    reported by ``finetune.oof.assign_folds``.)"""
    labels = dataset.labels if labels is None else np.asarray(labels)
    present = np.unique(labels)
    if len(present) < 2:
        only = dataset.classes[int(present[0])] if len(present) else None
        raise DataError(
            f"every row has the label {only!r}: auditing or training a classifier needs at least two "
            "classes; check --label-column, or add examples of other classes",
            path=dataset.source, column=dataset.label_column,
        )
    if n_folds is not None and len(labels) < n_folds:
        raise DataError(
            f"{len(labels)} rows cannot be split into {n_folds} folds; lower --folds or add examples",
            path=dataset.source,
        )


def _require_column(frame: pd.DataFrame, column: str, *, path: str, role: str) -> None:
    if column in frame.columns:
        return
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"no {role} column {column!r}; the columns are {columns}{hint} "
        f"(choose with --{role}-column)",
        path=path,
        column=column,
    )


def derive_example_ids(texts: Sequence[str], *, split: str) -> list[str]:
    """Stable ids from (split, text); repeated texts get ``-2``, ``-3``... in file order.

    Reordering a file keeps every id (up to the order among identical texts)."""
    seen: Counter[str] = Counter()
    ids = []
    for text in texts:
        base = hashlib.sha1(f"{split}\x1f{text}".encode()).hexdigest()[:12]
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def build_split(
    frame: pd.DataFrame,
    *,
    text_column: str,
    label_column: str,
    path: str,
    split: str = "train",
    id_column: str | None = None,
    classes: Sequence[str] | None = None,
    classes_from: str | None = None,
    rows: np.ndarray | None = None,
) -> TextDataset:
    """Validate ``frame`` and build a split.

    ``classes`` fixes the canonical order (every label must be in it); when None, it is the
    sorted set of labels. ``classes_from`` names where ``classes`` came from, for messages.
    """
    _require_column(frame, text_column, path=path, role="text")
    _require_column(frame, label_column, path=path, role="label")
    if id_column is not None:
        _require_column(frame, id_column, path=path, role="id")
    if len(frame) == 0:
        raise DataError("no data rows", path=path)
    row_numbers = np.arange(len(frame)) if rows is None else np.asarray(rows)

    texts, names = [], []
    for i, (text, label) in enumerate(zip(frame[text_column].tolist(), frame[label_column].tolist())):
        if _missing(text):
            raise DataError("empty or missing text", path=path, row=int(row_numbers[i]), column=text_column)
        if _missing(label):
            raise DataError("empty or missing label", path=path, row=int(row_numbers[i]), column=label_column)
        texts.append(check_text_value(text, path=path, row=int(row_numbers[i]), column=text_column))
        names.append(check_label_value(label, path=path, row=int(row_numbers[i]), column=label_column))

    if id_column is not None:
        ids = []
        first: dict[str, int] = {}
        for i, raw in enumerate(frame[id_column].tolist()):
            if _missing(raw):
                raise DataError("empty id", path=path, row=int(row_numbers[i]), column=id_column)
            eid = check_label_value(raw, path=path, row=int(row_numbers[i]), column=id_column)
            ids.append(eid)
            if eid in first:
                raise DataError(
                    f"duplicate id {eid!r} (also at row {int(row_numbers[first[eid]])})",
                    path=path, row=int(row_numbers[i]), column=id_column,
                )
            first[eid] = i
    else:
        ids = derive_example_ids(texts, split=split)

    if classes is None:
        classes = tuple(sorted(set(names)))
    classes = tuple(classes)
    index = {c: k for k, c in enumerate(classes)}
    codes = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        if name not in index:
            close = difflib.get_close_matches(name, classes, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"label {name!r} is not among the {len(classes)} classes of "
                f"{classes_from or 'the class list'}{hint}",
                path=path, row=int(row_numbers[i]), column=label_column,
            )
        codes[i] = index[name]

    extra_cols = [c for c in frame.columns if c not in {text_column, label_column, id_column}]
    return TextDataset(
        texts=texts,
        labels=codes,
        classes=classes,
        example_ids=ids,
        rows=row_numbers.astype(np.int64),
        source=path,
        split=split,
        extra=frame[extra_cols].reset_index(drop=True),
        label_column=label_column,
    )


def check_auditable(dataset: TextDataset, *, n_folds: int) -> None:
    """Raise :class:`DataError` when ``dataset`` cannot be audited out-of-fold: fewer than two
    labels in use (nothing to confuse) or fewer rows than folds."""
    used = np.unique(dataset.labels)
    if len(used) < 2:
        only = dataset.classes[int(used[0])] if len(used) else "none"
        raise DataError(f"only one label in the data ({only!r}): an audit needs at least two",
                        path=dataset.source, column=dataset.label_column)
    if len(dataset) < n_folds:
        raise DataError(f"{len(dataset)} rows are fewer than the {n_folds} folds", path=dataset.source)
