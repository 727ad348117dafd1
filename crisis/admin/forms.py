"""Admin forms (Flask-WTF: a CSRF token on each)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crisis.enums import Permission

PERMISSION_CHOICES = [SelectChoice(p.value, p.value) for p in Permission]
# What each permission lets a person do, shown beside its checkbox.
PERMISSION_HELP = {
    Permission.ADMIN.value: "Everything, plus people, rosters, spokespeople, tokens, webhooks and the audit trail.",
    Permission.DECLARE.value: "Declare incidents from a playbook (also through the API and alerts).",
    Permission.RESPOND.value: "Work steps: acknowledge, complete, hand over, add notes, draft statements.",
    Permission.APPROVE.value: "Sign off statements, for the approver roles the person is on the roster of.",
    Permission.PUBLISH.value: "Publish approved statements, where authorised and trained as a spokesperson.",
    Permission.VIEW.value: "Read incidents, timelines, metrics and reports (executives need only this).",
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PersonForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password (empty: API tokens only)", validators=[Optional(), Length(max=1000)])
    permissions = CheckboxesField("System permissions", choices=PERMISSION_CHOICES)
    roles = StringField(
        "Response roles", validators=[Optional(), Length(max=1000)],
        description="Comma-separated, e.g. legal, triage-lead:backup",
    )


class PersonEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    permissions = CheckboxesField("System permissions", choices=PERMISSION_CHOICES)
    roles = StringField("Response roles", validators=[Optional(), Length(max=1000)], description="Comma-separated, e.g. legal, triage-lead:backup")


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1000)])


class SpokespersonForm(FlaskForm):
    person = SelectField("Person", coerce=int, validate_choice=False)
    platform = StringField("Platform (* for every platform)", validators=[DataRequired(), Length(max=50)])
    trained_on = DateField("Trained on (empty: not trained yet, cannot publish)", validators=[Optional()])


class TrainingForm(FlaskForm):
    trained_on = DateField("Trained on", validators=[DataRequired()])


class TokenForm(FlaskForm):
    person = SelectField("Person", coerce=int, validate_choice=False)
    name = StringField("What it is for", validators=[Optional(), Length(max=100)])
    scope = SelectField("Scope", choices=[
            SelectChoice("api", "api: the JSON API within the person's permissions"),
            SelectChoice("alerts", "alerts: alert intake only"),
        ])


class HoldingStatementForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    platform = StringField("Platform (empty: any)", validators=[Optional(), Length(max=50)])
    body = TextAreaField(
        "Approved wording", validators=[DataRequired(), Length(max=10_000)],
        description="Placeholders such as {incident_title}, {link}, {company}, {spokesperson} are filled from each incident.",
    )


class ActionForm(FlaskForm):
    """A button-only form: the CSRF token is its only field."""
