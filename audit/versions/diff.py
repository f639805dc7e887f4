"""What changed between two datasets (a spec and a version, or two versions), by example id."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Sequence

import pandas as pd

from labelcore.data.schema import DatasetBundle

#: Columns of :attr:`VersionDiff.changes`.
DIFF_COLUMNS = ("split", "example_id", "row", "change", "old_label", "new_label")
CHANGE_KINDS = ("relabel", "merge", "drop", "add", "edit")


@dataclasses.dataclass(frozen=True)
class VersionDiff:
    """changes : one row per changed example (:data:`DIFF_COLUMNS`); ``change`` is one of
    :data:`CHANGE_KINDS` (``edit`` = same id, other text).
    merges : ``{label_in_a: label_in_b}`` for classes of A absent from B whose examples all went
    to one class of B. ``removed_classes`` / ``added_classes``: the rest of the class-set change.
    """

    changes: pd.DataFrame
    merges: dict[str, str]
    removed_classes: list[str]
    added_classes: list[str]

    def counts(self) -> dict[str, int]:
        found = self.changes["change"].value_counts()
        return {k: int(found.get(k, 0)) for k in CHANGE_KINDS}


def class_mapping(a: DatasetBundle, b: DatasetBundle) -> dict[str, str | None]:
    """Map each class of ``a`` to a class of ``b``: itself when ``b`` has it, else the class of
    ``b`` that a strict majority of its examples (matched by id, all splits) now carry -- a
    merge, where a few of them may also have been relabelled elsewhere; ``None`` when the class
    vanished some other way.

    This is how predictions made in ``a``'s label space are compared in ``b``'s after merges.
    """
    targets: dict[str, Counter] = {c: Counter() for c in a.classes if c not in b.classes}
    if targets:
        for name, split_a in a.splits.items():
            split_b = b.splits.get(name)
            if split_b is None:
                continue
            b_label = dict(zip(split_b.example_ids, split_b.label_names))
            for eid, label in zip(split_a.example_ids, split_a.label_names):
                if label in targets and eid in b_label:
                    targets[label][b_label[eid]] += 1
    out: dict[str, str | None] = {}
    for c in a.classes:
        if c in b.classes:
            out[c] = c
        else:
            top = targets[c].most_common(1)
            out[c] = top[0][0] if top and 2 * top[0][1] > sum(targets[c].values()) else None
    return out


def diff_versions(a: DatasetBundle, b: DatasetBundle) -> VersionDiff:
    """Compare ``a`` (before) with ``b`` (after), example by example, in every split."""
    mapping = class_mapping(a, b)
    merges = {c: t for c, t in mapping.items() if c not in b.classes and t is not None}
    rows: list[tuple] = []
    for name in [*a.splits, *[s for s in b.splits if s not in a.splits]]:
        split_a, split_b = a.splits.get(name), b.splits.get(name)
        old = _by_id(split_a)
        new = _by_id(split_b)
        for eid, (row, text, label) in old.items():
            if eid not in new:
                rows.append((name, eid, row, "drop", label, ""))
                continue
            row_b, text_b, label_b = new[eid]
            if text_b != text:
                rows.append((name, eid, row_b, "edit", label, label_b))
            elif label_b != label:
                kind = "merge" if merges.get(label) == label_b else "relabel"
                rows.append((name, eid, row_b, kind, label, label_b))
        rows += [(name, eid, row, "add", "", label) for eid, (row, _, label) in new.items() if eid not in old]
    return VersionDiff(
        changes=pd.DataFrame(rows, columns=list(DIFF_COLUMNS)),
        merges=merges,
        removed_classes=[c for c in a.classes if c not in b.classes and c not in merges],
        added_classes=[c for c in b.classes if c not in a.classes],
    )


def _by_id(split) -> dict[str, tuple[int, str, str]]:
    if split is None:
        return {}
    return {
        eid: (int(row), text, label)
        for eid, row, text, label in zip(split.example_ids, split.rows, split.texts, split.label_names)
    }


def write_changes(result: "VersionDiff", out: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Write every change of ``result`` to the CSV ``out`` (atomically; cells safe for a
    spreadsheet). ``inputs``: the datasets compared, never overwritten."""
    from labelcore.io import check_output_file, write_csv

    check_output_file(out, inputs=inputs)
    return write_csv(result.changes, out)
