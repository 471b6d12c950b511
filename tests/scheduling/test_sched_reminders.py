"""Reminders to the sites that have not acknowledged a distributed version of the minutes,
and what the server's mailer reports of the e-mails it sent (a system command)."""

from __future__ import annotations

from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    THANH_KHE,
    Harness,
    site,
)

from scheduling import (
    Actor,
    ErrorCode,
    Mailing,
    MailResult,
    MinutesMailed,
    MinutesReminded,
    Receipt,
    event_to_dict,
)
from scheduling.visibility import redact_for_site

NOT_WRITERS = [ADMIN, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


@pytest.fixture
def sent(ended: Harness) -> Harness:
    """Version 1 approved and sent to three sites (and an account); one of them acknowledged."""
    ended.run(CHAIR, {"type": "approve_minutes"})
    ended.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, THANH_KHE, HOA_BAC],
                          "accounts": ["chu_tri"]})
    ended.tick(600)
    ended.run(site(THANH_KHE), {"type": "acknowledge_minutes", "version": 1, "site": THANH_KHE})
    ended.tick(86_400)
    return ended


class TestRemindMinutes:
    @pytest.mark.parametrize("actor", [SECRETARY, CHAIR], ids=str)
    def test_reminds_every_site_that_has_not_acknowledged(self, sent: Harness, actor: Actor) -> None:
        events = sent.run(actor, {"type": "remind_minutes", "version": 1}, key="nhac")
        assert list(events) == [MinutesReminded(version=1, sites=(HAI_CHAU, HOA_BAC), **sent.meta(actor, "nhac"))]
        receipts = sent.s.minutes.receipts[1]
        assert (receipts[HAI_CHAU].reminded_at, receipts[HAI_CHAU].reminders) == (sent.now, 1)
        assert (receipts[THANH_KHE].reminded_at, receipts[THANH_KHE].reminders) == (None, 0)

    def test_counts_the_reminders(self, sent: Harness) -> None:
        sent.run(SECRETARY, {"type": "remind_minutes", "version": 1, "sites": [HAI_CHAU]})
        sent.tick(3600)
        sent.run(SECRETARY, {"type": "remind_minutes", "version": 1, "sites": [HAI_CHAU]})
        r = sent.s.minutes.receipts[1][HAI_CHAU]
        assert (r.reminded_at, r.reminders, r.acknowledged_at) == (sent.now, 2, None)
        assert sent.s.minutes.receipts[1][HOA_BAC].reminders == 0

    def test_a_site_that_acknowledged_is_not_reminded(self, sent: Harness) -> None:
        assert sent.run(SECRETARY, {"type": "remind_minutes", "version": 1, "sites": [THANH_KHE]}) == ()
        for code in (HAI_CHAU, HOA_BAC):
            sent.run(site(code), {"type": "acknowledge_minutes", "version": 1, "site": code})
        assert sent.run(SECRETARY, {"type": "remind_minutes", "version": 1}) == ()

    def test_not_a_site_the_version_was_not_sent_to(self, sent: Harness) -> None:
        sent.refuse(SECRETARY, {"type": "remind_minutes", "version": 1, "sites": [HAI_CHAU, HOA_NINH]},
                    ErrorCode.NOT_DISTRIBUTED, HOA_NINH)

    def test_not_a_site_that_is_not_invited(self, sent: Harness) -> None:
        sent.refuse(SECRETARY, {"type": "remind_minutes", "version": 1, "sites": [AN_HAI]},
                    ErrorCode.SITE_NOT_INVITED, AN_HAI)

    def test_unknown_version(self, sent: Harness) -> None:
        sent.refuse(SECRETARY, {"type": "remind_minutes", "version": 2}, ErrorCode.UNKNOWN_VERSION, "2")

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, sent: Harness, actor: Actor) -> None:
        sent.refuse(actor, {"type": "remind_minutes", "version": 1}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"version": "1"}, "version: expected an integer, got string"),
        ({"sites": [HAI_CHAU, HAI_CHAU]}, "sites: duplicates are not allowed"),
        ({"sites": ["p hai chau"]}, "sites[0]:"),
        ({"site": HAI_CHAU}, "site: unknown field"),
    ])
    def test_bad_input(self, sent: Harness, fields: dict[str, Any], message: str) -> None:
        err = sent.refuse(SECRETARY, {"type": "remind_minutes", "version": 1, **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestRecordMinutesMail:
    def test_the_mailer_records_what_it_sent_and_what_failed(self, sent: Harness) -> None:
        results = [{"recipient": f"site:{HAI_CHAU}"}, {"recipient": "site:X-HOA-BAC", "error": "550 5.1.1 no mailbox"},
                   {"recipient": "account:chu_tri"}]
        events = sent.run(SYSTEM, {"type": "record_minutes_mail", "version": 1, "results": results}, key="mail-1")
        assert list(events) == [MinutesMailed(version=1, results=(
            MailResult(recipient=f"site:{HAI_CHAU}"), MailResult(recipient=f"site:{HOA_BAC}", error="550 5.1.1 no mailbox"),
            MailResult(recipient="account:chu_tri")), **sent.meta(SYSTEM, "mail-1"))]
        assert sent.s.minutes.mail[1] == {f"site:{HAI_CHAU}": Mailing(at=sent.now),
                                          f"site:{HOA_BAC}": Mailing(at=sent.now, error="550 5.1.1 no mailbox"),
                                          "account:chu_tri": Mailing(at=sent.now)}
        # the receipts themselves are untouched: e-mail is a second channel beside the inbox
        receipt = sent.s.minutes.receipts[1][HAI_CHAU]
        assert receipt == Receipt(delivered_at=receipt.delivered_at)

    def test_a_later_mail_replaces_the_earlier_report(self, sent: Harness) -> None:
        sent.run(SYSTEM, {"type": "record_minutes_mail", "version": 1,
                          "results": [{"recipient": f"site:{HOA_BAC}", "error": "connection refused"}]})
        sent.tick(60)
        sent.run(SYSTEM, {"type": "record_minutes_mail", "version": 1, "results": [{"recipient": f"site:{HOA_BAC}"}]})
        assert sent.s.minutes.mail[1][f"site:{HOA_BAC}"] == Mailing(at=sent.now)

    def test_only_recipients_of_the_version(self, sent: Harness) -> None:
        sent.refuse(SYSTEM, {"type": "record_minutes_mail", "version": 1, "results": [{"recipient": f"site:{HOA_NINH}"}]},
                    ErrorCode.NOT_DISTRIBUTED, HOA_NINH)
        sent.refuse(SYSTEM, {"type": "record_minutes_mail", "version": 1, "results": [{"recipient": "account:thu_ky"}]},
                    ErrorCode.NOT_DISTRIBUTED, "thu_ky")
        sent.refuse(SYSTEM, {"type": "record_minutes_mail", "version": 2, "results": [{"recipient": f"site:{HAI_CHAU}"}]},
                    ErrorCode.UNKNOWN_VERSION)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, STRANGER, site(HAI_CHAU)], ids=str)
    def test_only_the_server_itself(self, sent: Harness, actor: Actor) -> None:
        sent.refuse(actor, {"type": "record_minutes_mail", "version": 1, "results": [{"recipient": f"site:{HAI_CHAU}"}]},
                    ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("results", "message"), [
        ([], "results: between 1 and"),
        ([{"recipient": HAI_CHAU}], "results[0].recipient:"),
        ([{"recipient": "site:p-hai"}], "results[0].recipient:"),
        ([{"recipient": f"site:{HAI_CHAU}"}, {"recipient": f"site:{HAI_CHAU}"}], "results: a recipient appears twice"),
        ([{"recipient": f"site:{HAI_CHAU}", "error": "x" * 501}], "results[0].error: at most 500"),
        ([{"recipient": f"site:{HAI_CHAU}", "error": "a\x00b"}], "results[0].error: control characters"),
        ([{"recipient": f"site:{HAI_CHAU}", "code": 550}], "results[0].code: unknown field"),
    ])
    def test_bad_input(self, sent: Harness, results: list[Any], message: str) -> None:
        err = sent.refuse(SYSTEM, {"type": "record_minutes_mail", "version": 1, "results": results},
                          ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message

    def test_sites_never_see_the_reports(self, sent: Harness) -> None:
        (ev,) = sent.run(SYSTEM, {"type": "record_minutes_mail", "version": 1,
                                  "results": [{"recipient": f"site:{HAI_CHAU}", "error": "550 <x@y.vn> unknown"}]})
        assert redact_for_site(event_to_dict(ev)) == {"type": "redacted", "at": ev.at.isoformat()}
