"""Shared rich rendering for the CLI."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: The CLI's two consoles. ``soft_wrap``: a message is never broken at the terminal width
#: (long paths stay whole; tables still fit the width); ``highlight`` off: no colouring guesses.
console = Console(soft_wrap=True, highlight=False)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=stderr, transient=False,
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
