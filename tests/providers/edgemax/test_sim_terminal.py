"""The simulator's terminal and shell without SSH: a scripted channel in, the exact bytes out.

What a batch costs the simulator must not change what it answers: the output is the same byte
stream however it is cut into channel data, the line splitting of a plain chunk is the same as the
character loop's, and the words of a line are the ones bash (``shlex``) gives.
"""

from __future__ import annotations

import asyncio
import random
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

from providers.edgemax.sim import term as simterm
from providers.edgemax.sim.shell import Shell, split_words
from providers.edgemax.sim.ssh import Simulator
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import LAB_BOOT

host_key_dir = fx.host_key_dir

LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"


class _Stdout:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)


class _Stdin:
    """Hands out one chunk per read, after letting the shell run; notes the prompts sent by then."""

    def __init__(self, chunks: list[str], stdout: _Stdout) -> None:
        self.chunks, self.stdout = list(chunks), stdout
        self.prompts_sent: list[int] = []

    async def read(self, n: int) -> str:
        for _ in range(5):
            await asyncio.sleep(0)
        text = "".join(self.stdout.writes)
        self.prompts_sent.append(text.count("# ") + text.count("$ "))
        return self.chunks.pop(0) if self.chunks else ""


class _Process:
    """What ``Shell`` uses of an asyncssh server process: a PTY, stdin chunks, stdout writes."""

    def __init__(self, chunks: list[str]) -> None:
        self.stdout = _Stdout()
        self.stdin = _Stdin(chunks, self.stdout)

    def get_terminal_type(self) -> str:
        return "xterm"

    def get_terminal_size(self) -> tuple[int, int, int, int]:
        return 512, 24, 0, 0


def _run(sim: Simulator, chunks: list[str]) -> _Process:
    process = _Process(chunks)
    asyncio.run(Shell(sim, "ubnt", process).run())  # type: ignore[arg-type]
    return process


@pytest.fixture
def router(tmp_path: Path, host_key_dir: Path) -> Simulator:
    shutil.copytree(host_key_dir, tmp_path / "r")
    return Simulator(tmp_path / "r", config_boot=LAB_BOOT)


def test_a_typed_ahead_batch_leaves_in_blocks_not_a_packet_per_piece(router: Simulator) -> None:
    sets = [f"set {LAN} static-mapping h{i:03d} ip-address 192.168.1.{i}" for i in range(2, 202)]
    lines = ["configure", *sets, "exit discard", "exit"]
    out = _run(router, ["".join(f"{ln}\r" for ln in lines)]).stdout.writes
    text = "".join(out)
    # every line answered, in order: its echo, then `[edit]` + prompt (edgeos.md §1.3)
    assert text.count("[edit]\r\nubnt@edge# ") == len(lines) - 2
    assert text.index("h002") < text.index("h201") < text.rindex("ubnt@edge:~$ ")
    # … in channel data of up to a pty read's size (OpenSSH: 16 KiB), not ~3 writes per line
    assert len(out) <= len(text) // simterm.SEND_BLOCK + 4
    assert all(len(piece) < 2 * simterm.SEND_BLOCK for piece in out)


def test_nothing_is_held_back_while_the_shell_waits_for_the_next_line(router: Simulator) -> None:
    process = _run(router, ["configure\r", f"set {LAN} static-mapping x ip-address 192.168.1.9\r",
                            "compare\r", "exit discard\r", "exit\r"])
    assert "+static-mapping x {" in "".join(process.stdout.writes)
    # when the next line is read, the answer to the previous one (up to its prompt) was already sent
    assert process.stdin.prompts_sent == [1, 2, 3, 4, 5]


def _events(chunks: list[str], monkeypatch: pytest.MonkeyPatch | None, router: Simulator) -> list[Any]:
    """What the reader makes of ``chunks``: the line / eof events and the echo, in order."""
    if monkeypatch is not None:  # every chunk through the character loop
        monkeypatch.setattr(simterm, "_EDITING", re.compile(r"[\s\S]"))

    async def go() -> list[Any]:
        process = _Process(chunks)
        shell = Shell(router, "ubnt", process)  # type: ignore[arg-type]
        await shell.reader()
        shell.flush()
        got: list[Any] = []
        while not shell.events.empty():
            got.append(shell.events.get_nowait())
        return [got, "".join(process.stdout.writes), len(shell.arrivals)]

    try:
        return asyncio.run(go())
    finally:
        if monkeypatch is not None:
            monkeypatch.undo()


def test_a_plain_chunk_is_split_into_the_same_lines_and_echo_as_the_character_loop(
    router: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(24)
    alphabet = ["set", " ", "a", "'b c'", "\r", "\n", "\r\n", "\t", "é", "\x7f", "\x03", "\x04", "\x1b"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        cuts = sorted(rng.sample(range(len(text) + 1), min(3, len(text) + 1)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if text[a:b]]
        assert _events(chunks, None, router) == _events(chunks, monkeypatch, router), chunks


def test_words_of_a_line_are_the_ones_bash_gives() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        line = "".join(rng.choice("ab '\t:\"\\\xa0") for _ in range(rng.randint(0, 14)))
        try:
            want: Any = shlex.split(line)
        except ValueError:
            want = ValueError
        try:
            got: Any = split_words(line)
        except ValueError:
            got = ValueError
        assert got == want, line
    assert split_words(f"set {LAN} static-mapping 'a b' mac-address '52:54:00:00:00:01'")[-3:] == [
        "a b", "mac-address", "52:54:00:00:00:01"]
