"""The local record of an export: which Label Studio project and task holds each key.

A JSON file (by default ``<issues dir>/labelstudio.json``) with the server URL, the project
ids and ``key -> task id`` maps. It never holds the API key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labelcore.errors import DataError
from labelcore.io import write_text

MANIFEST_NAME = "labelstudio.json"
KINDS = ("issues", "pairs")


@dataclass
class ProjectRecord:
    id: int
    title: str
    tasks: dict[str, int] = field(default_factory=dict)  # key -> task id


@dataclass
class Manifest:
    url: str
    model_version: str
    classes: list[str]
    projects: dict[str, ProjectRecord] = field(default_factory=dict)  # kind -> project
    version: int = 1


def default_manifest_path(issues_dir: str | Path) -> Path:
    return Path(issues_dir) / MANIFEST_NAME


def load_manifest(path: str | Path) -> Manifest | None:
    """The manifest at ``path``, or None when there is none yet."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        projects = {kind: ProjectRecord(int(p["id"]), str(p["title"]), {str(k): int(v) for k, v in p["tasks"].items()})
                    for kind, p in raw["projects"].items()}
        return Manifest(raw["url"], raw["model_version"], list(raw["classes"]), projects, int(raw.get("version", 1)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"not a label-audit Label Studio manifest ({exc!r})", path=path) from None


def save_manifest(manifest: Manifest, path: str | Path) -> None:
    """Write ``manifest`` atomically (temporary file in the same folder, then rename)."""
    write_text(json.dumps(asdict(manifest), indent=1, sort_keys=True) + "\n", path)
