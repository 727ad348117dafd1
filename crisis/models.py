"""Every model, imported in one place so Alembic and the app see the whole schema."""

from crisis.escalation.models import SchedulerHeartbeat, StepEscalation
from crisis.incidents.models import Incident, IncidentCounter, IncidentLink, IncidentStep
from crisis.notifications.models import Notification, Webhook
from crisis.people.models import ApiToken, Person, PersonPermission, RoleMembership
from crisis.playbooks.models import PlaybookVersion
from crisis.reviews.models import PostIncidentReview, ReviewAction
from crisis.timeline.models import TimelineEvent

__all__ = [
    "ApiToken",
    "Incident",
    "IncidentCounter",
    "IncidentLink",
    "IncidentStep",
    "Notification",
    "Person",
    "PersonPermission",
    "PlaybookVersion",
    "PostIncidentReview",
    "ReviewAction",
    "RoleMembership",
    "SchedulerHeartbeat",
    "StepEscalation",
    "TimelineEvent",
    "Webhook",
]
