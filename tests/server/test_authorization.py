"""The authorization matrix: every role against every WebSocket command and every REST
endpoint, allowed or refused, as the design says — through a real server.

Roles (columns):
    admin      an account with the admin right, holding no role in the conference
    chair      the conference's chair            secretary  one of its secretaries
    observer   one of its observers              norole     an account the conference does not name
    site       a site operator (join link of an invited site), acting for its own site
    other      the same site operator, naming another invited site in the command
    othersite  a join link of another conference's site
    none       no token at all

``y`` allowed (ack / 2xx), ``n`` refused (error ``forbidden`` or ``not_own_site`` / HTTP 403,
401 without a token), ``-`` does not apply (the command names no site). Each WebSocket cell
runs in a conference of its own, prepared (in-process) to the state its command needs, so
that a refusal can only be the actor's.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from ward_matrix import WARD_BODIES, WARD_FIELDS, WARD_STATES, register_department, ward_setup
from wshelp import RawPage

from scheduling import SYSTEM, Actor, parse_command
from server.app import ROUTE_TABLES
from server.protocol import ADMIN_COMMANDS
from server.service.service import utcnow
from tests.fixtures.decks import deck_pdf

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")

# -- the WebSocket: who may connect -----------------------------------------------------------

CONNECT = """
who        welcome  roles / close code
admin      y        admin
chair      y        chair
secretary  y        secretary
observer   y        observer
site       y        site
norole     n        4403
othersite  n        4403
none       n        4401
"""

# -- the WebSocket: who may send which command ------------------------------------------------

COMMANDS = """
command                 admin chair secretary observer site other   state
create_conference       y     n     n         n        n    -       scheduled
edit_conference         y     n     n         n        n    -       scheduled
invite_sites            y     n     n         n        n    -       scheduled
uninvite_sites          y     n     n         n        n    -       scheduled
schedule_conference     y     n     n         n        n    -       draft
start_rehearsal         y     y     n         n        n    -       scheduled
open_conference         n     y     n         n        n    -       scheduled
end_conference          n     y     n         n        n    -       live
cancel_conference       y     n     n         n        n    -       scheduled
add_agenda_item         y     y     y         n        n    -       scheduled
edit_agenda_item        y     y     y         n        n    -       scheduled
remove_agenda_item      y     y     y         n        n    -       scheduled
reorder_agenda          y     y     y         n        n    -       scheduled
start_item              n     y     n         n        n    -       live
finish_item             n     y     n         n        n    -       item_running
skip_item               n     y     n         n        n    -       live
reopen_item             n     y     n         n        n    -       item_done
check_in                n     y     y         n        y    n       live
open_roll_call          n     y     n         n        n    -       live
answer_roll_call        n     n     y         n        y    n       roll_call
close_roll_call         n     y     n         n        n    -       roll_call
request_floor           n     n     n         n        y    n       live
withdraw_floor_request  n     y     n         n        y    n       queued
grant_floor             n     y     n         n        n    -       queued
give_floor              n     y     n         n        n    -       live
revoke_floor            n     y     n         n        n    -       speaking
release_floor           n     y     n         n        y    n       speaking
expire_floor            n     n     n         n        n    -       speaking
set_connection          n     n     n         n        n    n       live
set_connections         n     n     n         n        n    n       live
mute_site               n     y     n         n        y    n       live
unmute_site             n     y     n         n        y    n       muted_speaker
mute_all                n     y     n         n        n    -       live
add_note                n     y     y         n        n    -       live
edit_note               n     y     y         n        n    -       note
delete_note             n     y     y         n        n    -       note
approve_minutes         n     y     n         n        n    -       ended
open_correction         n     y     y         n        n    -       approved
distribute_minutes      n     y     y         n        n    -       approved
open_minutes            n     n     n         n        y    n       distributed
acknowledge_minutes     n     n     n         n        y    n       distributed
remind_minutes          n     y     y         n        n    -       distributed
record_minutes_mail     n     n     n         n        n    -       distributed
create_action_item      n     y     y         n        n    -       live
edit_action_item        n     y     y         n        n    -       action
post_progress           n     y     y         n        y    n       action
confirm_action_done     n     y     y         n        n    -       action
reopen_action           n     y     y         n        n    -       action_done
cancel_action           n     y     y         n        n    -       action
report_readiness        n     n     n         n        y    n       scheduled
submit_recommendation   n     y     y         n        y    n       live
merge_recommendations   n     y     y         n        n    -       recs
assign_recommendation   n     y     y         n        n    -       rec_dept
mark_recommendation_for_meeting n y y         n        n    -       rec_dept
answer_recommendation   n     y     y         n        -    -       rec_assigned
decide_answer           n     y     n         n        n    -       rec_answered
give_recommendation_feedback n n    n         n        y    n       rec_answered
carry_recommendations   n     y     y         n        n    -       live
add_document            y     n     y         n        n    -       live
remove_document         y     n     y         n        n    -       document
record_document_receipt n     n     n         n        y    n       document
open_vote               n     y     n         n        n    -       live
cast_vote               n     y     y         n        y    n       vote
close_vote              n     y     n         n        n    -       vote
attach_deck             n     n     n         n        n    n       live
detach_deck             y     y     y         n        n    -       deck
allow_presenting        n     y     n         n        n    -       speaking
disallow_presenting     n     y     n         n        n    -       may_present
start_presentation      n     n     n         n        y    n       may_present
show_slide              n     n     n         n        y    n       presenting
stop_presentation       n     y     n         n        y    -       presenting
start_share             n     n     n         n        y    n       may_present
stop_share              n     y     n         n        y    -       sharing
"""

# the command's fields; SITE is the site it names (the page's own, or another for "other")
SITE, OWN, ANOTHER = "<site>", "P-AN", "P-BINH"


def fields(command: str, n: int) -> dict[str, Any]:
    later = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    return {
        "create_conference": {"conference_id": f"moi-{n}", "title": "Hội nghị mới", "starts_at": later.isoformat(),
                              "ends_at": (later + timedelta(hours=2)).isoformat(), "main_site": "TRU-SO",
                              "chair": "chutri"},
        "edit_conference": {"title": "Tên mới"},
        "invite_sites": {"codes": ["X-DUNG"]},
        "uninvite_sites": {"codes": ["X-CHAU"]},
        "cancel_conference": {"reason": "Hoãn"},
        "add_agenda_item": {"item_id": "muc-9", "title": "Mục thêm", "planned_minutes": 5},
        "edit_agenda_item": {"item_id": "muc-2", "title": "Mục 2 (sửa)"},
        "remove_agenda_item": {"item_id": "muc-3"},
        "reorder_agenda": {"order": ["muc-3", "muc-2", "muc-1"]},
        "start_item": {"item_id": "muc-1"}, "finish_item": {"item_id": "muc-1"},
        "skip_item": {"item_id": "muc-2"}, "reopen_item": {"item_id": "muc-1"},
        "check_in": {"site": SITE, "headcount": 30},
        "open_roll_call": {"round_id": "r2", "deadline": (utcnow() + timedelta(minutes=30)).isoformat()},
        "answer_roll_call": {"round_id": "r1", "site": SITE, "headcount": 28},
        "close_roll_call": {"round_id": "r1"},
        "request_floor": {"site": SITE, "topic": "Kiến nghị"},
        "withdraw_floor_request": {"site": SITE},
        "grant_floor": {"site": OWN}, "give_floor": {"site": OWN}, "revoke_floor": {"site": OWN},
        "release_floor": {"site": SITE}, "expire_floor": {"site": OWN},
        "set_connection": {"site": SITE, "connection": "offline"},
        "set_connections": {"sites": [OWN, ANOTHER], "connection": "offline"},
        "mute_site": {"site": SITE}, "unmute_site": {"site": SITE}, "mute_all": {},
        "add_note": {"note_id": "n9", "text": "Ghi chép"},
        "edit_note": {"note_id": "n1", "text": "Ghi chép (sửa)", "rev": 1},
        "delete_note": {"note_id": "n1", "rev": 1},
        "approve_minutes": {}, "open_correction": {"reason": "Sửa lỗi chính tả"},
        "distribute_minutes": {"version": 1},
        "open_minutes": {"version": 1, "site": SITE}, "acknowledge_minutes": {"version": 1, "site": SITE},
        "remind_minutes": {"version": 1},
        "record_minutes_mail": {"version": 1, "results": [{"recipient": f"site:{OWN}"}]},
        "create_action_item": {"action_id": "a9", "title": "Báo cáo", "assignees": [OWN],
                               "due": (utcnow() + timedelta(days=10)).date().isoformat()},
        "edit_action_item": {"action_id": "a1", "title": "Báo cáo (sửa)"},
        "post_progress": {"action_id": "a1", "site": SITE, "text": "Đã làm một nửa", "percent": 50},
        "confirm_action_done": {"action_id": "a1"}, "reopen_action": {"action_id": "a1"},
        "cancel_action": {"action_id": "a1"},
        "report_readiness": {"site": SITE, "camera": True, "microphone": True, "rtt_ms": 40, "bitrate_kbps": 900},
        **WARD_FIELDS,
        "attach_deck": {**DECK, "deck_id": "d-2"}, "detach_deck": {"deck_id": "d-1"},
        "allow_presenting": {"site": OWN}, "disallow_presenting": {"site": OWN},
        "start_presentation": {"site": SITE, "deck_id": "d-1"}, "show_slide": {"site": SITE, "page": 2},
        "start_share": {"site": SITE},
    }.get(command, {})


DECK = {"deck_id": "d-1", "name": "Báo cáo.pdf", "size": 4096, "pages": 3, "sha256": "ab" * 32}
DECK_PDF = deck_pdf(2)   # a real one, for the upload route (rendered once, then found by its SHA-256)
DECK_SHA = hashlib.sha256(DECK_PDF).hexdigest()

# the states a cell's conference is brought to first: (who, command, fields) after the last state
STATES: dict[str, tuple[str | None, list[tuple[str, str, dict[str, Any]]]]] = {
    "draft": (None, []),
    "scheduled": ("draft", [("admin", "schedule_conference", {})]),
    "live": ("scheduled", [("chair", "open_conference", {})]),
    "item_running": ("live", [("chair", "start_item", {"item_id": "muc-1"})]),
    "item_done": ("item_running", [("chair", "finish_item", {"item_id": "muc-1"})]),
    "roll_call": ("live", [("chair", "open_roll_call", {"round_id": "r1", "deadline": "+30m"})]),
    "queued": ("live", [(f"site:{OWN}", "request_floor", {"site": OWN}),
                        (f"site:{ANOTHER}", "request_floor", {"site": ANOTHER})]),
    "speaking": ("live", [("chair", "give_floor", {"site": OWN})]),
    "muted_speaker": ("speaking", [("chair", "mute_site", {"site": OWN})]),
    "note": ("live", [("secretary", "add_note", {"note_id": "n1", "text": "Ghi chép"})]),
    "ended": ("note", [("chair", "end_conference", {})]),
    "approved": ("ended", [("chair", "approve_minutes", {})]),
    "distributed": ("approved", [("secretary", "distribute_minutes", {"version": 1})]),
    "action": ("live", [("secretary", "create_action_item", {
        "action_id": "a1", "title": "Rà soát", "assignees": [OWN, ANOTHER], "due": "+7d"})]),
    "deck": ("live", [("secretary", "attach_deck", DECK)]),
    "may_present": ("speaking", [("secretary", "attach_deck", DECK), ("chair", "allow_presenting", {"site": OWN})]),
    "presenting": ("may_present", [(f"site:{OWN}", "start_presentation", {"site": OWN, "deck_id": "d-1"})]),
    "sharing": ("may_present", [(f"site:{OWN}", "start_share", {"site": OWN})]),
    "action_done": ("action", [("secretary", "confirm_action_done", {"action_id": "a1"})]),
    # ended with an open action item, its minutes approved and sent to the sites
    "minutes_sent": ("action", [("chair", "end_conference", {}), ("chair", "approve_minutes", {}),
                                ("secretary", "distribute_minutes", {"version": 1})]),
    **WARD_STATES,
}
ACTORS = {"admin": Actor.account("admin", admin=True), "chair": Actor.account("chutri"),
          "secretary": Actor.account("thuky"), "system": SYSTEM}


def table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = [line.split() for line in text.strip().splitlines()]
    return rows[0], rows[1:]


_n = itertools.count()


async def prepare(srv: Any, conf: str, state: str, *, series: str = "", days_later: int = 0) -> None:
    svc = srv.service
    start = utcnow().replace(microsecond=0) + timedelta(hours=1, days=days_later)

    async def run(who: str, type_: str, data: dict[str, Any]) -> None:
        data = {k: _relative(v) for k, v in data.items()}
        actor = Actor.site(who[5:]) if who.startswith("site:") else ACTORS[who]
        await svc.run_conference(conf, parse_command({"type": type_, "key": f"prep-{next(_n)}", **data}), actor)

    await run("admin", "create_conference", {
        "conference_id": conf, "title": f"Ma trận {conf}", "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(), "main_site": "TRU-SO", "chair": "chutri",
        "secretaries": ["thuky"], "observers": ["quansat"], "series": series})
    await run("admin", "invite_sites", {"codes": [OWN, ANOTHER, "X-CHAU"]})
    for i in (1, 2, 3):
        await run("admin", "add_agenda_item", {"item_id": f"muc-{i}", "title": f"Mục {i}", "planned_minutes": 10})
    chain = []
    while state is not None:
        parent, steps = STATES[state]
        chain[:0] = steps
        state = parent  # type: ignore[assignment]
    for step in chain:
        await run(*step)


def _relative(value: Any) -> Any:
    if value == "+30m":
        return (utcnow() + timedelta(minutes=30)).isoformat()
    if value == "+7d":
        return (utcnow() + timedelta(days=7)).date().isoformat()
    return value


async def try_command(srv: Any, role: str, command: str, conf: str, n: int) -> dict[str, Any]:
    if role in ("site", "other"):
        token = (await srv.service.ensure_links(conf, [OWN]))[OWN]
    else:
        token = srv.session(role)
    page = await RawPage.join(srv.base_url, conf, token)
    try:
        assert page.welcome is not None and page.welcome["type"] == "welcome", page.welcome
        data = {k: (ANOTHER if role == "other" else OWN) if v == SITE else v for k, v in fields(command, n).items()}
        reply = await page.reply_to({"type": command, "key": f"cell-{n}", **data})
        assert reply is not None
        return reply
    finally:
        await page.close()


async def test_who_may_send_which_command_over_the_websocket(server: StartServer) -> None:
    srv = await server(store="redis", seed="small")
    await register_department(srv)
    header, rows = table(COMMANDS)
    roles = header[1:-1]
    # a cell expected to be allowed gets a conference of its own (its command changes it); the
    # cells expected to be refused share one per command (a refusal changes nothing)
    cells = [(row[0], role, expected, f"m{r}" if expected == "n" else f"m{r}-{role}", row[-1])
             for r, row in enumerate(rows) for role, expected in zip(roles, row[1:-1], strict=True) if expected != "-"]
    confs = {conf: state for *_, conf, state in cells}
    for batch in range(0, len(confs), 12):
        await asyncio.gather(*(prepare(srv, conf, state) for conf, state in list(confs.items())[batch:batch + 12]))
    results: dict[tuple[str, str], dict[str, Any]] = {}

    async def one(i: int, cell: tuple[str, str, str, str, str]) -> None:
        command, role, _, conf, _ = cell
        results[(command, role)] = await try_command(srv, role, command, conf, i)

    for batch in range(0, len(cells), 12):
        await asyncio.gather(*(one(i, c) for i, c in enumerate(cells[batch:batch + 12], start=batch)))

    wrong = []
    for command, role, expected, *_ in cells:
        reply = results[(command, role)]
        allowed = reply["type"] == "ack"
        refused_for_role = reply["type"] == "error" and reply["code"] in ("forbidden", "not_own_site")
        if not ((expected == "y" and allowed) or (expected == "n" and refused_for_role)):
            wrong.append(f"{command:<24} {role:<10} expected {expected}, got {json.dumps(reply, ensure_ascii=False)}")
    assert not wrong, "\n".join(wrong)
    # every conference command of the domain is in the table
    from scheduling import COMMANDS as ALL
    conference_commands = {c.TYPE for c in ALL.values() if c not in ADMIN_COMMANDS}
    assert conference_commands == {row[0] for row in rows}


async def test_who_may_connect_to_a_conference(server: StartServer) -> None:
    srv = await server(seed="small")
    tokens = {role: srv.session(role) for role in ("admin", "chair", "secretary", "observer", "norole")}
    tokens["site"] = await srv.site_token(OWN)
    tokens["othersite"] = await srv.site_token(srv.seeded.other_site, srv.seeded.other_conference)
    tokens["none"] = ""
    _, rows = table(CONNECT)
    for who, expected, detail in rows:
        page = await RawPage.join(srv.base_url, srv.conference, tokens[who] or None)
        try:
            assert page.welcome is not None
            if expected == "y":
                assert page.welcome["type"] == "welcome" and page.welcome["you"]["roles"] == [detail], who
            else:
                assert page.welcome["type"] == "error", who
                assert await page.wait_closed() == int(detail), who
        finally:
            await page.close()


# -- the REST API ----------------------------------------------------------------------------------

REST = """
method path                                           admin chair secretary observer norole site othersite none
POST   /api/v1/session                                y     y     y         y        y      y    y         y
GET    /api/v1/session                                y     y     y         y        y      n    n         n
DELETE /api/v1/session                                y     y     y         y        y      y    y         y
GET    /api/v1/sites                                  y     y     y         y        y      n    n         n
GET    /api/v1/sites.csv                              y     y     y         y        y      n    n         n
POST   /api/v1/sites                                  y     n     n         n        n      n    n         n
PUT    /api/v1/sites/X-DUNG                           y     n     n         n        n      n    n         n
DELETE /api/v1/sites/X-XOA<n>                         y     n     n         n        n      n    n         n
POST   /api/v1/sites/import                           y     n     n         n        n      n    n         n
GET    /api/v1/accounts                               y     n     n         n        n      n    n         n
POST   /api/v1/accounts                               y     n     n         n        n      n    n         n
PATCH  /api/v1/accounts/khach                         y     n     n         n        n      n    n         n
GET    /api/v1/conferences                            y     y     y         y        y      n    n         n
POST   /api/v1/conferences                            y     n     n         n        n      n    n         n
GET    /api/v1/conferences/hop-nho                    y     y     y         y        n      y    n         n
POST   /api/v1/conferences/hop-nho/commands#agenda    y     y     y         n        n      n    n         n
POST   /api/v1/conferences/hop-nho/commands#floor     n     n     n         n        n      y    n         n
GET    /api/v1/conferences/hop-nho/events             y     y     y         y        n      n    n         n
GET    /api/v1/conferences/hop-nho/recordings         y     y     y         y        n      n    n         n
GET    /api/v1/conferences/hop-nho/links              y     n     n         n        n      n    n         n
POST   /api/v1/conferences/hop-nho/links/X-CHAU/revoke  y   n     n         n        n      n    n         n
POST   /api/v1/conferences/hop-nho/links/X-CHAU/reissue y   n     n         n        n      n    n         n
GET    /api/v1/actions                                y     y     y         y        y      y    y         n
GET    /api/v1/openapi.json                           y     y     y         y        y      y    y         y
GET    /api/v1/actions.csv                            y     y     y         y        y      y    y         n
GET    /api/v1/actions.xlsx                           y     y     y         y        y      y    y         n
GET    /api/v1/actions.ics                            y     y     y         y        y      y    y         n
GET    /api/v1/conferences/mt-min/minutes             y     y     y         y        n      n    n         n
GET    /api/v1/conferences/mt-min/minutes/content     y     y     y         y        n      n    n         n
GET    /api/v1/conferences/mt-min/minutes/1.html      y     y     y         y        n      y    n         n
GET    /api/v1/conferences/mt-min/minutes/draft.html  y     y     y         y        n      n    n         n
GET    /api/v1/conferences/mt-min/minutes/1/receipts.csv  y y     y         y        n      n    n         n
GET    /api/v1/conferences/mt-min/invite.ics          y     y     y         y        n      y    n         n
GET    /api/v1/conferences/mt-next/follow-up          y     y     y         y        n      n    n         n
POST   /api/v1/conferences/mt-next/follow-up          y     y     y         n        n      n    n         n
POST   /api/v1/accounts/quansat/password              y     n     n         y        n      n    n         n
GET    /api/v1/audit/streams                          y     n     n         n        n      n    n         n
GET    /api/v1/audit                                  y     n     n         n        n      n    n         n
GET    /api/v1/audit.csv                              y     n     n         n        n      n    n         n
POST   /api/v1/conferences/hop-nho/files?name=a.pdf   y     y     y         n        n      y    n         n
POST   /api/v1/conferences/hop-nho/documents?name=a.pdf  y  n     y         n        n      n    n         n
GET    /api/v1/conferences/hop-nho/documents          y     y     y         y        n      y    n         n
GET    /api/v1/conferences/hop-nho/documents/tai-lieu y     y     y         y        n      y    n         n
GET    /api/v1/conferences/hop-nho/files/<sha>        y     y     y         y        n      y    n         n
GET    /api/v1/conferences/mt-next/recommendations/carry  y y     y         y        n      n    n         n
POST   /api/v1/conferences/mt-next/recommendations/carry  n y     y         n        n      n    n         n
GET    /api/v1/recommendations                        y     y     y         y        y      y    y         n
GET    /api/v1/recommendations.csv                    y     y     y         y        y      y    y         n
GET    /api/v1/recommendations.xlsx                   y     y     y         y        y      y    y         n
GET    /api/v1/recommendation-fields                  y     y     y         y        y      y    y         n
PUT    /api/v1/recommendation-fields                  y     n     n         n        n      n    n         n
GET    /api/v1/organisation                           y     y     y         y        y      n    n         n
PUT    /api/v1/organisation                           y     n     n         n        n      n    n         n
POST   /api/v1/conferences/hop-nho/decks              y     y     y         n        n      n    n         n
GET    /api/v1/conferences/hop-nho/decks              y     y     y         y        n      y    n         n
GET    /api/v1/decks/<sha>/640/1.webp                 y     y     y         y        y      y    y         y
GET    /api/v1/webhooks                               y     n     n         n        n      n    n         n
POST   /api/v1/webhooks                               y     n     n         n        n      n    n         n
PATCH  /api/v1/webhooks/h0                            y     n     n         n        n      n    n         n
GET    /api/v1/webhooks/deliveries                    y     n     n         n        n      n    n         n
DELETE /api/v1/webhooks/h0                            y     n     n         n        n      n    n         n
"""

# the body each route gets (<n>: a number unique to the cell)
BODIES: dict[str, Any] = {
    "POST /api/v1/session": {"account": "chutri", "password": "<password>"},
    "POST /api/v1/sites": {"code": "X-MOI<n>", "name": "Xã Mới <n>", "parent": "Khu vực 9"},
    "PUT /api/v1/sites/X-DUNG": {"name": "Xã Dũng (<n>)", "parent": "Khu vực 2"},
    "POST /api/v1/sites/import": "code,name,parent,kind,expected_headcount\nX-NHAP<n>,Xã Nhập <n>,Khu vực 9,remote,20\n",
    "POST /api/v1/accounts": {"account_id": "moi<n>", "name": "Tài khoản <n>", "password": "mat-khau-moi-<n>"},
    "PATCH /api/v1/accounts/khach": {"name": "Khách <n>"},
    "POST /api/v1/conferences": {"conference_id": "moi-<n>", "title": "Hội nghị <n>", "starts_at": "<later>",
                                 "ends_at": "<later2>", "main_site": "TRU-SO", "chair": "chutri"},
    "POST /api/v1/conferences/hop-nho/commands#agenda": {"type": "add_agenda_item", "item_id": "them-<n>",
                                                          "title": "Mục thêm <n>", "planned_minutes": 5},
    "POST /api/v1/conferences/hop-nho/commands#floor": {"type": "request_floor", "site": "P-AN"},
    "POST /api/v1/accounts/quansat/password": {"password": "<password>", "current_password": "<password>"},
    "POST /api/v1/conferences/mt-next/follow-up": {"item_id": "xem-lai-<n>"},
    **WARD_BODIES,
    "PUT /api/v1/organisation": {"issuing_body": "Văn phòng <n>", "symbol": "BB-VP<n>"},
    "POST /api/v1/conferences/hop-nho/decks": DECK_PDF,
    "POST /api/v1/webhooks": {"hook_id": "h<n>", "url": "http://127.0.0.1:9/hook", "secret": "bi-mat-webhook-<n>-0123",
                              "events": ["conference.ended"]},
    "PATCH /api/v1/webhooks/h0": {"active": False},
}


def _fill(body: Any, n: int, password: str) -> Any:
    later = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    text = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
    text = (text.replace("<n>", str(n)).replace("<password>", password).replace("<later>", later.isoformat())
            .replace("<later2>", (later + timedelta(hours=2)).isoformat()))
    return text if isinstance(body, str) else json.loads(text)


async def test_who_may_call_which_rest_endpoint(server: StartServer) -> None:
    srv = await server(seed="small")
    svc = srv.service
    await srv.go_live()
    admin = Actor.account("admin", admin=True)
    header, rows = table(REST)
    roles = header[2:]
    from scheduling import RegisterSite, SiteInfo
    for i in range(len(roles)):
        await svc.run_directory(RegisterSite(key=f"xoa-{i}", site=SiteInfo(code=f"X-XOA{i}", name=f"Xã Xoá {i}")), admin)
    await svc.ensure_links("hop-nho", ["X-CHAU"])
    sha = await ward_setup(srv)   # a document and a recommendation's attachment in hop-nho
    # a series: mt-min has ended with an open action item and its minutes sent to the sites;
    # mt-next, a week later, may review that item (follow-up)
    await prepare(srv, "mt-min", "minutes_sent", series="quy")
    await prepare(srv, "mt-next", "scheduled", series="quy", days_later=7)
    sites = {conf: await srv.site_token(OWN, conf) for conf in ("hop-nho", "mt-min", "mt-next")}
    othersite = await srv.site_token(srv.seeded.other_site, srv.seeded.other_conference)

    sessions: dict[str, str] = {}

    def token(role: str, path: str) -> str | None:
        if role == "site":    # a join link of an invited site of the conference in the path
            return sites[next((c for c in sites if f"/{c}" in path), "hop-nho")]
        if role == "othersite":
            return othersite
        if role == "none":
            return None
        if role not in sessions:
            srv._sessions.pop(srv.seeded.accounts[role], None)     # a password change ends sessions
            sessions[role] = srv.session(role)
        return sessions[role]

    wrong = []
    async with aiohttp.ClientSession() as http:
        for method, path, *expected in rows:
            route = f"{method} {path}"
            for i, (role, want) in enumerate(zip(roles, expected, strict=True)):
                url = srv.base_url + path.split("#")[0].replace("<n>", str(i)).replace(
                    "<sha>", DECK_SHA if "/decks/" in path else sha)
                tok = token(role, path)
                headers = {"Authorization": f"Bearer {tok}"} if tok else {}
                body = BODIES.get(route)
                kwargs: dict[str, Any] = {}
                if isinstance(body, tuple):   # a file: (content type, bytes)
                    kwargs["data"] = body[1]
                    headers["Content-Type"] = body[0]
                elif isinstance(body, bytes):
                    kwargs["data"] = body
                    headers["Content-Type"] = "application/pdf"
                elif isinstance(body, str):
                    kwargs["data"] = _fill(body, i, srv.seeded.password).encode()
                    headers["Content-Type"] = "text/csv"
                elif body is not None:
                    kwargs["json"] = {**_fill(body, i, srv.seeded.password), "key": f"rest-{next(_n)}"}
                async with http.request(method, url, headers=headers, **kwargs) as resp:
                    status = resp.status
                    text = (await resp.read()).decode("utf-8", "replace")
                ok = 200 <= status < 300
                if ok and path.endswith("/password"):
                    sessions.pop("observer", None)     # a new password ends quansat's sessions
                if ok and route == "DELETE /api/v1/session":
                    sessions.pop(role, None)           # signed out: that session has ended
                refused = status == (401 if role == "none" else 403)
                if not ((want == "y" and ok) or (want == "n" and refused)):
                    wrong.append(f"{route:<58} {role:<10} expected {want}, got {status} {text[:160]}")
    assert not wrong, "\n".join(wrong)
    # every API route is in the table
    in_table = {(m, p.split("#")[0].split("?")[0]) for m, p, *_ in rows}
    for r in (r for table in ROUTE_TABLES for r in table.routes):
        assert any(m == r.method and _same_route(p, r.path) for m, p in in_table), f"{r.method} {r.path} not in REST"


def _same_route(concrete: str, pattern: str) -> bool:
    a, b = concrete.split("/"), pattern.split("/")
    return len(a) == len(b) and all(x == y or y.startswith("{") for x, y in zip(a, b, strict=True))


async def test_a_site_reads_only_its_own_action_items(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    due = (utcnow() + timedelta(days=5)).date().isoformat()
    for i, assignees in enumerate(([OWN], [ANOTHER], [OWN, ANOTHER])):
        await srv.run("secretary", "create_action_item", action_id=f"a{i}", title=f"Việc {i}", assignees=assignees,
                      due=due)
    mine = await srv.api(await srv.site_token(OWN)).call("GET", f"/actions?site={ANOTHER}")   # the filter is ignored
    assert {a["action_id"] for a in mine["actions"]} == {"a0", "a2"}
    staff = await srv.api(srv.session("chair")).call("GET", f"/actions?site={ANOTHER}")
    assert {a["action_id"] for a in staff["actions"]} == {"a1", "a2"}
