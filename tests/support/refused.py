"""Reading a refused form shown again (templates/_refused.html) from a test client's response."""

from __future__ import annotations

import html
import re


def page(response) -> str:
    """The response's HTML with entities unescaped, as a person reads it."""
    return html.unescape(response.get_data(as_text=True))


def beside(response, form_id: str, name: str) -> str:
    """The error shown beside a field of a form."""
    found = re.search(rf'id="{re.escape(form_id)}-{name}-error" role="alert">([^<]*)</p>', page(response))
    assert found, f"no error beside {form_id} {name}"
    return found.group(1)
