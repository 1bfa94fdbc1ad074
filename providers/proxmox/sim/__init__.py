"""A loopback double of the Proxmox VE API over real HTTPS (proxmox.md), strict as PVE.

For tests, the bench and the lab only: netsot's product code never imports it.
"""
