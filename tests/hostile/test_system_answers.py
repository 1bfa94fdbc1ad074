"""What a system may send: an answer larger than the configured cap is refused with a clear error
before it is read (Proxmox over HTTPS, NIPAP over XML-RPC, the lab's simulators), and an answer that
is not JSON says so and where."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultLab, error_sentence, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize(("system", "fragment"), [
    ("proxmox", "proxmox: GET /cluster/resources: the answer from https://127.0.0.1:{port} is larger than "
                "1024 bytes; refused without reading the rest (providers.proxmox.max_response_bytes raises "
                "the limit)"),
    ("nipap", "the answer from http://127.0.0.1:{port}/XMLRPC ("),
])
def test_an_answer_larger_than_the_cap_is_refused(lab: FaultLab, system: str, fragment: str) -> None:
    config = lab.write_config(f"{system}-cap.yaml",
                              lambda d: d["providers"][system].update(max_response_bytes=1024))
    result = lab.cli("plan", config=config)
    no_traceback(result)
    assert result.code == 1, str(result)
    line = error_sentence(result)
    assert fragment.format(port=lab.ports[system]) in line, line
    assert "is larger than 1024 bytes" in line and f"providers.{system}.max_response_bytes" in line
    assert lab.cli("plan").code == 0  # the default cap is generous: the same answers are read


def test_an_answer_that_is_not_json_says_so_and_where(lab: FaultLab) -> None:
    lab.pve.handle.knobs.garbled_paths.add("/cluster/resources")
    result = lab.cli("plan")
    no_traceback(result)
    assert result.code == 1, str(result)
    line = error_sentence(result)
    assert "GET /cluster/resources: the answer is not valid JSON:" in line, line
    assert "did not return a list" not in line and " at line 1 column " in line
