"""Input checks shared by declaring, editing and changing incidents: each refusal names its field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from crisis.enums import (
    SEVERITIES,
)
from crisis.errors import InvalidInput
from crisis.people.models import Person
from crisis.people.service import find_person
from crisis.playbooks.definition import Playbook

MAX_TITLE = 200
MAX_SUMMARY = 10_000
MAX_NOTE = 10_000
MAX_REASON = 2_000
MAX_PLATFORM = 50
MAX_URL = 2_000
MAX_LINKS = 20


@dataclass(frozen=True)
class LinkInput:
    platform: str
    url: str


def check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("Give the incident a title.", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title can be at most {MAX_TITLE} characters.", field="title")
    return title


def check_severity(severity: str | None, field: str = "severity") -> str:
    value = (severity or "").strip().upper()
    if value not in SEVERITIES:
        raise InvalidInput(f"Choose a severity from {SEVERITIES[0]} to {SEVERITIES[-1]} (not “{severity}”).", field=field)
    return value


def check_link(platform: str, url: str, *, field: str = "links") -> LinkInput:
    """Return a cleaned source link, or raise InvalidInput when it is not an http(s) URL."""
    platform = " ".join((platform or "").split())
    url = (url or "").strip()
    if not platform:
        raise InvalidInput("Each link needs a platform (for example x, tiktok, reddit).", field=f"{field}.platform")
    if len(platform) > MAX_PLATFORM:
        raise InvalidInput(f"A platform name can be at most {MAX_PLATFORM} characters.", field=f"{field}.platform")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput(f"The link “{url}” is not an http(s) URL.", field=f"{field}.url")
    if len(url) > MAX_URL:
        raise InvalidInput(f"A link can be at most {MAX_URL} characters.", field=f"{field}.url")
    return LinkInput(platform=platform, url=url)


def check_links(links: Sequence[tuple[str, str]]) -> list[LinkInput]:
    if len(links) > MAX_LINKS:
        raise InvalidInput(f"Give at most {MAX_LINKS} links.", field="links")
    return [check_link(platform, url, field=f"links.{i}") for i, (platform, url) in enumerate(links)]


def check_answers(playbook: Playbook, answers: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in answers.items():
        try:
            question = playbook.question(key)
        except KeyError:
            raise InvalidInput("This playbook asks no such triage question.", field=f"answers.{key}") from None
        value = (value or "").strip() if isinstance(value, str) else value
        if value not in question.choices:
            raise InvalidInput(
                f"Answer “{question.prompt}” with one of: "
                + ", ".join(choice.replace("_", " ") for choice in question.choices) + ".",
                field=f"answers.{key}",
            )
        clean[key] = value
    return clean


def named_person(email: str, *, field: str) -> Person:
    person = find_person(email or "")
    if person is None:
        raise InvalidInput("Nobody here has that email address.", field=field)
    if not person.active:
        raise InvalidInput(f"{person.name} is disabled: choose someone else.", field=field)
    return person


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason can be at most {MAX_REASON} characters.", field="reason")
    return reason
