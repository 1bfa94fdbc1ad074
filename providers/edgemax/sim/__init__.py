"""A loopback double of an EdgeRouter (EdgeOS) over real SSH (edgeos.md), strict as the router.

For tests, the bench and the lab only: netsot's product code never imports it.
"""
