"""Kept for old imports: the audit trail lives in `crisis.audit`."""

from crisis.audit import audit

__all__ = ["audit"]
