"""A refused form shown again: what was typed kept and the reason beside the field it is about.

Views that re-render a page after a refusal pass `refused=Refused(...)`; every other render gets
NO_REFUSAL from the context processor, so templates can always ask `refused.value(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask import Flask

from crisis.errors import DomainError, InvalidInput

# The form as a whole, for refusals no single field caused (a step already done, say).
WHOLE_FORM = "form"


@dataclass(frozen=True)
class Refused:
    form: str = ""
    field: str = ""
    message: str = ""
    values: Mapping[str, str] = dataclass_field(default_factory=dict)

    def on(self, form: str) -> bool:
        return bool(self.form) and self.form == form

    def value(self, form: str, name: str, default: str = "") -> str:
        """What was typed into the field when this form was refused, else the default."""
        return self.values.get(name, default) if self.on(form) else default

    def error(self, form: str, name: str = WHOLE_FORM) -> str:
        return self.message if self.on(form) and self.field == name else ""

    def aria(self, form: str, name: str) -> dict[str, str]:
        """Attributes tying a WTForms field to its error (templates/_refused.html names it so)."""
        if not self.error(form, name):
            return {}
        return {"aria-invalid": "true", "aria-describedby": f"{form}-{name}-error"}


NO_REFUSAL = Refused()


def refusal(form: str, error: DomainError, values: Mapping[str, str], fields: Mapping[str, str]) -> Refused:
    """Place the error beside a field of the form: `fields` maps the domain's field names to the form's."""
    name = (error.field or "").split(".")[0]
    if isinstance(error, InvalidInput) or name in fields:
        place = fields.get(error.field or "", fields.get(name, next(iter(fields.values()), WHOLE_FORM)))
    else:
        place = WHOLE_FORM
    return Refused(form=form, field=place, message=error.message, values=dict(values))


def register_refused_forms(app: Flask) -> None:
    app.context_processor(lambda: {"refused": NO_REFUSAL})
