"""Markdown building blocks that user text cannot break: escaped cells and pipe tables."""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Sequence

# Characters with a meaning in CommonMark / GFM inline text. Backslash-escaping any ASCII
# punctuation is valid CommonMark, so escaping these keeps the text literal.
_SPECIAL = re.compile(r"([\\`*\[\]{}<>|#~!$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_WHITESPACE = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")


def escape(text: Any, *, max_chars: int | None = None) -> str:
    """Make ``text`` safe inside a markdown paragraph or table cell.

    Newlines become spaces; ``|`` backticks, ``*``, ``_`` (except inside a word, where it
    cannot start emphasis: ``card_arrival`` stays readable), brackets, ``<``/``>`` (so no raw
    HTML), ``#`` and friends are backslash-escaped; ``&`` becomes ``&amp;`` so an entity the
    user typed is shown as typed. ``max_chars`` truncates (with an ellipsis) before escaping.
    """
    missing = text is None or (isinstance(text, float) and math.isnan(text))
    s = "" if missing else str(text)
    s = _WHITESPACE.sub(" ", s).strip()
    if max_chars is not None and len(s) > max_chars:
        s = s[: max_chars - 1].rstrip() + "…"
    s = s.replace("&", "&amp;")
    return _SPECIAL.sub(r"\\\1", s)


def fmt(value: Any, *, digits: int = 3) -> str:
    """Numbers to short strings (``–`` for missing); anything else is escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, align: str | None = None) -> str:
    """A GFM pipe table. Cells go through :func:`fmt` unless already ``str`` from the caller's
    own escaping: pass user text through :func:`escape` first (strings are escaped again only
    for the pipe and newline, so pre-escaped text is not doubled).

    ``align``: one letter per column, ``l`` / ``r`` / ``c``.
    """
    align = align or "l" * len(header)
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
    ]
    for row in rows:
        cells = [_cell(v) if isinstance(v, str) else fmt(v) for v in row]
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, header has {len(header)}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(s: str) -> str:
    """Keep a caller-escaped string inside its cell (a stray newline or pipe would end it)."""
    s = _WHITESPACE.sub(" ", s)
    return re.sub(r"(?<!\\)\|", r"\\|", s)
