"""Markdown to safe HTML, on the server: the answer is text from outside and is never trusted."""

import markdown as markdown_lib
import nh3

from .number_check import UNVERIFIED_MARK

# Only what the five sections need: no links, images, forms, styles or attributes of any kind,
# so no script, event handler or javascript: URL can survive.
ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "hr",
    "mark",
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"mark": {"class"}}

# Python-Markdown's own escapes for the characters that start emphasis, code, links or table cells
# inside a line; "<" and "&" have no backslash escape there, so they become entities.
_MARKDOWN_INLINE_ESCAPES = str.maketrans(
    {**{char: "\\" + char for char in "\\`*_[]()!|"}, "&": "&amp;", "<": "&lt;", ">": "&gt;"}
)


def markdown_escape(text: str) -> str:
    """Return text from a file (an id, a file name) as markdown that renders as exactly that text.

    For text inside a line, never at its start; line breaks become spaces, so it stays in its line.
    """
    return " ".join(str(text).split()).translate(_MARKDOWN_INLINE_ESCAPES)


def markdown_render(*, text: str) -> str:
    """Return sanitised HTML for the answer, with unverified numbers highlighted."""
    html = markdown_lib.markdown(text, extensions=["tables", "sane_lists"])
    # The mark is plain text in the stored markdown (readable through the API); highlight it here.
    html = html.replace(UNVERIFIED_MARK, f' <mark class="unverified">{UNVERIFIED_MARK.strip()}</mark>')
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None)
