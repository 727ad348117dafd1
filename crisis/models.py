"""Every model, imported in one place so Alembic and the app see the whole schema."""

from crisis.alerts.models import Alert, AlertRateWindow
from crisis.api.idempotency import IdempotencyKey
from crisis.audit.models import AuditEvent
from crisis.drills.models import DrillInject, DrillRun
from crisis.escalation.models import SchedulerHeartbeat, StepEscalation
from crisis.incidents.models import Incident, IncidentCounter, IncidentLink, IncidentStep
from crisis.notifications.models import Notification, Webhook
from crisis.people.models import ApiToken, LoginFailure, Person, PersonPermission, RoleMembership
from crisis.playbooks.models import PlaybookVersion
from crisis.policy.models import PolicyAcknowledgement, PolicyVersion
from crisis.reviews.models import PostIncidentReview, ReviewAction, ReviewVersion
from crisis.statements.models import (
    HoldingStatement,
    SpokespersonAuthorisation,
    Statement,
    StatementApproval,
    StatementVersion,
)
from crisis.timeline.models import TimelineEvent
from crisis.training.models import TrainingAssignment, TrainingCompletion

__all__ = [
    "Alert",
    "AlertRateWindow",
    "ApiToken",
    "AuditEvent",
    "HoldingStatement",
    "IdempotencyKey",
    "Incident",
    "IncidentCounter",
    "IncidentLink",
    "IncidentStep",
    "LoginFailure",
    "Notification",
    "Person",
    "PersonPermission",
    "PlaybookVersion",
    "PostIncidentReview",
    "ReviewAction",
    "ReviewVersion",
    "RoleMembership",
    "SchedulerHeartbeat",
    "SpokespersonAuthorisation",
    "Statement",
    "StatementApproval",
    "StatementVersion",
    "StepEscalation",
    "TimelineEvent",
    "Webhook",
    "TrainingCompletion",
    "TrainingAssignment",
    "DrillRun",
    "DrillInject",
    "PolicyVersion",
    "PolicyAcknowledgement",
]
