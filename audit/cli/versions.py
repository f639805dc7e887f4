"""``audit apply`` and ``audit diff``: dataset versions from a decision log."""

from __future__ import annotations

from pathlib import Path

import typer

from audit.cli.options import command_group
from labelcore.cli import console, guarded

commands = command_group()


@commands.command("apply")
@guarded
def apply_command(
    data: str = typer.Option(..., "--data", help="The dataset the decisions were made on: a spec as for find-issues, or a version folder."),
    decisions: Path = typer.Option(..., "--decisions", help="Decision log (decisions.csv from import-labelstudio)."),
    out: Path = typer.Option(..., "--out", help="The new version folder (must not exist, or be empty)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing version folder."),
) -> None:
    """Write a new dataset version: relabel, drop and merge as the decision log says.

    The source data is never modified. A merge rewrites the label set of every split (train and test alike). The folder holds one CSV per split (example_id, text, label, row), version.json (fingerprints of the version and of its parent, classes after merges), changelog.csv / changelog.md (every change with its decision, annotator and time) and a copy of the decisions. Any --data option accepts it afterwards.

    Examples:

      audit apply --data demo --decisions runs/ls/decisions.csv --out runs/demo-v1

      audit retrain --before demo --after runs/demo-v1 --backend tfidf-lr --out runs/retrain
    """
    from rich.markup import escape

    from audit.versions import apply_decisions, read_decisions
    from audit.versions.write import VERSION_FILE, version_inputs, write_version
    from labelcore.data import load_data
    from labelcore.io import check_output_folder

    bundle = load_data(data)
    check_output_folder(out, marker=VERSION_FILE, inputs=version_inputs(bundle, decisions), overwrite=overwrite)
    log = read_decisions(decisions)
    applied = apply_decisions(bundle, log, decisions_path=decisions)
    path = write_version(applied, out, parent=bundle, decisions_source=decisions, overwrite=overwrite)
    counts = applied.changes["change"].value_counts().to_dict()
    console.print(
        f"Wrote [bold]{escape(str(path))}[/] ({applied.bundle.fingerprint}, parent {bundle.fingerprint}): "
        f"{len(log)} decisions, {counts.get('relabel', 0)} relabelled, {counts.get('drop', 0)} dropped, "
        f"{counts.get('merge', 0)} moved by {len(applied.merges)} merge(s), {applied.n_kept} kept.",
    )
    for source, target in sorted(applied.merges.items()):
        console.print(f"  merged {source} -> {target}", markup=False)


@commands.command("diff")
@guarded
def diff_command(
    before: str = typer.Argument(..., help="Dataset spec or version folder (before)."),
    after: str = typer.Argument(..., help="Dataset spec or version folder (after)."),
    rows: int = typer.Option(20, "--rows", help="How many changed examples to list."),
    out: Path | None = typer.Option(None, "--out", help="Write every change to this CSV."),
) -> None:
    """List what changed between two datasets, example by example (matched by example_id).

    Counts relabels, merges, drops, additions and text edits per split, names merged classes, and lists the first changed examples.

    Examples:

      audit diff demo runs/demo-v1

      audit diff runs/demo-v1 runs/demo-v2 --rows 50 --out changes.csv
    """
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from audit.versions.diff import CHANGE_KINDS, diff_versions, write_changes
    from labelcore.data import load_data
    from labelcore.io import check_output_file

    before_data, after_data = load_data(before), load_data(after)
    inputs = before_data.source_paths + after_data.source_paths
    if out is not None:
        check_output_file(out, inputs=inputs)
    result = diff_versions(before_data, after_data)
    counts = Table(title=escape(f"{before} -> {after}"))
    counts.add_column("split")
    for kind in CHANGE_KINDS:
        counts.add_column(kind, justify="right")
    for split, group in result.changes.groupby("split", sort=False):
        found = group["change"].value_counts()
        counts.add_row(Text(str(split)), *(str(int(found.get(k, 0))) for k in CHANGE_KINDS))
    total = result.counts()
    counts.add_row("all", *(str(total[k]) for k in CHANGE_KINDS), style="bold")
    console.print(counts)
    for source, target in sorted(result.merges.items()):
        console.print(f"merged: {source} -> {target}", markup=False, highlight=False)
    for label in result.removed_classes:
        console.print(f"class removed: {label}", markup=False)
    for label in result.added_classes:
        console.print(f"class added: {label}", markup=False)
    if rows > 0 and not result.changes.empty:
        listing = Table(title=f"first {min(rows, len(result.changes))} of {len(result.changes)} changes")
        for column in result.changes.columns:
            listing.add_column(column)
        for rec in result.changes.head(rows).itertuples(index=False):
            listing.add_row(*(Text(str(v)) for v in rec))
        console.print(listing)
    if out is not None:
        write_changes(result, out, inputs=inputs)
        console.print(f"Wrote {len(result.changes)} changes to {escape(str(out))}")
