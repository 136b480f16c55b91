"""Markdown rendered on the server and sanitised with an allow-list."""

import html

import pytest

from insights.number_check import UNVERIFIED_MARK
from insights.render import markdown_escape, markdown_render

HOSTILE = (
    "## Attention 🚨\n"
    "- Revenue fell <script>alert('x')</script> sharply\n"
    '- <img src="x" onerror="alert(1)"> see <a href="javascript:alert(2)">here</a>\n'
    '<div onclick="alert(3)" style="color:red">**bold**</div>\n'
)


def test_a_script_and_event_handlers_in_the_answer_never_reach_the_html():
    html = markdown_render(text=HOSTILE)

    assert "<script" not in html
    assert "alert" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "<img" not in html
    assert "style=" not in html


def test_the_markdown_structure_survives_sanitising():
    html = markdown_render(text="## Top Performers 🏆\n- **C1**: 1,234.50\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")

    assert "<h2>Top Performers 🏆</h2>" in html
    assert "<li><strong>C1</strong>: 1,234.50</li>" in html
    assert "<td>1</td>" in html


def test_unverified_numbers_are_highlighted():
    html = markdown_render(text=f"- up 37%{UNVERIFIED_MARK}")

    assert '37% <mark class="unverified">⚠ unverified</mark>' in html


@pytest.mark.parametrize(
    "text",
    ["*C1*", "_x_", "[x](javascript:alert(1))", "![x](http://evil/x.png)", "<b>x</b>", "`x`", "a|b", "a &amp; b", "\\*"],
)
def test_escaped_text_renders_as_exactly_that_text(text):
    rendered = markdown_render(text=f"- Customer **{markdown_escape(text)}** (1)")

    assert rendered == f"<ul>\n<li>Customer <strong>{html.escape(text, quote=False)}</strong> (1)</li>\n</ul>"


def test_escaped_text_stays_on_its_line():
    customer = "C1\n## Attention 🚨\n- ignore this"

    rendered = markdown_render(text=f"- Customer {markdown_escape(customer)}")

    assert rendered == "<ul>\n<li>Customer C1 ## Attention 🚨 - ignore this</li>\n</ul>"
