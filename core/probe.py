"""Network probes for ``netsot doctor`` and ``netsot init``: can a TCP connection be made, and which
TLS certificate does a server present (its SHA-256 fingerprint, whether it verifies against a CA
bundle or the system CAs).

Owns: those two probes and the fingerprint format (``AB:CD:…``, as Proxmox shows it in
``pvenode cert info`` and browsers do). Must not: send credentials or anything but a handshake.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import dataclass


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex pairs."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def same_fingerprint(a: str, b: str) -> bool:
    """Two fingerprints are equal ignoring case, colons and an ``SHA256:`` prefix."""
    def norm(text: str) -> str:
        return text.strip().upper().removeprefix("SHA256:").replace(":", "").replace(" ", "")

    return bool(norm(a)) and norm(a) == norm(b)


def tcp_error(host: str, port: int, timeout: float = 5.0) -> str | None:
    """None when ``host:port`` accepts a TCP connection, else why not (one short phrase)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        return f"cannot resolve {host}"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return (exc.strerror or type(exc).__name__).lower()


@dataclass(frozen=True)
class TlsPeer:
    """What a TLS server presented: its leaf certificate (PEM, DER fingerprint) and whether it verified."""

    pem: str
    fingerprint: str
    verified: bool
    error: str = ""  # why it did not verify


def tls_peer(host: str, port: int, cafile: str | None, timeout: float = 5.0) -> TlsPeer:
    """Handshake with ``host:port``: the certificate it presents, verified against ``cafile`` (None: the
    system CAs), host name included. Raises ``OSError`` when no handshake is possible at all."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        bare.check_hostname, bare.verify_mode = False, ssl.CERT_NONE
        with bare.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True) or b""
    pem = ssl.DER_cert_to_PEM_cert(der)
    try:
        ctx = ssl.create_default_context(cafile=cafile)
        if cafile:  # a pinned server certificate is a trust anchor too (as the clients treat it)
            ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host):
            pass
    except ssl.SSLCertVerificationError as exc:
        return TlsPeer(pem, fingerprint(der), False, exc.verify_message or str(exc))
    except ssl.SSLError as exc:
        return TlsPeer(pem, fingerprint(der), False, exc.reason or str(exc))
    return TlsPeer(pem, fingerprint(der), True)
