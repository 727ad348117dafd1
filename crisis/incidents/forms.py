"""The declare form (Flask-WTF, CSRF on each) and parsing of its free-text links box."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crisis.enums import SEVERITIES
from crisis.errors import InvalidInput
from crisis.incidents.service import MAX_LINKS, check_link

# Hosts whose platform name is not simply the middle of the host name.
PLATFORM_HOSTS = {"twitter.com": "x", "t.co": "x", "youtu.be": "youtube", "fb.com": "facebook", "redd.it": "reddit"}


class DeclareForm(FlaskForm):
    # No playbook is preselected: declaring the wrong one starts the wrong clocks and escalations.
    playbook = RadioField(
        "Playbook",
        validators=[InputRequired("Choose a playbook: it decides the steps, their owners and their deadlines.")],
        validate_choice=False,
    )
    title = StringField("Title", validators=[DataRequired("Give the incident a title."), Length(max=200)])
    # Empty means "the chosen playbook's default", decided on the server so it works without JavaScript.
    severity = SelectField(
        "Severity",
        choices=[SelectChoice("", "The playbook's default")] + [SelectChoice(s, s) for s in SEVERITIES],
        default="",
    )
    summary = TextAreaField("What is happening", validators=[Optional(), Length(max=10_000)])
    links = TextAreaField("Source links", validators=[Optional(), Length(max=20_000)])
    triage_owner = SelectField("Triage owner", validators=[Optional()], default="")
    is_drill = BooleanField("This is a drill")


def guess_platform(url: str) -> str:
    """Name the platform from the URL's host: www.tiktok.com -> tiktok, twitter.com -> x."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host in PLATFORM_HOSTS:
        return PLATFORM_HOSTS[host]
    parts = host.split(".")
    return parts[-2] if len(parts) >= 2 else (host or "web")


def parse_links(text: str) -> list[tuple[str, str]]:
    """Parse one link per line, `URL` or `platform URL`; raise InvalidInput naming the line."""
    links: list[tuple[str, str]] = []
    for number, line in enumerate((text or "").splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) == 1:
            platform, url = guess_platform(words[0]), words[0]
        elif len(words) == 2:
            platform, url = words[0].rstrip(":="), words[1]
        else:
            raise InvalidInput(f"Line {number} of the links: write the platform and the URL, or just the URL.", field="links")
        try:
            link = check_link(platform, url, field="links")
        except InvalidInput as error:
            raise InvalidInput(f"Line {number} of the links: {error.message}", field="links") from None
        links.append((link.platform, link.url))
    if len(links) > MAX_LINKS:
        raise InvalidInput(f"Give at most {MAX_LINKS} links.", field="links")
    return links
