"""Read and check a decision log (``decisions.csv``, written by ``audit import-labelstudio``).

Columns: ``example_id``, ``row``, ``decision``, ``new_label``, ``annotator``,
``annotated_at``, ``task_id``, ``note`` (an optional ``split`` column picks the split when an
id occurs in several). Example rows decide ``relabel`` / ``keep`` / ``drop`` / ``merge`` (merge
the example's label into ``new_label``); pair rows have ``example_id = pair:<a>|<b>`` and decide
``merge`` (the other label of the pair goes into ``new_label``), ``keep_apart`` or ``relabel``
(the pair stays; its examples are decided on their own rows).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from labelcore.errors import DataError

REQUIRED_COLUMNS = ("example_id", "decision", "new_label")
OPTIONAL_COLUMNS = ("row", "annotator", "annotated_at", "task_id", "note", "split")
EXAMPLE_DECISIONS = ("relabel", "keep", "drop", "merge")
PAIR_DECISIONS = ("merge", "keep_apart", "relabel")
PAIR_PREFIX = "pair:"


def read_decisions(path: str | Path) -> pd.DataFrame:
    """Read a decision log into a DataFrame of strings (missing cells are ``""``).

    The index is the 0-based data row of the file (header excluded), used in error messages.
    Raises :class:`DataError` for a missing file or column, or an unknown decision.
    """
    from labelcore.data.readers import read_text

    path = Path(path)
    try:
        frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError("file is empty", path=path) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed CSV: {exc}", path=path) from None
    return check_decisions(frame, path=path)


def check_decisions(frame: pd.DataFrame, *, path: str | Path = "decisions") -> pd.DataFrame:
    """Validate the columns and decision values of a decision log; returns a cleaned copy."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; a decision log has {list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}",
            path=path, column=missing[0],
        )
    frame = frame.copy().reset_index(drop=True)
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    for column in frame.columns:  # every cell a string, missing ones ""
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), "").astype(str)
    for column in ("example_id", "decision", "new_label", "split"):
        frame[column] = frame[column].str.strip()
    frame["decision"] = frame["decision"].str.lower()
    for i, (eid, decision, new_label) in enumerate(
        zip(frame["example_id"], frame["decision"], frame["new_label"])
    ):
        if not eid:
            raise DataError("empty example_id", path=path, row=i, column="example_id")
        allowed = PAIR_DECISIONS if is_pair(eid) else EXAMPLE_DECISIONS
        if decision not in allowed:
            kind = "a pair" if is_pair(eid) else "an example"
            raise DataError(
                f"decision {decision!r} is not one of {list(allowed)} for {kind}",
                path=path, row=i, column="decision",
            )
        if decision in ("relabel", "merge") and not new_label and not (is_pair(eid) and decision == "relabel"):
            raise DataError(f"decision {decision!r} needs a new_label", path=path, row=i, column="new_label")
    return frame


def is_pair(example_id: str) -> bool:
    return example_id.startswith(PAIR_PREFIX)


def pair_labels(example_id: str, *, path: str | Path, row: int) -> tuple[str, str]:
    """``pair:<a>|<b>`` -> ``(a, b)``."""
    a, sep, b = example_id[len(PAIR_PREFIX):].partition("|")
    if not sep or not a or not b:
        raise DataError(
            f"pair id {example_id!r} is not of the form 'pair:<label_a>|<label_b>'",
            path=path, row=row, column="example_id",
        )
    return a.strip(), b.strip()
