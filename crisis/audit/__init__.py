"""The audit trail: who did what to whom, when; append-only, beside the timeline.

Any domain may write to it (`audit()`); the admin pages read it (`list_audit_events()`).
"""

from crisis.audit.models import AuditEvent, AuditRewrite
from crisis.audit.trail import audit, list_audit_events

__all__ = ["AuditEvent", "AuditRewrite", "audit", "list_audit_events"]
