"""Presets: named, versioned run settings stored as JSON files in ``finetune/presets/``.

A preset is data, not code: ``{"backend": "full", "model": ..., "lr": ...}``. Spec items
given next to ``preset=NAME`` override the preset's values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelcore.errors import ConfigError

PRESET_DIR = Path(__file__).resolve().parents[2] / "presets"


def available_presets() -> dict[str, Path]:
    """Names of the shipped presets and their files."""
    return {p.stem: p for p in sorted(PRESET_DIR.glob("*.json"))}


def load_preset(name: str, *, backend: str) -> dict[str, Any]:
    """Read preset ``name`` (a shipped preset's name or a path to a JSON file) for ``backend``.

    Returns the preset's option values without its ``backend`` key; JSON lists become tuples.
    """
    path = Path(name)
    if not (path.suffix == ".json" and path.is_file()):
        shipped = available_presets()
        if name not in shipped:
            raise ConfigError(
                f"unknown preset {name!r}; shipped presets: {', '.join(shipped) or 'none'} "
                "(or give a path to a .json file)"
            )
        path = shipped[name]
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"preset {path}: cannot read it as JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"preset {path}: expected a JSON object")
    owner = values.pop("backend", backend)
    if owner != backend:
        raise ConfigError(f"preset {name!r} is for backend '{owner}'; use '{owner}:preset={name}'")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
