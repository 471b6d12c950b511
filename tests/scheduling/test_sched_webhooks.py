"""Webhooks in the domain: the admin alone configures them, URLs are checked, facts are read
off a conference's state, a hook is owed only what happened after it was created, the outbox
retries with backoff and gives up, and the signature is Stripe's scheme."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from scheduling_builders import ADMIN, CHAIR, SYSTEM, build

from scheduling import DomainError, ErrorCode, ValidationError
from scheduling.outbox import (
    MAX_ATTEMPTS,
    DeliveryStatus,
    Outbox,
    QueueDelivery,
    RecordAttempt,
    backoff,
    decide_outbox,
    evolve_outbox,
    owed,
    payload,
    signature_header,
    verify_signature,
)
from scheduling.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    UpdateWebhook,
    Webhooks,
    check_webhook_url,
    decide_webhooks,
    evolve_webhooks,
    facts,
)

NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
SECRET = "bi-mat-ky-webhook-0123456789"


def hooks_with(**fields: Any) -> Webhooks:
    state = Webhooks()
    cmd = CreateWebhook(key="k1", **{"hook_id": "van-thu", "url": "https://vanthu.example.vn/hook",
                                     "secret": SECRET, "events": ("conference.opened",), **fields})
    for ev in decide_webhooks(state, cmd, ADMIN, now=NOW):
        state = evolve_webhooks(state, ev)
    return state


class TestCreateWebhook:
    def test_the_admin_creates_a_hook(self) -> None:
        state = hooks_with()
        hook = state.hooks["van-thu"]
        assert hook.url == "https://vanthu.example.vn/hook" and hook.created_at == NOW and hook.active

    def test_only_the_admin(self) -> None:
        cmd = CreateWebhook(key="k", hook_id="h", url="https://a.example/", secret=SECRET, events=("conference.ended",))
        for actor in (CHAIR, SYSTEM):
            with pytest.raises(DomainError) as err:
                decide_webhooks(Webhooks(), cmd, actor, now=NOW)
            assert err.value.code is ErrorCode.FORBIDDEN

    @pytest.mark.parametrize("url", ["ftp://a.example/", "javascript:alert(1)", "https://user:pw@a.example/",
                                     "https://token@a.example/", "http:///nohost", "https://a.example/ x",
                                     "https://a.example/\n", "https://a.example:99999/", "https://a.example/#f",
                                     "", "https://a.example/" + "x" * 2000, "a.example/hook"])
    def test_bad_urls_are_refused(self, url: str) -> None:
        with pytest.raises(ValidationError):
            check_webhook_url(url)
        with pytest.raises(ValidationError):
            CreateWebhook(key="k", hook_id="h", url=url, secret=SECRET, events=("conference.ended",))

    @pytest.mark.parametrize("fields", [{"secret": "short"}, {"secret": " " + SECRET}, {"events": ()},
                                        {"events": ("conference.exploded",)},
                                        {"events": ("conference.ended", "conference.ended")}, {"hook_id": "bad id"}])
    def test_bad_fields_are_refused(self, fields: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            CreateWebhook(key="k", **{"hook_id": "h", "url": "https://a.example/", "secret": SECRET,
                                      "events": ("conference.ended",), **fields})

    def test_bad_a_hook_id_taken_twice(self) -> None:
        cmd = CreateWebhook(key="k2", hook_id="van-thu", url="http://127.0.0.1:9/", secret=SECRET,
                            events=("conference.ended",))
        with pytest.raises(DomainError):
            decide_webhooks(hooks_with(), cmd, ADMIN, now=NOW)


class TestUpdateWebhook:
    def test_changes_only_what_is_given(self) -> None:
        state = hooks_with()
        (ev,) = decide_webhooks(state, UpdateWebhook(key="u", hook_id="van-thu", active=False), ADMIN, now=NOW)
        state = evolve_webhooks(state, ev)
        assert not state.hooks["van-thu"].active and state.hooks["van-thu"].secret == SECRET

    def test_bad_unknown_hook(self) -> None:
        with pytest.raises(DomainError):
            decide_webhooks(Webhooks(), UpdateWebhook(key="u", hook_id="khong-co", active=False), ADMIN, now=NOW)

    def test_bad_url(self) -> None:
        with pytest.raises(ValidationError):
            UpdateWebhook(key="u", hook_id="van-thu", url="https://u:p@a.example/")


class TestDeleteWebhook:
    def test_deletes(self) -> None:
        state = hooks_with()
        (ev,) = decide_webhooks(state, DeleteWebhook(key="d", hook_id="van-thu"), ADMIN, now=NOW)
        assert evolve_webhooks(state, ev).hooks == {}

    def test_bad_unknown_hook(self) -> None:
        with pytest.raises(DomainError):
            decide_webhooks(Webhooks(), DeleteWebhook(key="d", hook_id="x"), ADMIN, now=NOW)

    def test_bad_not_admin(self) -> None:
        with pytest.raises(DomainError):
            decide_webhooks(hooks_with(), DeleteWebhook(key="d", hook_id="van-thu"), CHAIR, now=NOW)


def test_facts_of_a_conference_and_what_a_hook_is_owed() -> None:
    h = build("ended")
    h.action("a1", due="2025-10-10")
    state = h.state
    kinds = {f.kind: f for f in facts(state, date(2025, 10, 11))}
    assert set(kinds) == {"conference.opened", "conference.ended", "action.overdue"}
    assert kinds["action.overdue"].at == datetime(2025, 10, 10, 17, 0, tzinfo=UTC)   # midnight in Hanoi
    assert "action.overdue" not in {f.kind for f in facts(state, date(2025, 10, 10))}
    # a hook created after the conference opened is owed nothing of its opening, only what follows
    late = hooks_with(events=("conference.opened", "conference.ended", "action.overdue"))
    late.hooks["van-thu"].created_at = state.opened_at + timedelta(minutes=1)
    found = owed(late, Outbox(), facts(state, date(2025, 10, 11)))
    assert sorted(f.kind for _, f, _ in found) == ["action.overdue", "conference.ended"]
    # queued once: the same fact is not owed again
    outbox = Outbox()
    for hook, fact, did in found:
        for ev in decide_outbox(outbox, QueueDelivery(key=f"q-{did}", delivery_id=did, hook_id=hook.hook_id,
                                                      kind=fact.kind, ref=fact.ref, body=payload(did, fact)),
                                SYSTEM, now=NOW):
            outbox = evolve_outbox(outbox, ev)
    assert owed(late, outbox, facts(state, date(2025, 10, 11))) == []


def test_the_outbox_retries_with_backoff_then_gives_up() -> None:
    outbox = Outbox()
    (ev,) = decide_outbox(outbox, QueueDelivery(key="q", delivery_id="d1", hook_id="h", kind="conference.opened",
                                                ref="r", body="{}"), SYSTEM, now=NOW)
    outbox = evolve_outbox(outbox, ev)
    assert backoff(1, 2.0) == timedelta(seconds=2) and backoff(3, 2.0) == timedelta(seconds=8)
    assert backoff(30, 2.0) is None and backoff(MAX_ATTEMPTS - 1, 3000.0) == timedelta(hours=1)
    for n in range(1, MAX_ATTEMPTS + 1):
        wait = backoff(n, 2.0)
        evs = decide_outbox(outbox, RecordAttempt(key=f"a{n}", delivery_id="d1", n=n, status_code=500,
                                                  retry_at=NOW + wait if wait else None), SYSTEM, now=NOW)
        outbox = evolve_outbox(outbox, evs[0])
        # the same attempt recorded twice (two processes, a retry) is a no-op
        assert decide_outbox(outbox, RecordAttempt(key=f"b{n}", delivery_id="d1", n=n, status_code=500),
                             SYSTEM, now=NOW) == []
    d = outbox.deliveries["d1"]
    assert d.status is DeliveryStatus.GAVE_UP and len(d.attempts) == MAX_ATTEMPTS
    with pytest.raises(DomainError):
        decide_outbox(outbox, QueueDelivery(key="q", delivery_id="d2", hook_id="h", kind="k", ref="r", body="{}"),
                      ADMIN, now=NOW)


def test_a_2xx_delivers() -> None:
    outbox = Outbox()
    for cmd in (QueueDelivery(key="q", delivery_id="d1", hook_id="h", kind="conference.opened", ref="r", body="{}"),
                RecordAttempt(key="a1", delivery_id="d1", n=1, status_code=None, error="refused",
                              retry_at=NOW + timedelta(seconds=1)),
                RecordAttempt(key="a2", delivery_id="d1", n=2, status_code=204)):
        for ev in decide_outbox(outbox, cmd, SYSTEM, now=NOW):
            outbox = evolve_outbox(outbox, ev)
    d = outbox.deliveries["d1"]
    assert d.status is DeliveryStatus.DELIVERED and [a.status_code for a in d.attempts] == [None, 204]


def test_signature_like_stripe() -> None:
    body = '{"id":"d-1","type":"conference.opened"}'
    header = signature_header(SECRET, 1_760_000_000, body)
    assert header.startswith("t=1760000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, body, now=1_760_000_010)
    assert not verify_signature(SECRET, header, body + " ", now=1_760_000_010)
    assert not verify_signature("another-secret-0123456789", header, body, now=1_760_000_010)
    assert not verify_signature(SECRET, header, body, now=1_760_000_000 + 3600)   # too old: a replay
    assert not verify_signature(SECRET, "t=abc,v1=00", body, now=1_760_000_000)
