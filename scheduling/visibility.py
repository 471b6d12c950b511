"""What a site's page may see of the conference log.

Sites see the conference as it runs; the secretaries' working notes, the content of
minutes before distribution, the mailer's reports (SMTP errors may name addresses) and the
sites' contact people, phones and e-mail addresses stay with the main bridge. A hidden event
still takes its seq (so a page sees no gap) but arrives redacted; a site's contact fields
arrive empty.
"""

from __future__ import annotations

from typing import Any

SITE_HIDDEN = frozenset({"note_added", "note_edited", "note_deleted", "minutes_mailed"})
SITE_STRIPPED = {"minutes_approved": ("content",)}
SITE_ZEROED = {"vote_cast": "counts"}   # a site sees who has voted, not what: the tally comes with vote_closed
CONTACT_FIELDS = ("contact_name", "contact_phone", "email")
SITE_LISTS = {"sites_invited": "sites", "conference_created": "main_site"}   # event -> where SiteInfo is


def without_contacts(site: dict[str, Any]) -> dict[str, Any]:
    """A site's public part: its contact fields empty (the shape stays a SiteInfo)."""
    return {k: "" if k in CONTACT_FIELDS else v for k, v in site.items()}


def redact_for_site(event: dict[str, Any]) -> dict[str, Any]:
    kind = event.get("type", "")
    if kind in SITE_HIDDEN:
        return {"type": "redacted", "at": event.get("at")}
    zeroed = SITE_ZEROED.get(kind)
    if zeroed and isinstance(event.get(zeroed), list):
        return {**event, zeroed: [0] * len(event[zeroed])}
    stripped = SITE_STRIPPED.get(kind)
    if stripped:
        return {k: v for k, v in event.items() if k not in stripped}
    where = SITE_LISTS.get(kind)
    if where is not None and isinstance(event.get(where), list | dict):
        value = event[where]
        sites = [without_contacts(x) for x in value] if isinstance(value, list) else without_contacts(value)
        return {**event, where: sites}
    return event


def needs_redaction(kind: str) -> bool:
    return kind in SITE_HIDDEN or kind in SITE_STRIPPED or kind in SITE_LISTS or kind in SITE_ZEROED
