"""``audit export-labelstudio``, ``audit import-labelstudio`` and ``audit labelstudio-server``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from audit.cli.options import command_group
from labelcore.cli import console, guarded

commands = command_group()

URL_HELP = "Label Studio URL (default: $LABEL_STUDIO_URL, else http://localhost:8080)."
KEY_HELP = ("API key: a legacy token or a personal access token (default: $LABEL_STUDIO_API_KEY). "
            "Prefer the variable: a flag may stay in your shell history.")


@commands.command("export-labelstudio")
@guarded
def export_labelstudio(
    issues: Path = typer.Option(..., "--issues", help="Output directory of `audit find-issues`.",
                                exists=True, file_okay=False),
    url: Optional[str] = typer.Option(None, "--url", help=URL_HELP),
    api_key: Optional[str] = typer.Option(None, "--api-key", help=KEY_HELP, show_default=False),
    project_title: Optional[str] = typer.Option(None, "--project-title",
                                                help="Project title (default: 'label-audit: <issues dir name>')."),
    max_items: Optional[int] = typer.Option(None, "--max-items", min=1,
                                            help="Send at most N flagged examples (worst label quality first)."),
    max_pairs: int = typer.Option(20, "--max-pairs", min=0, help="Send the N most confused label pairs (0: none)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest",
                                            help="Where to record project and task ids (default: ISSUES/labelstudio.json)."),
    overlap: Optional[float] = typer.Option(None, "--overlap", min=0.0, max=1.0,
                                            help="Share of tasks given to two annotators (e.g. 0.2), so that "
                                            "`audit agreement` can measure agreement; 0 for one annotation per task. "
                                            "Default: leave the project's setting as it is."),
) -> None:
    """Send flagged examples and confused label pairs to Label Studio for review.

    One project gets a task per flagged example (text, given and suggested label, each model's vote, the quality score; the suggested label preselected); a second project gets a task per confused pair (exemplars of both labels and the evidence). Running it again adds only what is missing: tasks are keyed by example_id and by pair.

    Example:

    export LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=...

    audit export-labelstudio --issues runs/banking77 --max-items 500

    audit export-labelstudio --issues runs/banking77 --max-items 500 --overlap 0.2
    """
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from audit.labelstudio.export import export_to_labelstudio

    result = export_to_labelstudio(issues, url=url, api_key=api_key, project_title=project_title,
                                   max_items=max_items, max_pairs=max_pairs, manifest_path=manifest,
                                   overlap=overlap)
    table = Table(title=escape(f"Exported to {result.url}"))
    for column in ("tasks", "project", "id", "new", "already there"):
        table.add_column(column, justify="right" if column in ("id", "new", "already there") else "left")
    for p in result.projects:
        table.add_row(p.kind, Text(p.title + (" (created)" if p.created_project else "")), str(p.project_id),
                      str(p.n_created), str(p.n_existing))
    console.print(table)
    for p in result.projects:
        console.print(f"{p.kind}: {result.url}/projects/{p.project_id}/data", markup=False)
    console.print(f"Manifest: {result.manifest_path}", markup=False)


@commands.command("import-labelstudio")
@guarded
def import_labelstudio(
    out: Path = typer.Option(..., "--out", help="Decision log (CSV, append-only)."),
    issues: Optional[Path] = typer.Option(None, "--issues", file_okay=False,
                                          help="The issues directory of the export (reads its manifest)."),
    project: Optional[list[int]] = typer.Option(None, "--project", help="Project id to read (repeatable), "
                                                "instead of --issues."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="Manifest of the export, if not in ISSUES."),
    url: Optional[str] = typer.Option(None, "--url", help=URL_HELP + " With a manifest: the URL it records."),
    api_key: Optional[str] = typer.Option(None, "--api-key", help=KEY_HELP, show_default=False),
    show: int = typer.Option(20, "--show", min=0, help="List at most N problems."),
) -> None:
    """Pull the reviewers' annotations and append the resolved decisions to a log.

    OUT gets one row per decided task: example_id, row, decision (relabel / keep / merge / drop; pairs: merge / keep_apart / relabel), new_label, annotator, annotated_at, task_id, note. Several annotators: the majority wins; ties get no decision. Next to OUT: *.annotations.csv (every annotation, per annotator, with its status) and *.conflicts.csv (current disagreements). Skipped, incomplete and unknown-label annotations and deleted tasks are listed below. Importing again appends only what changed.

    Example:

    audit import-labelstudio --issues runs/banking77 --out runs/banking77/decisions.csv
    """
    from rich.table import Table
    from rich.text import Text

    from audit.labelstudio.importing import import_from_labelstudio

    result = import_from_labelstudio(out, issues_dir=issues, project_ids=project or None,
                                     manifest_path=manifest, url=url, api_key=api_key)
    summary = Table(title="Label Studio import", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    kinds: dict[str, int] = {}
    for p in result.problems:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    rows = [("tasks", result.n_tasks), ("not annotated yet", result.n_unannotated),
            ("annotations", result.n_annotations), ("decisions", len(result.decisions)),
            ("new rows in the log", result.n_appended),
            ("decided by majority over dissent", sum(c.kind == "majority" for c in result.conflicts)),
            *sorted(kinds.items())]
    for name, value in rows:
        summary.add_row(name, str(value))
    console.print(summary)
    if result.problems and show:
        problems = Table(title=f"Needs a look ({len(result.problems)})")
        for column in ("kind", "task", "example_id", "annotator", "detail"):
            problems.add_column(column)
        for p in result.problems[:show]:
            problems.add_row(p.kind, str(p.task_id), Text(p.example_id), Text(p.annotator), Text(p.detail))
        console.print(problems)
    console.print(f"Decisions: {result.decisions_path}\nPer annotator: {result.annotations_path}\n"
                  f"Conflicts: {result.conflicts_path}", markup=False)


@commands.command("labelstudio-server")
@guarded
def labelstudio_server(
    data_dir: Path = typer.Option(..., "--data-dir", file_okay=False,
                                  help="Where the server keeps its database and its label-audit credentials."),
    port: int = typer.Option(8080, "--port", help="Port to ask for (a busy one moves up; the URL printed is right)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address. Keep loopback unless you mean to share it."),
) -> None:
    """Start a local Label Studio server (offline, no telemetry) for users who have none.

    The first start in a new data directory migrates its database (about a minute). It creates an admin user with a random password and API token, stored in DATA_DIR (mode 0600) and reused on later starts; both are printed. Stop it with Ctrl-C.

    Example:

    audit labelstudio-server --data-dir ~/label-studio-data --port 8080
    """
    import signal
    import time

    from audit.labelstudio.server import start_local_server

    def interrupt(signum, frame):  # SIGTERM/SIGHUP stop the server too, like Ctrl-C
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    console.print(f"Starting Label Studio in {data_dir} (a new data directory takes about a minute)...")
    server = start_local_server(data_dir, port=port, host=host)
    try:
        creds = server.credentials
        console.print(f"Label Studio is up at [bold]{server.url}[/]\n"
                      f"  log in as {creds.username} / {creds.password}\n"
                      f"  export LABEL_STUDIO_URL={server.url}\n"
                      f"  export LABEL_STUDIO_API_KEY={creds.token}\n"
                      "Ctrl-C stops it.", highlight=False)
        while server.process.poll() is None:
            time.sleep(1)
    finally:
        server.stop()
