"""The playbook document check: top-level keys, triage questions and the escalation policy.

Steps are checked by `StepChecks` and their `after` graph by `GraphChecks`; this class puts
the three together into one `Playbook`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crisis.playbooks.definition import (
    CHANNELS,
    ROLE_TARGET_PREFIX,
    TRIGGER_TARGETS,
    EscalationLevel,
    EscalationPolicy,
    NotifySettings,
    Playbook,
    TriageQuestion,
)
from crisis.playbooks.readers import KNOWN_ROLES, MAX_TITLE_LENGTH, PlaybookProblem
from crisis.playbooks.step_checks import StepChecks
from crisis.playbooks.step_graph import GraphChecks
from crisis.yamlcheck import Path_, hint, kind

TOP_KEYS = ("key", "title", "description", "default_severity", "triage_role", "questions",
            "escalation", "notifications", "steps")
TOP_REQUIRED = ("key", "title", "description", "default_severity", "escalation", "steps")
QUESTION_KEYS = ("key", "prompt", "choices")
ESCALATION_KEYS = ("levels", "repeat_every", "acknowledge_snooze")
LEVEL_KEYS = ("after", "notify", "channels")
DEFAULT_ACKNOWLEDGE_SNOOZE = timedelta(minutes=15)
NOTIFICATION_KEYS = ("remind_before", "sponsor_on_declare")
# A reminder sooner than this before the due time would arrive with the escalation itself.
MIN_REMIND_BEFORE = timedelta(minutes=1)


class PlaybookChecker(StepChecks, GraphChecks):
    def check(self, data: Any) -> Playbook | None:
        root = self.mapping(data, (), "a playbook file")
        if root is None:
            self.finish()
            return None
        self.keys(root, (), TOP_KEYS, "the playbook", TOP_REQUIRED)
        key = self.slug(root["key"], ("key",), "playbook key") if "key" in root else None
        title = self.text(root, "title", (), max_length=MAX_TITLE_LENGTH)
        description = self.text(root, "description", (), allow_empty=True)
        default_severity = None
        if "default_severity" in root:
            default_severity = self.severity(root["default_severity"], ("default_severity",))
        triage_role = "triage-lead"
        if "triage_role" in root:
            triage_role = self.known_role(root["triage_role"], ("triage_role",), "triage_role")
        questions = self.questions(root.get("questions", []))
        escalation = self.escalation(root["escalation"]) if "escalation" in root else None
        notifications = self.notifications(root["notifications"]) if "notifications" in root else NotifySettings()
        steps = self.steps(root.get("steps"), questions) if "steps" in root else []
        self.finish()
        if self.problems:
            return None
        if not (key and title and default_severity and triage_role and escalation):
            # Unreachable: each of these is reported above when missing or invalid.
            self.problems.append(PlaybookProblem(self.source, None, None, None, "incomplete"))
            return None
        return Playbook(
            key=key,
            title=title,
            description=(description or "").strip(),
            default_severity=default_severity,
            triage_role=triage_role,
            questions=tuple(questions.values()),
            escalation=escalation,
            notifications=notifications or NotifySettings(),
            steps=tuple(steps),
        )

    def questions(self, value: Any) -> dict[str, TriageQuestion]:
        path: Path_ = ("questions",)
        result: dict[str, TriageQuestion] = {}
        if value is None:
            return result
        if not isinstance(value, list):
            self.report(path, f"questions must be a list, got {kind(value)}")
            return result
        for i, item in enumerate(value):
            item_path = path + (i,)
            question = self.mapping(item, item_path, f"question #{i + 1}")
            if question is None:
                continue
            self.keys(question, item_path, QUESTION_KEYS, "a question", QUESTION_KEYS)
            key = None
            if "key" in question:
                key = self.slug(question["key"], item_path + ("key",), "question key")
            if key is not None:
                self._question_keys[i] = key
                if key in result:
                    self.report(item_path + ("key",), f"duplicate question key '{key}'")
                    key = None
            prompt = self.text(question, "prompt", item_path)
            choices = None
            if "choices" in question:
                choices = self.text_list(question["choices"], item_path + ("choices",), "choices")
                if choices is not None and len(choices) < 2:
                    self.report(item_path + ("choices",), "a question needs at least two choices")
                    choices = None
            if key is not None and prompt is not None and choices is not None:
                result[key] = TriageQuestion(key=key, prompt=prompt, choices=tuple(choices))
            elif key is not None:
                # Keep the key known so steps naming it are not reported a second time.
                result[key] = TriageQuestion(key=key, prompt=prompt or "", choices=())
        return result

    def notifications(self, value: Any) -> NotifySettings | None:
        """Check the `notifications` block: `remind_before` (a duration or off), `sponsor_on_declare`."""
        path: Path_ = ("notifications",)
        data = self.mapping(value, path, "notifications")
        if data is None:
            return None
        self.keys(data, path, NOTIFICATION_KEYS, "notifications")
        settings = NotifySettings()
        remind: timedelta | None = settings.remind_before
        if "remind_before" in data:
            raw = data["remind_before"]
            # YAML reads a bare `off` as False.
            if raw is False or raw == "off":
                remind = None
            else:
                remind = self.duration(raw, path + ("remind_before",))
                if remind is not None and remind < MIN_REMIND_BEFORE:
                    self.report(path + ("remind_before",),
                                f"remind_before must be at least {int(MIN_REMIND_BEFORE.total_seconds())}s "
                                "(or off for no reminders)")
                    remind = None
                if remind is None:
                    return None
        sponsor = settings.sponsor_on_declare
        if "sponsor_on_declare" in data:
            listed = self.text_list(data["sponsor_on_declare"], path + ("sponsor_on_declare",),
                                    "sponsor_on_declare", allow_empty=True)
            if listed is None:
                return None
            for j, severity in enumerate(listed):
                if self.severity(severity, path + ("sponsor_on_declare", j)) is None:
                    return None
            sponsor = tuple(listed)
        return NotifySettings(remind_before=remind, sponsor_on_declare=sponsor)

    def escalation(self, value: Any) -> EscalationPolicy | None:
        path: Path_ = ("escalation",)
        data = self.mapping(value, path, "escalation")
        if data is None:
            return None
        self.keys(data, path, ESCALATION_KEYS, "escalation", ("levels",))
        levels: list[EscalationLevel] = []
        ok = True
        raw_levels = data.get("levels")
        if "levels" in data and (not isinstance(raw_levels, list) or not raw_levels):
            self.report(path + ("levels",), "levels must be a non-empty list of levels")
            ok = False
            raw_levels = []
        previous: timedelta | None = None
        for i, item in enumerate(raw_levels or []):
            level_path = path + ("levels", i)
            level = self.mapping(item, level_path, f"escalation level {i + 1}")
            if level is None:
                ok = False
                continue
            self.keys(level, level_path, LEVEL_KEYS, f"escalation level {i + 1}", LEVEL_KEYS)
            after = None
            if "after" in level:
                after = self.duration(level["after"], level_path + ("after",), allow_zero=True)
                if after is not None and previous is not None and after <= previous:
                    self.report(
                        level_path + ("after",),
                        f"level {i + 1} must fire later than level {i} "
                        "(levels are in order of increasing 'after')",
                    )
                if after is not None:
                    previous = after
            notify = None
            if "notify" in level:
                notify = self.text_list(level["notify"], level_path + ("notify",), "notify")
                for j, target in enumerate(notify or []):
                    if not self.target(target, level_path + ("notify", j)):
                        notify = None
            channels = None
            if "channels" in level:
                channels = self.text_list(level["channels"], level_path + ("channels",), "channels")
                for j, channel in enumerate(channels or []):
                    if channel not in CHANNELS:
                        self.report(
                            level_path + ("channels", j),
                            f"unknown channel '{channel}' (use {', '.join(sorted(CHANNELS))})",
                        )
                        channels = None
            if after is None or notify is None or channels is None:
                ok = False
                continue
            levels.append(EscalationLevel(after=after, notify=tuple(notify),
                                          channels=tuple(channels)))
        repeat_every = None
        if "repeat_every" in data and data["repeat_every"] is not None:
            repeat_every = self.duration(data["repeat_every"], path + ("repeat_every",))
            ok = ok and repeat_every is not None
        snooze = DEFAULT_ACKNOWLEDGE_SNOOZE
        if "acknowledge_snooze" in data:
            parsed = self.duration(data["acknowledge_snooze"], path + ("acknowledge_snooze",))
            ok = ok and parsed is not None
            snooze = parsed or snooze
        if not ok or not levels:
            return None
        return EscalationPolicy(levels=tuple(levels), repeat_every=repeat_every,
                                acknowledge_snooze=snooze)

    def target(self, target: str, path: Path_) -> bool:
        if target in TRIGGER_TARGETS:
            return True
        if target.startswith(ROLE_TARGET_PREFIX):
            role = target[len(ROLE_TARGET_PREFIX):]
            if role in KNOWN_ROLES:
                return True
            self.report(path, f"unknown role '{role}' in notify target '{target}'"
                        f"{hint(role, KNOWN_ROLES)}")
            return False
        options = ", ".join(sorted(TRIGGER_TARGETS)) + ", role:<role>"
        self.report(path, f"unknown notify target '{target}' (use {options})"
                    f"{hint(target, TRIGGER_TARGETS)}")
        return False

