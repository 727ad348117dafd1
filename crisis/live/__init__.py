"""Live pages: open pages learn that what they show changed, cheaply, from any process.

See stamps.py (what "changed" means, read from the database) and web.py (the poll and the
fragments the browser swaps in).
"""
