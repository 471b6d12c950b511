"""What a site's page may see of the conference log.

Sites see the conference as it runs; the secretaries' working notes, the content of
minutes before distribution and the mailer's reports (SMTP errors may name addresses) stay
with the main bridge. A hidden event still takes its seq (so a page sees no gap) but
arrives redacted.
"""

from __future__ import annotations

from typing import Any

SITE_HIDDEN = frozenset({"note_added", "note_edited", "note_deleted", "minutes_mailed"})
SITE_STRIPPED = {"minutes_approved": ("content",)}


def redact_for_site(event: dict[str, Any]) -> dict[str, Any]:
    kind = event.get("type", "")
    if kind in SITE_HIDDEN:
        return {"type": "redacted", "at": event.get("at")}
    stripped = SITE_STRIPPED.get(kind)
    if stripped:
        return {k: v for k, v in event.items() if k not in stripped}
    return event


def needs_redaction(kind: str) -> bool:
    return kind in SITE_HIDDEN or kind in SITE_STRIPPED
