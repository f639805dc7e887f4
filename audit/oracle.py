"""A simulated reviewer for benchmarks: restores the planted (true) label of flagged examples.

Its decision log has the same columns as a human one (``audit import-labelstudio``), so
``audit apply`` and ``audit retrain`` treat a simulated loop exactly like a real one; the
annotator is named :data:`ORACLE` so a simulated log is never mistaken for human work.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from audit.formats.decision_log import COLUMNS as DECISION_COLUMNS
from labelcore.data.schema import TextDataset
from labelcore.errors import DataError

ORACLE = "oracle (simulation)"


def oracle_decisions(
    dataset: TextDataset,
    flagged_example_ids: Iterable[str],
    *,
    true_labels: Sequence[str] | np.ndarray,
    annotated_at: str | None = None,
) -> pd.DataFrame:
    """Decide each flagged example the way a perfect reviewer would.

    Parameters
    ----------
    dataset : the split the flags refer to.
    flagged_example_ids : ids of the examples sent for review (order kept; repeats ignored).
    true_labels : (N,) the planted true label of every example of ``dataset``, as names
        (e.g. ``dataset.extra["true_label"]``) or int codes into ``dataset.classes``.
    annotated_at : timestamp to record (ISO 8601); now, in UTC, by default.

    Returns
    -------
    pd.DataFrame, one row per flagged example, in the decision-log format: ``relabel`` with
    ``new_label`` = the true label where the given label is wrong, ``keep`` where it is right.
    """
    truth = np.asarray(true_labels)
    if truth.shape != (len(dataset),):
        raise DataError(f"true_labels has shape {truth.shape}, the dataset has {len(dataset)} examples")
    if truth.dtype.kind in "iu":
        if truth.size and (truth.min() < 0 or truth.max() >= len(dataset.classes)):
            raise DataError(f"true_labels codes must lie in [0, {len(dataset.classes)})")
        truth = np.asarray(dataset.classes, dtype=object)[truth]
    unknown = sorted({str(t) for t in truth} - set(dataset.classes))
    if unknown:
        raise DataError(f"true label(s) {unknown[:5]} are not among the dataset's classes", column="true_label")
    position = {eid: i for i, eid in enumerate(dataset.example_ids)}
    when = annotated_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    records = []
    for eid in dict.fromkeys(flagged_example_ids):
        if eid not in position:
            raise DataError(f"flagged example_id {eid!r} is not in the {dataset.split} split of {dataset.source}")
        i = position[eid]
        given, true = dataset.classes[dataset.labels[i]], str(truth[i])
        wrong = given != true
        records.append({
            "example_id": eid,
            "row": int(dataset.rows[i]),
            "decision": "relabel" if wrong else "keep",
            "new_label": true if wrong else "",
            "annotator": ORACLE,
            "annotated_at": when,
            "task_id": "",
            "note": f"planted label {given!r} -> true label {true!r}" if wrong else "given label is the true label",
        })
    return pd.DataFrame(records, columns=list(DECISION_COLUMNS))
