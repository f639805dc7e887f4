"""CLI plumbing shared by ``audit`` and ``finetune``: the two consoles, fold progress bars, and
the one table from our exceptions to messages and exit codes (sysexits.h numbers)."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import typer
from typer.core import TyperGroup
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from labelcore.errors import (
    AuditError,
    ConfigError,
    DataError,
    MissingDependencyError,
    ModelError,
    ServiceError,
)

#: The CLI's two consoles. ``soft_wrap``: a message is never broken at the terminal width
#: (long paths stay whole; tables still fit the width); ``highlight`` off: no colouring guesses.
console = Console(soft_wrap=True, highlight=False)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)

#: (exception, exit code, message prefix). First match wins, so subclasses come first.
EXIT_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (DataError, 65, "Data error"),
    (ConfigError, 64, "Invalid option"),
    (MissingDependencyError, 69, "Missing dependency"),
    (ServiceError, 69, "Service unavailable"),
    (ModelError, 70, "Model error"),
    (AuditError, 1, "Error"),
    (KeyboardInterrupt, 130, "Interrupted"),
)

F = TypeVar("F", bound=Callable)


class OptionErrorGroup(TyperGroup):
    """A typer group whose usage errors (an unknown option, a missing one, a value outside a
    ``click.Choice`` or a range) exit with 64, the code of ``ConfigError`` in :data:`EXIT_CODES`,
    rather than click's 2: every option error a user can make has one exit code.

    Use as ``typer.Typer(cls=OptionErrorGroup)``."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _USAGE_ERRORS as exc:
            exc.exit_code = 64
            raise


#: click's UsageError as typer raises it (typer >= 0.20 vendors click as ``typer._click``).
_USAGE_ERRORS = tuple({c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"})


def exit_code_for(exc: BaseException) -> tuple[int, str] | None:
    for kind, code, prefix in EXIT_CODES:
        if isinstance(exc, kind):
            return code, prefix
    return None


def guarded(fn: F) -> F:
    """Wrap a command: known exceptions become a one-line message and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (AuditError, KeyboardInterrupt) as exc:
            code, prefix = exit_code_for(exc)  # type: ignore[misc]
            detail = escape(str(exc))  # user text (labels, paths) is never read as rich markup
            stderr.print(f"[bold red]{prefix}:[/] {detail}" if detail else f"[bold red]{prefix}[/]")
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


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
            bar.update(tasks[name], completed=done, description=escape(message))

        yield on_progress
