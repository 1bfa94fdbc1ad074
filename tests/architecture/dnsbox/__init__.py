"""A fourth system, added the way README's "Adding a system" says: a tiny DNS server (in memory)."""
