"""Forms for reporting, confirming and dismissing alerts (Flask-WTF: CSRF on each)."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

PLATFORMS = [
    SelectChoice(value, label)
    for value, label in (
        ("", "Guess from the link"), ("x", "X / Twitter"), ("facebook", "Facebook"),
        ("instagram", "Instagram"), ("tiktok", "TikTok"), ("youtube", "YouTube"),
        ("linkedin", "LinkedIn"), ("reddit", "Reddit"), ("threads", "Threads"),
        ("bluesky", "Bluesky"), ("trustpilot", "Trustpilot"), ("news", "News site"),
        ("web", "Other website"), ("offline", "Not online (a call, an email, the press)"),
    )
]
SEVERITY_CHOICES = [SelectChoice(s, s) for s in ("SEV1", "SEV2", "SEV3", "SEV4")]


class ReportForm(FlaskForm):
    # One field first: a link is enough; the rest only helps.
    url = StringField("Link to what you saw", validators=[Optional(), Length(max=2000)])
    platform = SelectField("Where", choices=PLATFORMS, validators=[Optional()])
    concern = TextAreaField("What worries you about it", validators=[Optional(), Length(max=4000)])


class ConfirmForm(FlaskForm):
    playbook = SelectField("Playbook")
    severity = SelectField("Severity", choices=SEVERITY_CHOICES)
    title = StringField("Incident title", validators=[Optional(), Length(max=200)])


class DismissForm(FlaskForm):
    reason = TextAreaField("Why (the reporter sees this)", validators=[Optional(), Length(max=2000)])
