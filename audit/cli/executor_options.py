"""The ``--executor`` / ``--ray-address`` options, declared once for every command that trains
folds (find-issues, benchmark, retrain), and the executor they open."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Iterator, Optional

import typer

ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where folds train: 'local' (this process, --jobs processes) or 'ray' (one Ray task per "
        "backend and fold; a local Ray instance sized to this machine, or --ray-address). Needs "
        "the ray extra: pip install 'label-audit\\[ray]'.",
        show_default=True,
    ),
]
RayAddressOption = Annotated[
    Optional[str],
    typer.Option(
        "--ray-address",
        help="An existing Ray cluster (HOST:PORT or ray://HOST:PORT) for --executor ray; default: start a "
        "local instance and shut it down at the end. Its nodes need label-audit installed.",
    ),
]


@contextmanager
def open_executor(kind: str, ray_address: Optional[str], *, jobs: int = 1) -> Iterator["object"]:
    """The executor for the command; a Ray instance it started ends with the command (Ctrl-C too)."""
    from finetune.executors import make_executor

    with make_executor(kind, n_jobs=jobs, address=ray_address) as executor:
        yield executor
