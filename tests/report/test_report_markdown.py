import html
import re

import pytest
from markdown_it import MarkdownIt

from audit.report.markdown import escape, table

EVIL = [
    "| a | b |",
    "# not a heading",
    "```\ncode fence\n```",
    "<script>alert('x')</script><img src=x onerror=y>",
    "line one\nline two\r\n| pipe after newline",
    "**bold** _it_ [link](http://example.com) ![img](x.png) ~~strike~~",
    "back\\slash \\| escaped pipe &amp; entity &lt;b&gt;",
    "card_arrival snake_case_name",
]

md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])  # html on: worst case


def _cells(rendered: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, flags=re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S)]
            for r in rows]


@pytest.mark.parametrize("text", EVIL)
def test_escaped_text_stays_literal_in_a_table_cell(text):
    rendered = md.render(table(["text", "next"], [[escape(text), "ok"]]))
    cells = _cells(rendered)
    assert len(cells) == 2 and all(len(r) == 2 for r in cells)  # the table is not broken
    assert cells[1] == [" ".join(text.split()), "ok"]  # shown as typed, newlines as spaces
    assert "<script" not in rendered and "<img" not in rendered and "<strong>" not in rendered
    assert "<a " not in rendered and "<em>" not in rendered and "<h1>" not in rendered


@pytest.mark.parametrize("text", EVIL)
def test_escaped_text_stays_literal_in_a_paragraph(text):
    rendered = md.render(escape(text))
    assert rendered.startswith("<p>") and rendered.count("<p>") == 1
    assert html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == " ".join(text.split())


def test_escape_keeps_class_names_readable_and_truncates():
    assert escape("card_arrival") == "card_arrival"
    assert escape("x" * 50, max_chars=10) == "x" * 9 + "…"
    assert escape(float("nan")) == "" and escape(None) == ""


def test_table_checks_row_width():
    with pytest.raises(ValueError):
        table(["a", "b"], [["only one"]])
