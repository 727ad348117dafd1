"""Forms for statements (Flask-WTF: a CSRF token on each)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DraftForm(FlaskForm):
    platform = StringField(
        "Platform", validators=[DataRequired("Name the platform the statement is for."), Length(max=50)],
        description="x, instagram, facebook, website ...",
    )
    step = SelectField("For step", choices=[], validate_choice=False)
    holding_statement = SelectField("Start from the library", choices=[], validate_choice=False)
    body = TextAreaField(
        "Wording", validators=[Optional(), Length(max=10_000)],
        description="Leave empty to start from the step's template or the chosen library entry.",
    )


class EditForm(FlaskForm):
    platform = StringField("Platform", validators=[DataRequired("Name the platform the statement is for."), Length(max=50)])
    body = TextAreaField("Wording", validators=[DataRequired("Write the wording of the statement."), Length(max=10_000)])


class RejectForm(FlaskForm):
    reason = TextAreaField("Why it goes back", validators=[DataRequired("Say why the statement goes back."), Length(max=2000)])


class PublishForm(FlaskForm):
    url = StringField(
        "Address of the live post", validators=[DataRequired("Give the address of the live post."), Length(max=2000)]
    )


class ActionForm(FlaskForm):
    """A button-only form (submit, approve): the CSRF token is its only field."""
