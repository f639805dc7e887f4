"""The one table from our exceptions to messages and exit codes (sysexits.h numbers)."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

import typer

from audit.cli.render import stderr

from audit.errors import (
    AuditError,
    ConfigError,
    DataError,
    MissingDependencyError,
    ModelError,
    ServiceError,
)

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
            detail = str(exc)
            stderr.print(f"[bold red]{prefix}:[/] {detail}" if detail else f"[bold red]{prefix}[/]")
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]
