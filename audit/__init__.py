"""label-audit: find, review and fix label errors in text-classification data.

Kept import-light on purpose: heavy dependencies (torch, Label Studio) load lazily, and so
does the Python API (``from audit import find_issues``; see docs/python-api.md).
"""

from labelcore import __version__

__all__ = ["__version__", "find_issues", "load_data", "AuditSettings"]


def __getattr__(name: str):
    if name == "find_issues":
        from audit.api import find_issues

        return find_issues
    if name == "load_data":
        from labelcore.data import load_data

        return load_data
    if name == "AuditSettings":
        from audit.settings import AuditSettings

        return AuditSettings
    raise AttributeError(f"module 'audit' has no attribute {name!r}")
