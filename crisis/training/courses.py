"""Training courses as code: `training/*.yaml`, validated like playbooks (file, line, field).

A course names the response roles that need it, how many days a completion stays valid and
when to remind before it lapses, and carries its material in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from crisis.errors import NotFound
from crisis.playbooks.validation import MAX_TITLE_LENGTH, PlaybookProblem
from crisis.readiness.documents import ItemChecker, Loaded, load_directory, load_directory_cached

COURSE_KEYS = ("key", "title", "roles", "valid_days", "remind_days", "everyone", "material")
COURSE_REQUIRED = ("key", "title", "valid_days", "material")
MAX_VALID_DAYS = 5 * 366
DEFAULT_REMIND_DAYS = 30
# The course whose valid completion lets a spokesperson publish (authority follows training).
SPOKESPERSON_COURSE = "spokesperson"


@dataclass(frozen=True)
class Course:
    key: str
    title: str
    roles: tuple[str, ...]
    valid_days: int
    remind_days: int
    everyone: bool
    material: str


class CourseChecker(ItemChecker):
    items = ""

    def check(self, data: Any) -> Course | None:
        data = self.mapping(data, (), "a course")
        if data is None:
            return None
        self.keys(data, (), COURSE_KEYS, "a course", COURSE_REQUIRED)
        key = self.slug(data["key"], ("key",), "course key") if "key" in data else None
        title = self.text(data, "title", (), max_length=MAX_TITLE_LENGTH)
        material = self.text(data, "material", ())
        roles: list[str] = []
        if "roles" in data:
            listed = self.text_list(data["roles"], ("roles",), "roles", allow_empty=True) or []
            roles = [r for i, r in enumerate(listed) if self.known_role(r, ("roles", i), "role")]
        valid_days = self.days(data, "valid_days", None)
        remind_days = self.days(data, "remind_days", DEFAULT_REMIND_DAYS)
        if valid_days is not None and remind_days is not None and remind_days >= valid_days:
            self.report(("remind_days",), f"must be fewer than valid_days ({valid_days})")
        everyone = self.boolean(data, "everyone", (), False)
        if None in (key, title, material, valid_days, remind_days):
            return None
        return Course(key, title, tuple(roles), valid_days, remind_days, everyone, material)

    def days(self, data: dict, name: str, default: int | None) -> int | None:
        if name not in data:
            return default
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VALID_DAYS:
            self.report((name,), f"must be a whole number of days from 1 to {MAX_VALID_DAYS}, got {value!r}")
            return None
        return value


def load_courses(path: str | Path) -> tuple[list[Loaded], list[PlaybookProblem]]:
    """Load every course file of a directory; a file with any problem loads nothing."""
    return load_directory(path, checker=CourseChecker, key=lambda course: course.key, what="course")


def courses() -> dict[str, Course]:
    """Return the valid courses of the configured directory, by key (re-read when a file changes)."""
    loaded, _ = load_directory_cached(
        current_app.config["TRAINING_DIR"], checker=CourseChecker, key=lambda course: course.key, what="course"
    )
    return {item.value.key: item.value for item in loaded}


def get_course(key: str) -> Course:
    """Return one course or raise NotFound."""
    found = courses().get(key)
    if found is None:
        raise NotFound("There is no such course.", field="course")
    return found
