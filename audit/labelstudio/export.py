"""``audit export-labelstudio``: send the flagged examples and confused pairs to Label Studio.

Two projects: one task per flagged example (``<title>``) and one per confused pair
(``<title> (confused pairs)``). Everything is validated locally before the first request;
exporting again adds only the tasks whose key is not there yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labelcore.errors import ConfigError, ServiceError
from audit.labelstudio.client import Connection, connect
from audit.labelstudio.config import build_issue_config, build_pair_config, load_interface
from audit.labelstudio.manifest import Manifest, ProjectRecord, default_manifest_path, load_manifest, save_manifest
from audit.labelstudio.tasks import build_issue_tasks, build_pair_tasks, read_review_source

DEFAULT_CHUNK_SIZE = 2000
MAX_TITLE = 50  # Label Studio refuses longer project titles
PAIRS_SUFFIX = " (pairs)"


@dataclass
class ProjectExport:
    kind: str          # "issues" or "pairs"
    project_id: int
    title: str
    n_wanted: int      # tasks this export asked for
    n_created: int     # of which were new
    n_existing: int    # of which were there already (not duplicated)
    created_project: bool


@dataclass
class ExportResult:
    url: str
    manifest_path: Path
    projects: list[ProjectExport] = field(default_factory=list)


def export_to_labelstudio(
    issues_dir: str | Path,
    *,
    url: str | None = None,
    api_key: str | None = None,
    project_title: str | None = None,
    max_items: int | None = None,
    max_pairs: int = 20,
    manifest_path: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    overlap: float | None = None,
) -> ExportResult:
    """Create (or reuse) the review projects and import the tasks not there yet.

    Parameters
    ----------
    issues_dir : output directory of ``audit find-issues`` (issues.csv, pairs.csv, summary.json).
    url, api_key : the server; default to ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``.
    project_title : title of the issue project (default ``label-audit: <dir name>``, at most 42
        characters); the pair project gets `` (pairs)`` appended. Projects are found again through the
        manifest first, then by title.
    max_items : at most this many flagged examples (worst label quality first).
    max_pairs : at most this many confused pairs (the first rows of pairs.csv); 0 for none.
    manifest_path : where to record projects and task ids (default ``<issues_dir>/labelstudio.json``).
    chunk_size : tasks per import request.
    overlap : share of tasks (0 to 1) that Label Studio gives to two annotators, so that
        ``audit agreement`` can measure agreement. Set through the project's
        ``maximum_annotations`` = 2 and ``overlap_cohort_percentage`` (the server picks the
        tasks); 0: one annotation per task; None (default): leave the project's setting alone.

    Raises DataError / ConfigError before any request when the inputs or the configs are bad,
    ServiceError when the server cannot be reached or refuses.
    """
    if overlap is not None and not 0.0 <= overlap <= 1.0:
        raise ConfigError(f"--overlap must be a share between 0 and 1, got {overlap}")
    src = read_review_source(issues_dir)
    issue_config, pair_config = build_issue_config(src.classes), build_pair_config(src.classes)
    issue_tasks = build_issue_tasks(src, load_interface(issue_config), max_items=max_items)
    pair_tasks = build_pair_tasks(src, max_pairs=max_pairs)
    load_interface(pair_config)
    title = _project_title(project_title, src.path)

    conn = connect(url, api_key)
    manifest_path = Path(manifest_path) if manifest_path else default_manifest_path(src.path)
    manifest = load_manifest(manifest_path) or Manifest(conn.url, src.model_version, src.classes)
    if manifest.url != conn.url:  # project ids of another server mean nothing here
        manifest.projects = {}
    manifest.url, manifest.model_version, manifest.classes = conn.url, src.model_version, src.classes
    result = ExportResult(conn.url, manifest_path)
    plan = [("issues", title, issue_config, issue_tasks)]
    if pair_tasks:
        plan.append(("pairs", title + PAIRS_SUFFIX, pair_config, pair_tasks))
    for kind, kind_title, config, tasks in plan:
        result.projects.append(_export_project(
            conn, manifest, manifest_path, kind=kind, title=kind_title, config=config, tasks=tasks,
            model_version=src.model_version if kind == "issues" else None, chunk_size=chunk_size,
            overlap=overlap,
        ))
    return result


def overlap_settings(overlap: float | None) -> dict:
    """Project settings that make Label Studio give a share ``overlap`` of the tasks to two
    annotators. Label Studio Community has no per-task overlap option in its UI, but its
    projects keep ``maximum_annotations`` (annotations per task) and
    ``overlap_cohort_percentage`` (the share of tasks that need that many); the server assigns
    the cohort itself when tasks are imported or the settings change."""
    if overlap is None:
        return {}
    if overlap <= 0:
        return {"maximum_annotations": 1, "overlap_cohort_percentage": 100}
    return {"maximum_annotations": 2, "overlap_cohort_percentage": max(1, int(round(100 * overlap)))}


def _project_title(title: str | None, issues_dir: Path) -> str:
    limit = MAX_TITLE - len(PAIRS_SUFFIX)
    if title is None:
        return f"label-audit: {issues_dir.resolve().name}"[:limit]
    if not title.strip() or len(title) > limit:
        raise ConfigError(f"--project-title must have 1 to {limit} characters (Label Studio allows {MAX_TITLE}, "
                          f"and the pair project appends {PAIRS_SUFFIX!r}); got {len(title)}")
    return title


def _find_project(conn: Connection, manifest: Manifest, kind: str, title: str):
    """The project recorded for ``kind`` in the manifest if it still exists with that title,
    else one titled ``title``, else None."""
    record = manifest.projects.get(kind)
    if record is not None:
        project = conn.call(lambda: conn.client.projects.get(id=record.id), f"reading project {record.id}",
                            missing_ok=True)
        if project is not None and project.title == title:
            return project
    for project in conn.call(lambda: list(conn.client.projects.list(title=title)), "listing projects"):
        if project.title == title:
            return project
    return None


def _export_project(conn: Connection, manifest: Manifest, manifest_path: Path, *, kind: str, title: str,
                    config: str, tasks: list[dict], model_version: str | None, chunk_size: int,
                    overlap: float | None = None) -> ProjectExport:
    projects = conn.client.projects
    project = _find_project(conn, manifest, kind, title)
    created = project is None
    settings = {"label_config": config, **({"model_version": model_version} if model_version else {}),
                **overlap_settings(overlap)}
    if created:
        project = conn.call(lambda: projects.create(title=title, **settings), f"creating project {title!r}")
    elif (project.label_config != config or (model_version and project.model_version != model_version)
          or any(getattr(project, k, v) != v for k, v in overlap_settings(overlap).items())):
        # Predictions show preselected only when the project's model_version matches theirs.
        project = conn.call(lambda: projects.update(id=project.id, **settings), f"updating project {project.id}")
    # The server is the truth about what exists (a task deleted there is sent again), so a lost
    # manifest or a project found by title never leads to duplicates.
    on_server = {} if created else conn.fetch_task_keys(project.id)
    record = manifest.projects[kind] = ProjectRecord(project.id, project.title, dict(on_server))
    new = [t for t in tasks if t["data"]["example_id"] not in on_server]
    save_manifest(manifest, manifest_path)
    for start in range(0, len(new), chunk_size):
        chunk = new[start:start + chunk_size]
        response = conn.call(
            lambda: projects.import_tasks(id=project.id, request=chunk, return_task_ids=True),
            f"importing tasks {start + 1}-{start + len(chunk)} into project {project.id}",
        )
        ids = list(response.task_ids or [])
        if len(ids) != len(chunk):
            raise ServiceError(f"Label Studio returned {len(ids)} task ids for {len(chunk)} imported tasks")
        record.tasks.update({t["data"]["example_id"]: tid for t, tid in zip(chunk, ids)})
        save_manifest(manifest, manifest_path)
    return ProjectExport(kind, project.id, project.title, len(tasks), len(new), len(tasks) - len(new), created)
