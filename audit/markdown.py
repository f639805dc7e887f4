"""Markdown helpers: escape user text so it cannot break a table or the document."""

from __future__ import annotations

import html
import re
from typing import Any, Sequence

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")

def escape_cell(value: Any) -> str:
    """One table cell: HTML-escaped, markdown specials backslash-escaped, newlines as spaces."""
    text = html.escape(str(value), quote=False)
    text = re.sub(r"[\r\n\t]+", " ", text)
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([`*_{}\[\]()#+!|~])", r"\\\1", text)
    return text.strip()

def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table with every cell escaped."""
    lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(escape_cell(c) for c in row) + " |")
    return "\n".join(lines)
