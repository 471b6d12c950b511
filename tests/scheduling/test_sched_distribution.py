"""Distribution of approved minutes: to chosen or all invited sites and accounts, once to
each; the sites' receipts (opened, acknowledged), only by the site itself."""

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
    MAIN,
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
    MinutesAcknowledged,
    MinutesDistributed,
    MinutesOpened,
    Receipt,
)

NOT_WRITERS = [ADMIN, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


def approve(h: Harness) -> None:
    h.run(CHAIR, {"type": "approve_minutes"})

@pytest.fixture
def approved(ended: Harness) -> Harness:
    approve(ended)
    return ended


class TestDistributeMinutes:
    def test_to_every_invited_site_by_default(self, approved: Harness) -> None:
        events = approved.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "accounts": ["chu_tri"]},
                              key="gui")
        everyone = (MAIN, HAI_CHAU, THANH_KHE, HOA_BAC, HOA_NINH)
        assert list(events) == [MinutesDistributed(version=1, sites=everyone, accounts=("chu_tri",),
                                                   **approved.meta(SECRETARY, "gui"))]
        assert approved.s.minutes.receipts[1] == {c: Receipt(delivered_at=approved.now) for c in everyone}
        assert approved.s.minutes.accounts[1] == ("chu_tri",)

    def test_to_chosen_sites_and_only_once_to_each(self, approved: Harness) -> None:
        approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU]})
        events = approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, HOA_BAC]})
        assert events[0].sites == (HOA_BAC,)  # type: ignore[attr-defined]
        assert approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, HOA_BAC]}) == ()

    def test_unknown_version(self, approved: Harness) -> None:
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 2}, ErrorCode.UNKNOWN_VERSION, "2")
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 0}, ErrorCode.UNKNOWN_VERSION)

    def test_nothing_approved_nothing_to_send(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1}, ErrorCode.UNKNOWN_VERSION)

    def test_not_to_an_uninvited_site(self, approved: Harness) -> None:
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, AN_HAI]},
                        ErrorCode.SITE_NOT_INVITED, AN_HAI)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, approved: Harness, actor: Actor) -> None:
        approved.refuse(actor, {"type": "distribute_minutes", "version": 1}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"version": "1"}, "version: expected an integer, got string"),
        ({"sites": [HAI_CHAU, HAI_CHAU]}, "sites: duplicates are not allowed"),
        ({"accounts": ["Chủ trì"]}, "accounts[0]:"),
        ({"accounts": ["thu_ky"] * 501}, "accounts: at most 500"),
        ({"accounts": ["thu_ky", "chu_tri", "thu_ky"]}, "accounts: duplicates are not allowed"),
    ])
    def test_bad_input(self, approved: Harness, fields: dict[str, Any], message: str) -> None:
        err = approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1, **fields},
                              ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


@pytest.fixture
def distributed(approved: Harness) -> Harness:
    approved.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, THANH_KHE]})
    approved.tick(3600)
    return approved


class TestOpenMinutes:
    def test_a_site_opens_what_it_received(self, distributed: Harness) -> None:
        h = distributed
        events = h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU}, key="xem")
        assert list(events) == [MinutesOpened(version=1, site=HAI_CHAU, **h.meta(site(HAI_CHAU), "xem"))]
        assert h.s.minutes.receipts[1][HAI_CHAU].opened_at == h.now
        h.tick(60)
        assert h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU}) == ()

    def test_not_what_was_not_sent(self, distributed: Harness) -> None:
        distributed.refuse(site(HOA_BAC), {"type": "open_minutes", "version": 1, "site": HOA_BAC},
                           ErrorCode.NOT_DISTRIBUTED, HOA_BAC)

    def test_unknown_version(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "open_minutes", "version": 3, "site": HAI_CHAU},
                           ErrorCode.UNKNOWN_VERSION)

    def test_not_for_another_site(self, distributed: Harness) -> None:
        distributed.refuse(site(THANH_KHE), {"type": "open_minutes", "version": 1, "site": HAI_CHAU},
                           ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_only_the_site_itself(self, distributed: Harness, actor: Actor) -> None:
        distributed.refuse(actor, {"type": "open_minutes", "version": 1, "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "open_minutes", "site": HAI_CHAU}, ErrorCode.INVALID_COMMAND,
                           "version: missing")


class TestAcknowledgeMinutes:
    def test_a_site_acknowledges(self, distributed: Harness) -> None:
        h = distributed
        h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU})
        opened = h.now
        h.tick(600)
        events = h.run(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}, key="da-nhan")
        assert list(events) == [MinutesAcknowledged(version=1, site=HAI_CHAU, **h.meta(site(HAI_CHAU), "da-nhan"))]
        r = h.s.minutes.receipts[1][HAI_CHAU]
        assert (r.opened_at, r.acknowledged_at) == (opened, h.now)
        assert h.run(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}) == ()

    def test_acknowledging_unopened_minutes_opens_them(self, distributed: Harness) -> None:
        distributed.run(site(THANH_KHE), {"type": "acknowledge_minutes", "version": 1, "site": THANH_KHE})
        r = distributed.s.minutes.receipts[1][THANH_KHE]
        assert r.opened_at == r.acknowledged_at == distributed.now

    def test_not_what_was_not_sent(self, distributed: Harness) -> None:
        distributed.refuse(site(HOA_NINH), {"type": "acknowledge_minutes", "version": 1, "site": HOA_NINH},
                           ErrorCode.NOT_DISTRIBUTED)

    def test_not_for_another_site(self, distributed: Harness) -> None:
        distributed.refuse(site(THANH_KHE), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU},
                           ErrorCode.NOT_OWN_SITE)

    def test_not_an_uninvited_site(self, distributed: Harness) -> None:
        distributed.refuse(site(AN_HAI), {"type": "acknowledge_minutes", "version": 1, "site": AN_HAI},
                           ErrorCode.SITE_NOT_INVITED)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_only_the_site_itself(self, distributed: Harness, actor: Actor) -> None:
        distributed.refuse(actor, {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1.0, "site": HAI_CHAU},
                           ErrorCode.INVALID_COMMAND, "version: expected an integer, got number")
