"""Forms for statements (Flask-WTF: a CSRF token on each)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DraftForm(FlaskForm):
    platform = StringField("Platform", validators=[DataRequired(), Length(max=50)], description="x, instagram, facebook, website ...")
    step = SelectField("For step", choices=[], validate_choice=False)
    holding_statement = SelectField("Start from the library", choices=[], validate_choice=False)
    body = TextAreaField(
        "Wording", validators=[Optional(), Length(max=10_000)],
        description="Leave empty to start from the step's template or the chosen library entry.",
    )


class EditForm(FlaskForm):
    platform = StringField("Platform", validators=[DataRequired(), Length(max=50)])
    body = TextAreaField("Wording", validators=[DataRequired(), Length(max=10_000)])


class RejectForm(FlaskForm):
    reason = TextAreaField("Why it goes back", validators=[DataRequired(), Length(max=2000)])


class PublishForm(FlaskForm):
    url = StringField("Address of the live post", validators=[DataRequired(), Length(max=2000)])


class ActionForm(FlaskForm):
    """A button-only form (submit, approve): the CSRF token is its only field."""
