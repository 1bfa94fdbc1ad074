"""What netsot says about risky exposure, through the CLI over the simulators: an HTTP endpoint
open beyond loopback, a token file others can read, and a router that is down (one sentence on
stderr, no library log line beside it)."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultLab, error_sentence, free_port, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_an_unreachable_router_is_one_error_line_and_no_library_log(lab: FaultLab) -> None:
    port = free_port()
    config = lab.write_config("router-down.yaml", lambda d: d["providers"]["edgemax"].update(port=port))
    result = lab.cli("plan", config=config)
    no_traceback(result)
    assert result.code == 1
    assert error_sentence(result) == f"Error: edgemax: cannot connect to 127.0.0.1:{port}: connection refused"
    assert result.stderr.strip().splitlines() == [error_sentence(result)], result.stderr
    assert "CRITICAL" not in result.stderr
    debug = lab.cli("--debug", "plan", config=config)  # the library's own record shows with --debug
    assert "scrapli" in debug.stderr


def test_serve_warns_when_listening_beyond_loopback_without_a_token(lab: FaultLab) -> None:
    refused = lab.cli("serve", "--once", "--listen", "0.0.0.0:0")  # beyond loopback needs --allow-remote
    assert refused.code == 1 and "--allow-remote" in error_sentence(refused), str(refused)
    result = lab.cli("serve", "--once", "--listen", "0.0.0.0:0", "--allow-remote")
    assert result.code == 0, str(result)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: --listen 0.0.0.0:0 is not a loopback address and no --token-file is given: "
                        "the status page, /plan and /metrics are served without authentication to anyone "
                        "who can reach it"]
    token = lab.paths.root / "token"
    token.write_text("t0ken-for-the-test\n")
    token.chmod(0o600)
    guarded = lab.cli("serve", "--once", "--listen", "0.0.0.0:0", "--allow-remote", "--token-file",
                      str(token))
    assert guarded.code == 0 and "Warning:" not in guarded.stderr, str(guarded)
    local = lab.cli("serve", "--once", "--listen", "127.0.0.1:0")
    assert local.code == 0 and "Warning:" not in local.stderr, str(local)


def test_serve_refuses_a_token_file_others_can_read(lab: FaultLab) -> None:
    token = lab.paths.root / "token"
    token.write_text("t0ken-for-the-test\n")
    token.chmod(0o644)
    result = lab.cli("serve", "--once", "--listen", "127.0.0.1:0", "--token-file", str(token))
    assert result.code == 1
    assert "is readable by group or others (mode 0644)" in error_sentence(result)
    assert "t0ken" not in result.stderr
