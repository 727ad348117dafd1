"""Readiness: what training and drill files share, and (later) the readiness board."""
