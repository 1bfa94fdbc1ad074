"""engine.safetext: control characters of untrusted text become visible escapes."""

from __future__ import annotations

import logging

import pytest

from engine.safetext import VisibleFormatter, visible, visible_data


@pytest.mark.parametrize(("raw", "shown"), [
    ("plain web01.lab.example", "plain web01.lab.example"),
    ("a\r\nb\tc", "a\\r\\nb\\tc"),
    ("nul\x00 esc\x1b[2J del\x7f c1\x85", "nul\\x00 esc\\x1b[2J del\\x7f c1\\x85"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("bidi\u202eevil\u2066x\u200f", "bidi\\u202eevil\\u2066x\\u200f"),
    ("ünïcödé 日本語 zw\u200bsp", "ünïcödé 日本語 zw\u200bsp"),
])
def test_visible(raw, shown):
    assert visible(raw) == shown


def test_visible_data_reaches_every_string():
    doc = {"a\n": ["x\r", {"k": "v\x1b"}, 3, None], "n": 1.5}
    assert visible_data(doc) == {"a\\n": ["x\\r", {"k": "v\\x1b"}, 3, None], "n": 1.5}


def test_log_lines_cannot_be_forged():
    record = logging.LogRecord("netsot.x", logging.WARNING, __file__, 1, "guest %s skipped",
                               ("a\nERROR forged",), None)
    line = VisibleFormatter("%(levelname)s %(message)s").format(record)
    assert line == "WARNING guest a\\nERROR forged skipped"
