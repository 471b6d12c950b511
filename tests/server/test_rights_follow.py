"""An open page follows its actor's current rights: a change of rights (password changed,
account disabled, signed out, secretary removed, site uninvited, join link revoked) closes
the affected pages within a second with 4410 ``session_ended``, and nothing more reaches
them; a change that leaves the actor's roles whole leaves the page alone. Real WebSocket
pages against a served app (and two apps sharing one Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from wshelp import RawPage, eventually

from scheduling import Actor, ChangePassword, RevokeLink, UpdateAccount
from server.errors import WS_CLOSE_MEANINGS, WS_CLOSE_SESSION_ENDED

StartServer = Callable[..., Awaitable[Any]]
ADMIN = Actor.account("admin", admin=True)


async def _closed_within(page: RawPage, seconds: float) -> tuple[int | None, float, list[dict[str, Any]]]:
    """Wait for the server to close ``page``: (close code, seconds it took, messages meanwhile)."""
    started = time.monotonic()
    before = len(page.others)
    code = await page.wait_closed(timeout=seconds + 2)
    return code, time.monotonic() - started, page.others[before:]


def _ended(code: int | None, took: float, said: list[dict[str, Any]], why: str = "session_ended") -> bool:
    return code == WS_CLOSE_SESSION_ENDED and took < 1.0 and \
        any(m.get("type") == "error" and m.get("code") == why and m.get("ref") == "hello" for m in said)


async def test_the_close_code_is_documented() -> None:
    assert "session ended" in WS_CLOSE_MEANINGS[WS_CLOSE_SESSION_ENDED]


async def test_a_secretary_removed_from_the_conference_is_closed_and_gets_no_more_notes(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    chair = await RawPage.join(srv.base_url, srv.conference, srv.session("chair"))
    try:
        assert page.welcome is not None and page.welcome["type"] == "welcome"
        first = await srv.run("chair", "add_note", note_id="n1", text="Ghi chép nội bộ 1")
        await page.wait_event(first.seq)                      # a secretary reads the notes, unredacted
        assert page.events[-1]["event"]["type"] == "note_added"
        removed = await srv.run("admin", "edit_conference", secretaries=[])
        code, took, said = await _closed_within(page, 1.0)
        assert _ended(code, took, said), (code, took, said)
        later = await srv.run("chair", "add_note", note_id="n2", text="Ghi chép nội bộ 2")
        await chair.wait_event(later.seq)
        assert max(e["seq"] for e in page.events) <= removed.seq   # nothing after the removal reached it
        # and the same session cannot come back into the conference
        again = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
        assert again.welcome is not None and again.welcome["code"] == "forbidden"
        await again.close()
    finally:
        await page.close()
        await chair.close()


async def test_a_change_that_keeps_the_roles_keeps_the_page(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    site = srv.seeded.sites[0]
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site))
    try:
        await srv.run("admin", "invite_sites", codes=[srv.seeded.other_site])   # the roster moves...
        await srv.run("admin", "edit_conference", observers=["quansat", "khach"])
        reply = await page.reply_to({"type": "check_in", "key": "ci-1", "site": site, "headcount": 7})
        assert reply is not None and reply["type"] == "ack"                    # ...this page goes on
        assert not page.ws.closed
    finally:
        await page.close()


async def test_a_page_that_loses_one_of_its_roles_goes_on_with_the_others(server: StartServer) -> None:
    """An observer who was also a secretary loses the secretary role: its open page is not
    closed but told (``roles_changed``), welcomed again with a snapshot for what it still is,
    refused what only a secretary may do, and still follows the conference."""
    srv = await server(seed="small")
    await srv.go_live()
    await srv.run("admin", "edit_conference", secretaries=["thuky", "quansat"])
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("observer"))
    try:
        assert page.welcome is not None and page.welcome["you"]["roles"] == ["observer", "secretary"]
        reply = await page.reply_to({"type": "add_note", "key": "n-1", "note_id": "n1", "text": "Ghi chép của thư ký"})
        assert reply is not None and reply["type"] == "ack"
        removed = await srv.run("admin", "edit_conference", secretaries=["thuky"])
        started = time.monotonic()
        told, again = await page.next_other(timeout=1.0), await page.next_other(timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert told is not None and told["type"] == "error" and told["code"] == "roles_changed", told
        assert "secretary" in told["message"]
        assert again is not None and again["type"] == "welcome", again
        assert again["you"]["roles"] == ["observer"] and again["seq"] >= removed.seq
        assert again["snapshot"] is not None and again["snapshot"]["seq"] == again["seq"]
        assert "n1" in again["snapshot"]["notes"]                     # an observer is staff: it still sees notes
        refused = await page.reply_to({"type": "add_note", "key": "n-2", "note_id": "n2", "text": "Không được nữa"})
        assert refused is not None and refused["type"] == "error" and refused["code"] == "forbidden", refused
        later = await srv.run("chair", "add_note", note_id="n3", text="Ghi chép của chủ trì")
        await page.wait_event(later.seq)                              # it still follows the conference
        assert not page.ws.closed
    finally:
        await page.close()


async def test_a_page_that_loses_its_last_role_is_still_closed(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("observer"))
    try:
        await srv.run("admin", "edit_conference", observers=[])
        code, took, said = await _closed_within(page, 1.0)
        assert _ended(code, took, said), (code, took, said)
        assert not any(m.get("type") == "welcome" for m in said)
    finally:
        await page.close()


@pytest.mark.parametrize("change", ["password", "disabled", "sign_out"])
async def test_an_account_whose_session_ends_is_closed_within_a_second(server: StartServer, change: str) -> None:
    srv = await server(seed="small")
    token = srv.session("chair")
    page = await RawPage.join(srv.base_url, srv.conference, token)
    try:
        assert page.welcome is not None and page.welcome["type"] == "welcome"
        if change == "password":
            hashed = srv.service.accounts.state.accounts["chutri"].password_hash
            await srv.service.run_accounts(ChangePassword(key="pw-1", account_id="chutri", password_hash=hashed),
                                           ADMIN)
        elif change == "disabled":
            await srv.service.run_accounts(UpdateAccount(key="off-1", account_id="chutri", disabled=True), ADMIN)
        else:
            async with aiohttp.ClientSession() as http, http.delete(
                    srv.base_url + "/api/v1/session", headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200 and (await resp.json())["ended"] is True
        code, took, said = await _closed_within(page, 1.0)
        assert _ended(code, took, said), (change, code, took, said)
        again = await RawPage.join(srv.base_url, srv.conference, token)      # the token is dead
        assert again.welcome is not None and again.welcome["code"] == "token_revoked"
        assert await again.wait_closed() == 4401
        await again.close()
    finally:
        await page.close()


@pytest.mark.parametrize("change", ["uninvited", "revoked", "reissued"])
async def test_a_site_page_is_closed_when_its_site_loses_the_conference(server: StartServer, change: str) -> None:
    srv = await server(seed="small")
    site = srv.seeded.sites[1]
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site))
    other = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(srv.seeded.sites[2]))
    try:
        if change == "uninvited":
            await srv.run("admin", "uninvite_sites", codes=[site])
        elif change == "revoked":
            await srv.service.run_links(RevokeLink(key="rv-1", conference_id=srv.conference, site=site), ADMIN)
        else:
            api = srv.api(srv.session("admin"))
            await api.call("POST", f"/conferences/{srv.conference}/links/{site}/reissue")
        code, took, said = await _closed_within(page, 1.0)
        why = "session_ended" if change == "uninvited" else "token_revoked"   # a site is told of its link
        assert _ended(code, took, said, why), (change, code, took, said)
        reply = await other.reply_to({"type": "ping", "t": 1})              # the other site is left alone
        assert reply is not None and reply["type"] == "pong" and not other.ws.closed
    finally:
        await page.close()
        await other.close()


async def test_a_command_is_checked_against_the_rights_of_now(server: StartServer) -> None:
    """The generations are compared on each command: a command sent right after the change,
    before the page is closed, is not decided for the old rights."""
    srv = await server(seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    try:
        await srv.run("admin", "edit_conference", secretaries=[])
        await page.send({"type": "add_note", "key": "late-1", "note_id": "late", "text": "Sau khi bị loại"})
        await page.wait_closed(timeout=3)
        assert not any(m.get("type") == "ack" for m in page.others)
        assert "late" not in srv.state().notes
    finally:
        await page.close()


async def test_a_change_made_through_another_process_closes_the_page(server: StartServer, redis_url: str) -> None:
    a = await server(store="redis", redis=redis_url, seed="small")
    b = await server(store="redis", redis=redis_url, seed="small")      # finds the seed in Redis
    token = a.session("observer")
    page = await RawPage.join(b.base_url, b.conference, token)           # one signing key: A's token on B
    try:
        assert page.welcome is not None and page.welcome["type"] == "welcome"
        async with aiohttp.ClientSession() as http, http.delete(
                a.base_url + "/api/v1/session", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
        code = await page.wait_closed(timeout=5)
        assert code == WS_CLOSE_SESSION_ENDED
        await eventually(lambda: b.service.identity.end_session_command(token, "probe") is None)
    finally:
        await page.close()
    await asyncio.sleep(0)


async def test_each_command_compares_the_generations_even_when_no_one_told_the_page(server: StartServer) -> None:
    """The safety net under the listeners: with them silenced (a change the page was not told
    of), the next command still finds its stamp out of date, re-checks, and is not decided."""
    srv = await server(seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    try:
        srv.service.rights.listeners.clear()                  # nobody re-checks open pages now
        await srv.run("admin", "edit_conference", secretaries=[])
        reply = await page.reply_to({"type": "ping", "t": 1})
        assert reply is not None and reply["type"] == "pong"   # still open: not told
        await page.send({"type": "add_note", "key": "late-2", "note_id": "late2", "text": "Sau khi bị loại"})
        code, took, said = await _closed_within(page, 1.0)
        assert _ended(code, took, said), (code, took, said)
        assert "late2" not in srv.state().notes and not any(m.get("type") == "ack" for m in page.others)
    finally:
        await page.close()
