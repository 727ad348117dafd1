"""JSON API endpoints for alerts (filled in by the alerts work)."""
