"""Kept for old imports: the audit trail lives in `crisis.audit`, failed sign-ins with people."""

from crisis.audit.models import AuditEvent, AuditRewrite
from crisis.people.models import LoginFailure

__all__ = ["AuditEvent", "AuditRewrite", "LoginFailure"]
