"""What a site's page may see of the log (scheduling/visibility.py)."""

from __future__ import annotations

from scheduling.visibility import needs_redaction, redact_for_site

SITE = {"code": "P-HOAN-KIEM", "name": "Phường Hoàn Kiếm", "parent": "Hà Nội", "kind": "remote",
        "expected_headcount": 80, "contact_name": "Văn phòng UBND phường", "contact_phone": "024 3825 1234",
        "email": "vanphong@hoankiem.hanoi.gov.vn"}


def test_sites_arrive_without_their_contact_details() -> None:
    invited = {"type": "sites_invited", "sites": [SITE, {**SITE, "code": "P-CUA-NAM"}], "at": "t", "key": "k"}
    seen = redact_for_site(invited)
    assert needs_redaction("sites_invited") and needs_redaction("conference_created")
    assert [s["code"] for s in seen["sites"]] == ["P-HOAN-KIEM", "P-CUA-NAM"]
    for s in seen["sites"]:
        assert (s["contact_name"], s["contact_phone"], s["email"]) == ("", "", "")
        assert s["name"] == "Phường Hoàn Kiếm" and s["expected_headcount"] == 80
    assert invited["sites"][0]["email"], "the stored event is left as it is"
    created = redact_for_site({"type": "conference_created", "main_site": SITE, "title": "Sơ kết"})
    assert created["main_site"]["contact_phone"] == "" and created["title"] == "Sơ kết"


def test_notes_are_hidden_and_other_events_pass_as_they_are() -> None:
    assert redact_for_site({"type": "note_added", "text": "nội bộ", "at": "t"}) == {"type": "redacted", "at": "t"}
    checked = {"type": "site_checked_in", "site": "P-HOAN-KIEM", "headcount": 40}
    assert redact_for_site(checked) is checked and not needs_redaction("site_checked_in")
