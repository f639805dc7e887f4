"""Options shared by several commands, declared once (typer ``Annotated`` types)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

DEFAULT_BACKENDS = ["tfidf-lr", "minilm-lr", "minilm-knn"]

Data = Annotated[str, typer.Option(
    "--data", "-d",
    help="Dataset: a definition name (demo, banking77, clinc150), a .toml definition, a "
         "CSV/TSV/JSONL/JSON/Parquet file, a save_to_disk directory, a version folder, or hf:ID.")]
Backends = Annotated[List[str], typer.Option(
    "--backend", "-b",
    help="Backend spec NAME[:key=value,...]; repeat for several models. `audit backends` lists them. "
         "Predictions made elsewhere: precomputed:path=FILE[,params=N][,name=NAME].")]
Seed = Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed for the folds and the models (>= 0).")]
Folds = Annotated[int, typer.Option(
    "--folds", min=2, help="Cross-validation folds: every row is predicted by a model that never saw it.")]
CacheDir = Annotated[Optional[Path], typer.Option(
    "--cache-dir",
    help="Cache of per-fold predictions (default $LABEL_AUDIT_CACHE or ~/.cache/label-audit). A rerun resumes from it.")]
Executor = Annotated[str, typer.Option(
    "--executor",
    help="Where folds train: 'local' (this process, --jobs processes) or 'ray' (one Ray task per backend "
         "and fold; a local Ray instance sized to this machine, shut down at the end, or --ray-address). "
         "Needs the ray extra: pip install 'label-audit\\[ray]'.")]
RayAddress = Annotated[Optional[str], typer.Option(
    "--ray-address",
    help="An existing Ray cluster (HOST:PORT or ray://HOST:PORT) for --executor ray; its nodes need "
         "label-audit installed. Default: a local instance.")]


def command_group() -> typer.Typer:
    """A command module's own group; ``audit.cli.app`` merges every group into ``audit``."""
    return typer.Typer(rich_markup_mode="rich", pretty_exceptions_enable=False, add_completion=False)
