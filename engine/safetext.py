"""Untrusted text made safe to print: control characters become visible escapes.

Owns: ``visible`` (one value), ``visible_data`` (every string of a JSON-like document) and
``VisibleFormatter`` (log records). Names, descriptions and error texts come from the systems
netsot reads; printed raw, a CR/LF or a Unicode line separator in a guest name could forge a
``Plan: 0 to add…`` line, and an escape sequence could repaint the terminal.
Must not: change text without control characters (the common case is returned as it is), or
touch JSON output (``json.dumps`` escapes what JSON needs).
"""

from __future__ import annotations

import logging
import re
from typing import Any

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
# C0 controls, DEL, C1 controls, the Unicode line/paragraph separators and the bidirectional
# controls (which reorder what a reader sees, e.g. U+202E RIGHT-TO-LEFT OVERRIDE).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\r``, ``\\x1b``, ``\\u2028``)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escape, text)


def visible_data(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with ``visible`` applied to every string."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(k) if isinstance(k, str) else k: visible_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible_data(v) for v in value]
    return value


class VisibleFormatter(logging.Formatter):
    """A text log format whose message cannot start a forged log line (tracebacks stay as they are)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(_visible_record(record))


def _visible_record(record: logging.LogRecord) -> logging.LogRecord:
    clean = logging.makeLogRecord(record.__dict__)
    clean.message = visible(record.getMessage())
    return clean
