"""JSON API endpoints for playbooks (filled in by the playbooks work)."""
