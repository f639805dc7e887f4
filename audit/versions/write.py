"""Save a dataset version: split CSVs, ``version.json``, ``changelog.csv`` / ``.md`` and a copy
of the decisions, as one folder written whole (:func:`labelcore.io.write_folder`): a failure
leaves nothing half-written, and the parent's data and the decisions are never overwritten."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.io import write_csv, write_folder, write_json, write_text
from audit.report.markdown import escape, table
from audit.versions.apply import AppliedDecisions
from labelcore.data.version_file import FORMAT, FORMAT_VERSION, VERSION_FILE

#: Columns every split file starts with; the source's other columns follow.
SPLIT_COLUMNS = ("example_id", "text", "label", "row")


def write_version(
    applied: AppliedDecisions,
    out_dir: str | Path,
    *,
    parent: DatasetBundle,
    decisions_source: str | Path = "",
    overwrite: bool = False,
) -> Path:
    """Write ``applied.bundle`` as a version folder at ``out_dir``; returns its path.

    ``version.json`` records the version's fingerprint (equal to ``load_data(out_dir).fingerprint``),
    the parent's spec and fingerprint, the classes in canonical order and the merges.
    ``decisions_source`` (the decisions file) is recorded with its hash.
    """
    bundle, changes = applied.bundle, applied.changes

    def write(tmp: Path) -> None:
        splits = {}
        for name, split in bundle.splits.items():
            split_frame(split).to_csv(tmp / f"{name}.csv", index=False)  # data, not for people: kept verbatim
            splits[name] = {"file": f"{name}.csv", "n_examples": len(split), "fingerprint": split.fingerprint}
        counts = changes["change"].value_counts().to_dict()
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": bundle.name,
            "fingerprint": bundle.fingerprint,
            "classes": list(bundle.classes),
            "splits": splits,
            "parent": {
                "spec": parent.spec, "name": parent.name, "fingerprint": parent.fingerprint,
                "classes": list(parent.classes),
                "n_examples": {n: len(s) for n, s in parent.splits.items()},
            },
            "merges": applied.merges,
            "counts": {
                "decisions": len(applied.decisions), "kept": applied.n_kept,
                **{k: int(counts.get(k, 0)) for k in ("relabel", "drop", "merge")},
            },
            "decisions": {"file": "decisions.csv", "source": str(decisions_source), "sha256": _sha256(decisions_source)},
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "license": bundle.license,
            "citation": bundle.citation,
        }
        write_json(meta, tmp / VERSION_FILE)
        write_csv(changes, tmp / "changelog.csv")
        write_text(changelog_markdown(meta, changes), tmp / "changelog.md")
        write_csv(applied.decisions, tmp / "decisions.csv")

    return write_folder(out_dir, write, owns=lambda name: True, marker=VERSION_FILE,
                        inputs=version_inputs(parent, decisions_source), overwrite=overwrite)


def version_inputs(parent: DatasetBundle, decisions_source: str | Path = "") -> list[str]:
    """What writing a version must never overwrite: the parent's files and the decisions."""
    return parent.source_paths + ([str(decisions_source)] if str(decisions_source) else [])


def split_frame(split: TextDataset) -> pd.DataFrame:
    """``example_id, text, label, row`` plus the source's other columns (e.g. ``true_label``)."""
    frame = pd.DataFrame({
        "example_id": split.example_ids, "text": split.texts,
        "label": split.label_names, "row": split.rows,
    })
    for column in split.extra.columns:
        if str(column) not in SPLIT_COLUMNS:
            frame[str(column)] = split.extra[column].to_numpy()
    return frame


def changelog_markdown(meta: dict, changes: pd.DataFrame, *, max_rows: int = 500) -> str:
    counts = meta["counts"]
    parent = meta["parent"]
    lines = [
        f"# Changelog: {escape(meta['name'])} {meta['fingerprint']}",
        "",
        f"Parent: `{parent['spec']}` (fingerprint {parent['fingerprint']}). "
        f"{counts['decisions']} decisions: {counts['relabel']} relabelled, {counts['drop']} dropped, "
        f"{counts['merge']} examples moved by merges, {counts['kept']} kept as they were.",
        "",
    ]
    if meta["merges"]:
        lines += ["## Merges", ""]
        lines += [f"- {escape(a)} → {escape(b)}" for a, b in sorted(meta["merges"].items())]
        lines.append("")
    lines += ["## Changes", ""]
    if changes.empty:
        lines.append("No example changed.")
    else:
        shown = changes.head(max_rows)
        lines.append(table(
            ["split", "row", "example_id", "change", "old label", "new label", "annotator", "when", "note"],
            ([escape(r.split), int(r.row), escape(r.example_id), escape(r.change), escape(r.old_label),
              escape(r.new_label), escape(r.annotator), escape(r.annotated_at), escape(r.note, max_chars=80)]
             for r in shown.itertuples()),
        ))
        if len(changes) > max_rows:
            lines += ["", f"… and {len(changes) - max_rows} more rows in `changelog.csv`."]
    return "\n".join(lines) + "\n"


def _sha256(path: str | Path) -> str | None:
    """Hash of the decisions file as given (None when they did not come from a file)."""
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if str(path) and path.is_file() else None
