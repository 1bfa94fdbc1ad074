"""Checks that rendered output is inert: no forged text lines, no live links or HTML in Markdown.

Markdown is parsed with markdown-it-py (GFM tables, linkify for scheme URLs and e-mail addresses,
as GitHub autolinks them), and every text node is also matched against GFM's own autolink rules
(``www.``, ``http(s)://``, ``ftp://``, e-mail), since GitHub autolinks on the parsed text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

# the control characters engine.safetext escapes; "\n" is the one real line break of text output
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OUR_HTML = {"<details>", "</details>", "<summary>", "</summary>", "<br>"}  # what render_markdown writes
GFM_AUTOLINK = re.compile(
    r"(?:^|[\s*_~(])www\.[A-Za-z0-9_-]"  # extended www autolink
    r"|(?:https?|ftp)://[A-Za-z0-9_-]"  # extended url autolink
    r"|[A-Za-z0-9.+_-]+@[A-Za-z0-9_-]+\.[A-Za-z0-9_-]"  # extended e-mail autolink
)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True, "html": True})
    md.enable(["table", "strikethrough", "linkify"])
    md.linkify.set({"fuzzy_link": False})  # GitHub does not link a bare domain
    return md


MARKDOWN = _parser()


def _tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def assert_inert_markdown(text: str) -> None:
    """No link, image or foreign HTML; no text GitHub would autolink or read as a mention."""
    for token in _tokens(MARKDOWN.parse(text)):
        assert token.type not in ("link_open", "image"), f"live link in Markdown: {token}"
        if token.type in ("html_inline", "html_block"):
            tags = set(re.findall(r"<[^>]*>", token.content))
            assert tags <= OUR_HTML, f"foreign HTML in Markdown: {token.content!r}"
        if token.type == "text":
            assert not GFM_AUTOLINK.search(token.content), f"GitHub would autolink: {token.content!r}"
            assert not re.search(r"(?:^|\s)@[A-Za-z0-9]", token.content), f"a mention: {token.content!r}"


def assert_inert_text(text: str, summary_prefixes: tuple[str, ...] = ("plan:", "no changes.")) -> None:
    """No control character but the line breaks, and one summary line (in any case): the last."""
    found = UNSAFE.search(text)
    assert found is None, f"raw control character {found.group()!r} in text output"
    lines = text.splitlines()  # splits on every Unicode line boundary, not only "\n"
    summaries = [i for i, line in enumerate(lines) if line.lstrip().lower().startswith(summary_prefixes)]
    assert summaries == [len(lines) - 1], f"forged summary lines: {[lines[i] for i in summaries]}"
