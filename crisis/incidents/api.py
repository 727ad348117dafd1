"""JSON API endpoints for incidents (filled in by the incidents work)."""
