"""A loopback double of nipapd 0.32.7's XML-RPC API (nipap.md), strict as nipapd.

For tests, the bench and the lab only: netsot's product code never imports it.
"""
