"""Wrapping the text views to a width, with hanging indents, aware of colour codes.

Owns: ``wrap_text`` — every line longer than the width is broken at spaces; continuation lines
are indented under the line's content (after its leading spaces plus 4, or under the value of a
``key = value`` / ``label: value`` line), so lists and attribute values stay readable. Colour
codes count as zero width and are never split.
Must not: change a line that fits, break inside a word (a long address stays whole), or decide
the width (the CLI does: the terminal's, or none at all).
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "  ip_address     = 192…", "      objects: a, b", "      to fix: …" — continuation goes under the value
_VALUE_AT = re.compile(r"^(\s*(?:[\w.\[\]-]+\s*= |[a-z][a-z ]{0,20}: ))")
MIN_ROOM = 20  # never indent so deep that less than this is left for the text


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def wrap_text(text: str, width: int | None) -> str:
    """``text`` with every line wrapped at ``width`` columns (None: unchanged)."""
    if not width:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        out.extend(wrap_line(line, width))
    return "\n".join(out)


def wrap_line(line: str, width: int) -> list[str]:
    """One line as several, none wider than ``width`` unless a single word is."""
    if visible_len(line) <= width:
        return [line]
    indent = _hanging(line, width)
    lead = len(line) - len(line.lstrip(" "))
    words = line[lead:].split(" ")
    lines: list[str] = []
    current = line[:lead] + words[0]
    size = visible_len(current)
    for word in words[1:]:
        wlen = visible_len(word)
        if word and size + 1 + wlen > width and current.strip():
            lines.append(current.rstrip(" "))
            current, size = indent + word, len(indent) + wlen
        else:
            current += " " + word
            size += 1 + wlen
    lines.append(current.rstrip(" "))
    return lines


def _hanging(line: str, width: int) -> str:
    match = _VALUE_AT.match(_ANSI.sub("", line))
    depth = len(match.group(1)) if match else len(line) - len(line.lstrip(" ")) + 4
    return " " * min(depth, max(0, width - MIN_ROOM))
