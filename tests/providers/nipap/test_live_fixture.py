"""The live tests' nipapd (tests/livenipapd.py): when none can be had, they fail with the reason."""

from __future__ import annotations

import stat

import pytest

from tests import livenipapd
from tests.livenipapd import LIVE_ENV, TOOL_ENV, NipapdUnavailable


def test_no_tool_is_a_failure_that_says_where_it_looked(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(LIVE_ENV, raising=False)
    monkeypatch.setenv(TOOL_ENV, str(tmp_path / "nope"))
    monkeypatch.setattr(livenipapd, "REPO", tmp_path / "a" / "repo")
    with pytest.raises(NipapdUnavailable, match=r"not at \.\./shared/tools/nipapd .*looked in .*nope"):
        livenipapd.start(tmp_path)


def test_a_tool_that_fails_is_a_failure_with_its_message(monkeypatch, tmp_path) -> None:
    tool = tmp_path / "nipapd"
    tool.write_text(f"#!/bin/sh\necho \"$NIPAPD_VENV\" >> {tmp_path}/$1.venv\n[ \"$1\" = down ] && exit 0\n"
                    "echo 'pip install of nipapd failed: see x' >&2\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv(LIVE_ENV, raising=False)
    monkeypatch.setenv(TOOL_ENV, str(tool))
    monkeypatch.delenv("NIPAPD_VENV", raising=False)  # the default venv, as in CI
    monkeypatch.setattr(livenipapd.os, "geteuid", lambda: 0)  # as CI runs; the fake tool needs no root
    with pytest.raises(NipapdUnavailable, match="pip install of nipapd failed: see x"):
        livenipapd.start(tmp_path / "d")
    # tried twice (a port may have been taken), and `down` named the venv `up` used: the tool finds
    # nipapd's processes by it, so a mismatch would leave them running
    ups, downs = ((tmp_path / f"{cmd}.venv").read_text().split() for cmd in ("up", "down"))
    assert ups == downs == [str(livenipapd.venv())] * 2


def test_an_external_nipapd_is_used_as_given(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(LIVE_ENV, "http://u:p@127.0.0.1:1/XMLRPC")
    server = livenipapd.start(tmp_path)
    assert server.url == "http://u:p@127.0.0.1:1/XMLRPC" and server.tool is None
    server.stop()  # nothing to stop: not ours


def test_two_free_ports_differ() -> None:
    a, b = livenipapd.free_ports(2)
    assert a != b
