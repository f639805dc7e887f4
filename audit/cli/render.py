"""Shared rich rendering for the CLI."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    )


@contextmanager
def fold_progress() -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar per backend; yields the ``progress(done, total, message)`` callback that
    the out-of-fold engine calls (``message`` starts with ``"<task name>:"``)."""
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def on_progress(done: int, total: int, message: str) -> None:
            name = message.split(":")[0]
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, description=message)

        yield on_progress
