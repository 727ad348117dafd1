"""Statuses, severities, permissions and roles, stored as their string values."""

from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)


class IncidentStatus(StrEnum):
    DECLARED = "declared"
    TRIAGE = "triage"
    RESPONDING = "responding"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (
    IncidentStatus.DECLARED,
    IncidentStatus.TRIAGE,
    IncidentStatus.RESPONDING,
    IncidentStatus.MONITORING,
)


class StepStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


FINISHED_STEP_STATUSES = (StepStatus.DONE, StepStatus.SKIPPED)


class Applicability(StrEnum):
    """Whether a step's `when` holds for the incident; an excluded step is skipped."""

    APPLIES = "applies"
    EXCLUDED = "excluded"
    UNDECIDED = "undecided"  # waits on an unanswered triage question


# A step definition's applies() answer (True, False, None) as stored on the incident's step.
APPLICABILITY = {True: Applicability.APPLIES.value, False: Applicability.EXCLUDED.value,
                 None: Applicability.UNDECIDED.value}


class Permission(StrEnum):
    ADMIN = "admin"
    DECLARE = "declare"
    RESPOND = "respond"
    APPROVE = "approve"
    PUBLISH = "publish"
    VIEW = "view"


class ResponseRole(StrEnum):
    """The response roles a playbook may name; rosters hold a primary and backups for each."""

    TRIAGE_LEAD = "triage-lead"
    SOCIAL_MEDIA_MANAGER = "social-media-manager"
    CUSTOMER_CARE = "customer-care"
    LEGAL = "legal"
    MARKETING = "marketing"
    SPOKESPERSON = "spokesperson"
    EXEC_SPONSOR = "exec-sponsor"
    SECURITY = "security"
    COMMUNITY_MODERATOR = "community-moderator"
    HR = "hr"
    COMMS_LEAD = "comms-lead"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the retry cap; visible to admins
    HELD = "held"  # an email kept in the mailbox because no mail server is configured; never sent


class StatementStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"  # sent back with a reason; an edit returns it to draft
    PUBLISHED = "published"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
