"""CSV cells that are safe to open in a spreadsheet (CSV formula injection, OWASP).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return runs as a
formula when a reviewer opens the CSV in Excel or LibreOffice. :func:`neutralise_cell` puts a
``'`` in front (spreadsheets show the text, not a formula); :func:`restore_cell` takes it off
again. The pair is lossless: a text that itself starts with ``'`` before such a character gets
one more ``'``, so reading back what was written always gives the original text.
"""

from __future__ import annotations

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    stripped = text.lstrip("'")
    return stripped[:1] in TRIGGERS and stripped != ""


def neutralise_cell(value):
    """``"=1+1"`` -> ``"'=1+1"``; anything that is not such a string is returned as it is."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore_cell(value):
    """The inverse of :func:`neutralise_cell`."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (object columns) and column names are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise_frame` (in place; returns ``frame``)."""
    frame.columns = [restore_cell(c) if isinstance(c, str) else c for c in frame.columns]
    for column in frame.columns:
        if _is_text(frame[column]):
            frame[column] = frame[column].map(restore_cell)
    return frame


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
