"""Links to a prefix in NIPAP's web UI (nipap-www), for the status page.

Owns: the UI's URL of a prefix or host (in NIPAP a host is a prefix too): nipap-www is a separate web
application from nipapd's XML-RPC API; netsot assumes it on the same host at the scheme's default port
(the API's own port, 1337 by default, and any user:password in its URL are left out), at
``/prefix/edit/<id>``.
Must not: do I/O, or ever put a credential into a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


def base_url(settings: Any) -> str | None:
    parts = urlsplit(str(settings.url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}/"


def web_link(settings: Any, what: str, details: Mapping[str, Any]) -> str | None:
    """The edit page of a prefix or host NIPAP holds (its id is the resource's ``provider_id``)."""
    from providers.nipap.descriptor import ADDRESS_TYPE, PREFIX_TYPE

    ident = str(details.get("provider_id") or "")
    base = base_url(settings)
    if what not in (PREFIX_TYPE, ADDRESS_TYPE) or not ident.isdigit() or base is None:
        return None
    return f"{base}prefix/edit/{int(ident)}"
