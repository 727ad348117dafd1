"""Forms for signing in and account settings (Flask-WTF: CSRF on each)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    remember = BooleanField("Keep me signed in on this device")


class AccountForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    timezone = SelectField("Time zone")
    notify_email = BooleanField("Email me when my steps escalate")
    notify_in_app = BooleanField("Show in-app notifications")


class PasswordForm(FlaskForm):
    """Change one's own password; the rules (length, common passwords) are the service's."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)])
    new = PasswordField("New password (at least 10 characters)", validators=[DataRequired(), Length(max=1000)])
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")]
    )
