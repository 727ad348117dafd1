"""Steps browser journeys share (Playwright, through tests/e2e's Session)."""

from __future__ import annotations


def refuse_blank_block_reason(tab, ref: str, step: str = "gather-facts"):
    """On the incident page, mark `step` blocked with a reason of spaces (it passes the browser's
    `required`, not the server) and return the locator of the refusal shown beside the field."""
    row = tab.page.locator(f"#step-{step}")
    row.locator("summary", has_text="Blocked").click()
    row.locator("input[name=reason]").first.fill("   ")
    row.get_by_role("button", name="Mark blocked").click()
    return tab.page.locator(f"#{ref}-{step}-block-reason-error")
