"""JSON API endpoints for statements (filled in by the statements work)."""
