"""VyOS configs as `show configuration commands` prints them (vyos.md §4: only the value quoted)."""

from __future__ import annotations

# ruff: noqa: E501  (real `set` lines are long)

V14 = """\
set service dhcp-server hostfile-update
set service dhcp-server shared-network-name LAN authoritative
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 default-router '192.168.10.1'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 name-server '192.168.10.1'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 range 0 start '192.168.10.100'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 range 0 stop '192.168.10.199'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping nas ip-address '192.168.10.20'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping nas mac-address '52:54:00:aa:00:01'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping nas description 'the NAS'
set system host-name 'cabin'
set system static-host-mapping host-name nas inet '192.168.10.20'
set system static-host-mapping host-name nas alias 'files'
"""

V15 = """\
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 option default-router '192.168.10.1'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 option name-server '192.168.10.1'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 range 0 start '192.168.10.100'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 range 0 stop '192.168.10.199'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping nas ip-address '192.168.10.20'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping nas mac '52:54:00:aa:00:01'
set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 subnet-id '1'
set system host-name 'cabin'
set system static-host-mapping host-name nas inet '192.168.10.20'
"""
