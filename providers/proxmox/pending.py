"""A written-back address that has not reached the guest yet: ``pending restart`` (pure).

Owns: where a guest NIC answers now (the agent's address, else its configured static address), whether
a VM still runs with an older cloud-init drive, what netsot records in its state after writing a running
VM's ``ipconfigN`` (``pending_restart``: when, and where the guest answered), when that record is
settled (the agent reports the new address, or the guest started after the write: a start rebuilds the
drive and boots from it), and the plan's words for all of it.
Must not: do I/O. Proxmox's API cannot say that a drive is out of date (a modified ``ipconfigN`` is not
listed by ``GET …/cloudinit``), so netsot keeps track itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.model import Fact
from providers.proxmox.mapping import Guest, GuestNic

PENDING = "pending restart"  # the words plan, apply, explain, the status page and verify use
RECORD = "pending_restart"  # the state attribute of a proxmox_ipconfig written to a running VM
SSH_KEYS = ("a new cloud-init instance-id also makes the guest regenerate its SSH host keys (expect a "
            "host-key warning)")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def answers_at(guest: Guest, nic: GuestNic, prefix: str | None) -> str | None:
    """Where a running VM's NIC answers now: its configured address when the agent reports it, else
    the agent's first IPv4 address in the network, else the configured static address (no agent)."""
    if guest.type != "qemu" or guest.status != "running":
        return None
    net = ipaddress.ip_network(prefix) if prefix else None
    v4 = [a for a in nic.agent_ips if "." in a and (net is None or ipaddress.ip_address(a) in net)]
    if nic.address and nic.address in v4:
        return nic.address
    if v4:
        return v4[0]
    return nic.address


def how_to_restart(guest: Guest, restart_key: str) -> str:
    what = f"qm reboot {guest.vmid}" if guest.type == "qemu" else f"pct reboot {guest.vmid}"
    return (f"restart it through Proxmox (`{what}`, the Reboot button, or a stop and start: each starts a "
            "new QEMU process that boots from the rebuilt drive; a reboot inside the guest keeps the old "
            f"drive), or set {restart_key}: now; {SSH_KEYS}")


def restart_hint(guest: Guest, restart_key: str) -> str:
    return f"to fix: {how_to_restart(guest, restart_key)}"


def pending_note(ref: str, guest: Guest, nic: GuestNic, where: str | None, restart_key: str) -> str:
    """The plan's warning for a VM that has not taken its written-back address yet."""
    now = f"still answers at {where}" if where else "answers at no address netsot knows (no agent report)"
    follow = (f"its DNS name keeps pointing at {where} until the guest reports {nic.address}" if where
              else f"its DNS name points at {nic.address}, where nothing answers before the restart")
    return (f"{ref} ({guest.name}): {PENDING} — Proxmox holds ipconfig{nic.index} ip={nic.ip} for the "
            f"guest's next boot; the guest {now}; {follow}. {restart_hint(guest, restart_key)}")


def no_drive_note(ref: str, guest: Guest, nic: GuestNic, tag: str) -> str:
    return (f"{ref} ({guest.name}) is tagged {tag} but has no cloud-init drive: Proxmox would store "
            f"ipconfig{nic.index} and never give it to the guest, so netsot does not write its address back"
            f". to fix: add a drive (`qm set {guest.vmid} --ide2 <storage>:cloudinit`) and restart the "
            f"guest through Proxmox, or remove the tag {tag} and set the address inside the guest")


def record(where: str | None) -> dict[str, Any]:
    """What netsot keeps in its state after writing a running VM's address (until the guest has it)."""
    return {"since": now_iso(), "answers_at": where}


def settled(rec: Mapping[str, Any], fact: Fact, started: float | None) -> bool:
    """The guest has its written-back address: it reports it, it is not running (it boots from the rebuilt
    drive), or it started after the write (a start rebuilds the drive and boots from it)."""
    extra = fact.extra
    if extra.get("status") != "running":
        return True
    if fact.ip and fact.ip in fact.in_use:
        return True
    since = _epoch(rec.get("since"))
    # Proxmox reports uptime in whole seconds: a start within a second of the write is not trusted
    return since is not None and started is not None and started > since + 1.0


def recalled(fact: Fact, rec: Mapping[str, Any], guest: Guest, nic: GuestNic, prefix: str | None,
             restart_key: str) -> Fact:
    """``fact`` of a NIC netsot wrote while the guest ran, and which has not taken it yet."""
    agent = answers_at(guest, replace(nic, ip=None), prefix) if nic.agent_ips else None
    where = agent or (str(rec["answers_at"]) if rec.get("answers_at") else None)
    note = pending_note(fact.ref, guest, nic, where, restart_key)
    notes = (*(n for n in fact.notes if PENDING not in n), note)
    return replace(fact, answers_at=where, waiting=PENDING, notes=notes)
