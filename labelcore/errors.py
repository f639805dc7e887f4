"""Exceptions a user can act on. Library code raises these; only the CLI turns them into
messages and exit codes (see ``labelcore.cli``)."""

from __future__ import annotations

from pathlib import Path


class AuditError(Exception):
    """Base class for every error the toolkit reports to a user."""


class DataError(AuditError):
    """Bad input data. Names the file, the 0-based data row and the column when known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(AuditError):
    """An option, backend spec, preset or config file is invalid."""


class MissingDependencyError(AuditError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, *, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the '{package}' package, which is not installed. "
            f"Install it with: pip install 'label-audit[{extra}]'"
        )


class ServiceError(AuditError):
    """A remote service (Label Studio, the model hub) is unreachable or refused the request."""


class ModelError(AuditError):
    """A model cannot be loaded, trained or used as asked (missing path, out of memory...)."""


def require(module: str, *, extra: str, purpose: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised via tests that hide modules
        raise MissingDependencyError(module.split(".")[0], extra=extra, purpose=purpose) from exc
