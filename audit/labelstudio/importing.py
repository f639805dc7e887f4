"""``audit import-labelstudio``: pull annotations, resolve them, write the decision log.

Files (``--out decisions.csv``):
- ``decisions.csv``: append-only log of resolved decisions, one row per task and decision.
- ``decisions.annotations.csv``: append-only, one row per annotator and annotation, with its
  status (ok / skipped / incomplete / unknown_label): the audit trail behind each decision.
- ``decisions.conflicts.csv``: the current disagreements (ties: no decision; majority: decided
  with outvoted annotators), rewritten on each import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labelcore.errors import ConfigError
from audit.labelstudio.client import connect
from audit.labelstudio.config import LABEL, MERGE_INTO, load_interface
from audit.formats.decision_log import COLUMNS as DECISION_COLUMNS
from audit.formats.decision_log import append_rows, columns_of, write_rows
from audit.labelstudio.annotations import OK, Conflict, Decision, Vote, resolve_tasks
from audit.labelstudio.manifest import default_manifest_path, load_manifest

MISSING_TASK = "missing_task"


@dataclass(frozen=True)
class Problem:
    """Something the import did not turn into a decision, for the user to look at."""

    kind: str            # skipped / incomplete / unknown_label / tie / missing_task
    task_id: int
    example_id: str
    annotator: str
    detail: str


@dataclass
class ImportResult:
    decisions_path: Path
    annotations_path: Path
    conflicts_path: Path
    n_tasks: int = 0                 # tasks on the server in the projects read
    n_unannotated: int = 0           # tasks without any annotation yet
    n_annotations: int = 0
    decisions: list[Decision] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    n_appended: int = 0              # decision rows new in the log


def companion_paths(out: str | Path) -> tuple[Path, Path]:
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".csv" else out
    return stem.with_name(stem.name + ".annotations.csv"), stem.with_name(stem.name + ".conflicts.csv")


def _classes_from_config(config: str) -> list[str]:
    controls = {c.name: c for c in load_interface(config).controls}
    for name in (LABEL, MERGE_INTO):
        if name in controls:
            return list(controls[name].labels)
    raise ConfigError("The project's labeling config has no 'label' or 'merge_into' choices: not a label-audit project")


def import_from_labelstudio(
    out: str | Path,
    *,
    issues_dir: str | Path | None = None,
    project_ids: list[int] | None = None,
    manifest_path: str | Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
) -> ImportResult:
    """Read every annotation of the review projects and append the resolved decisions to ``out``.

    The projects come from the manifest of an export (``issues_dir`` or ``manifest_path``) or
    from ``project_ids``. Several annotators on one task: the majority wins; ties get no
    decision and are listed in ``result.conflicts`` and ``result.problems``. Skipped, incomplete
    and unknown-label annotations, and tasks of the manifest that no longer exist, are listed
    in ``result.problems``. Importing twice gives the same files.
    """
    manifest = None
    if manifest_path is not None or issues_dir is not None:
        manifest_path = Path(manifest_path) if manifest_path else default_manifest_path(issues_dir)
        manifest = load_manifest(manifest_path)
        if manifest is None:
            raise ConfigError(f"No export manifest at {manifest_path}: run `audit export-labelstudio` first, "
                              "or pass --project ID")
    if manifest is None and not project_ids:
        raise ConfigError("Say which projects to read: --issues DIR (after an export) or --project ID")
    conn = connect(url or (manifest.url if manifest else None), api_key)
    wanted = {r.id: r for r in manifest.projects.values()} if manifest else {}
    ids = list(project_ids or wanted)
    annotators = {u.id: (u.email or u.username or f"user:{u.id}")
                  for u in conn.call(lambda: list(conn.client.users.list()), "listing users")}
    decisions_path = Path(out)
    result = ImportResult(decisions_path, *companion_paths(decisions_path))
    all_votes: list[Vote] = []
    for pid in ids:
        project = conn.call(lambda: conn.client.projects.get(id=pid), f"reading project {pid}")
        classes = manifest.classes if manifest else _classes_from_config(project.label_config)
        tasks = conn.fetch_annotated_tasks(pid)
        present = conn.fetch_task_keys(pid)
        resolution = resolve_tasks(tasks, classes=set(classes), annotators=annotators)
        result.n_tasks += len(present)
        result.n_unannotated += len(present) - sum(1 for t in tasks if t.get("annotations"))
        result.n_annotations += len(resolution.votes)
        result.decisions += resolution.decisions
        result.conflicts += resolution.conflicts
        all_votes += resolution.votes
        result.problems += [Problem(v.status, v.task_id, v.example_id, v.annotator, v.detail)
                            for v in resolution.votes if v.status != OK]
        result.problems += [Problem("tie", c.task_id, c.example_id, "", f"no majority: {c.votes}")
                            for c in resolution.conflicts if c.kind == "tie"]
        if pid in wanted:
            ids_present = set(present.values())
            result.problems += [Problem(MISSING_TASK, tid, key, "", f"task {tid} of project {pid} no longer exists")
                                for key, tid in wanted[pid].tasks.items() if tid not in ids_present]
    result.n_appended = append_rows(decisions_path, DECISION_COLUMNS, result.decisions)
    append_rows(result.annotations_path, columns_of(Vote), all_votes)
    write_rows(result.conflicts_path, columns_of(Conflict), result.conflicts)
    return result
