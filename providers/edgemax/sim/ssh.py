"""The simulator's SSH server: asyncssh, authentication, host keys and known_hosts files.

Owns: ``Simulator`` (the router plus its SSH server on one asyncio loop), password /
keyboard-interactive / public-key auth, persistent host keys, the drop-connection fault and
exec channels.
Must not: interpret shell commands (``simshell``) or hold config logic (``simstore``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncssh

from providers.edgemax.sim.shell import Shell
from providers.edgemax.sim.store import Faults, Router, SimLog

# OpenSSH-like list, deduplicated: asyncssh's default advertises every algorithm twice in
# server-sig-algs, which crashes libssh2 (tooling.md §2, gotcha 1).
SIGNATURE_ALGS = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
)
HOST_KEY_TYPES = ("ssh-ed25519", "ssh-rsa")


class Dropped(Exception):
    """The drop-connection fault fired."""


class _Auth(asyncssh.SSHServer):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.sim.log.add("connect", str(conn.get_extra_info("peername")))

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = self.sim.users.get(username) == password
        self.sim.log.add("auth", f"password {username} {'ok' if ok else 'refused'}")
        return ok

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Any:
        return "", "", "", [("Password: ", False)]

    def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        return len(responses) == 1 and self.validate_password(username, responses[0])

    def public_key_auth_supported(self) -> bool:
        return bool(self.sim.client_keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        ok = username in self.sim.users and key.public_data in self.sim.client_keys
        self.sim.log.add("auth", f"publickey {username} {'ok' if ok else 'refused'}")
        return ok


class Simulator:
    """The router plus its SSH server; runs on one asyncio loop."""

    def __init__(
        self,
        state_dir: Path,
        *,
        config_boot: str,
        leases: Sequence[Any] = (),
        users: Mapping[str, str] | None = None,
        authorized_keys: str | Path | None = None,
        hostname: str = "edge",
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.router = Router(config_boot, leases, hostname)
        self.users = dict(users or {"ubnt": "password"})
        self.client_keys = _load_client_keys(authorized_keys)
        self.log = SimLog()
        self.faults = Faults()
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self.host_keys = [_host_key(self.state_dir, t) for t in HOST_KEY_TYPES]

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def known_hosts_wrong(self) -> Path:
        return self.state_dir / "known_hosts_wrong"

    def before_command(self) -> None:
        n = self.faults.drop_after_commands
        if n is None:
            return
        if n <= 0:
            self.faults.drop_after_commands = None
            self.log.add("dropped", "fault")
            raise Dropped()
        self.faults.drop_after_commands = n - 1

    async def handle(self, process: asyncssh.SSHServerProcess) -> None:
        conn = process.get_extra_info("connection")
        user = process.get_extra_info("username") or "ubnt"
        status = 0
        try:
            if process.command:
                status = self.exec_command(process, process.command)
            else:
                status = await Shell(self, user, process).run()
        except Dropped:
            conn.abort()
            return
        except (asyncssh.Error, OSError, BrokenPipeError):
            return
        with contextlib.suppress(Exception):
            process.exit(status)

    def exec_command(self, process: asyncssh.SSHServerProcess, command: str) -> int:
        """An exec channel (no interactive vbash): only plain programs and the op wrapper work."""
        self.log.add("exec", command)
        words = command.split()
        wrapper = "/opt/vyatta/bin/vyatta-op-cmd-wrapper"
        shell = Shell(self, "ubnt", process)
        if words[:1] == [wrapper] or words == ["cat", "/config/config.boot"]:
            text = shell.op_output(words[1:] if words[0] == wrapper else words, command)
            process.stdout.write((text or "") + "\n")
            return 0
        process.stdout.write(f"Invalid command: [{words[0] if words else ''}]\n")
        return 1

    async def start(self, port: int = 0) -> None:
        self._server = await asyncssh.create_server(
            lambda: _Auth(self),
            "127.0.0.1",
            port,
            server_host_keys=self.host_keys,
            process_factory=self.handle,
            line_editor=False,
            signature_algs=list(SIGNATURE_ALGS),
            keepalive_interval=0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._write_known_hosts()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def _write_known_hosts(self) -> None:
        def line(key: asyncssh.SSHKey) -> str:
            return f"[127.0.0.1]:{self.port} {' '.join(key.export_public_key().decode().split()[:2])}\n"

        good = [line(k) for k in self.host_keys]
        # another router's keys of every type: strict checking must refuse all of them
        wrong = [line(_host_key(self.state_dir, t, prefix="wrong_host")) for t in HOST_KEY_TYPES]
        self.known_hosts.write_text("".join(good))
        self.known_hosts_wrong.write_text("".join(wrong))


_KEY_CACHE: dict[bytes, asyncssh.SSHKey] = {}


def _host_key(state_dir: Path, key_type: str, prefix: str = "ssh_host") -> asyncssh.SSHKey:
    """Load or create a host key, so a restarted router keeps its identity."""
    path = state_dir / f"{prefix}_{'ed25519' if key_type == 'ssh-ed25519' else 'rsa'}_key"
    if path.exists():
        data = path.read_bytes()
        if data not in _KEY_CACHE:  # loading an RSA key validates it: ~0.15 s, paid once per process
            _KEY_CACHE[data] = asyncssh.import_private_key(data)
        return _KEY_CACHE[data]
    key = (
        asyncssh.generate_private_key(key_type, key_size=2048)
        if key_type == "ssh-rsa"
        else (asyncssh.generate_private_key(key_type))
    )
    key.write_private_key(str(path))
    path.chmod(0o600)
    return key


def _load_client_keys(authorized_keys: str | Path | None) -> set[bytes]:
    """Public key blobs from an authorized_keys file (Path) or text (str)."""
    if authorized_keys is None:
        return set()
    text = authorized_keys.read_text() if isinstance(authorized_keys, Path) else authorized_keys
    keys: set[bytes] = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(asyncssh.import_public_key(line).public_data)
    return keys
