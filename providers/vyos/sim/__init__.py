"""A simulator of VyOS 1.4 / 1.5's HTTPS API (vyos.md §5), strict as the router."""
