"""Failed sign-ins are limited per (client address, account) and per address: past the limit
POST /api/v1/session answers 429 ``too_many_sign_ins`` with Retry-After, without checking the
password, until the window has passed; a success clears the account's failures; other
accounts and addresses are not held up; the tables stay bounded. The clock is a fake one
that the tests move: nothing sleeps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from server.service.security import SignInLimiter

StartServer = Callable[..., Awaitable[Any]]
WRONG = "khong-phai-mat-khau"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- the limiter itself ------------------------------------------------------------------------

def fail(limiter: SignInLimiter, address: str, account: str, times: int) -> None:
    for n in range(times):
        assert limiter.begin(address, account) is None, f"attempt {n + 1} refused"


def test_the_sixth_failure_in_the_window_is_refused_until_the_window_has_passed() -> None:
    clock = Clock()
    limiter = SignInLimiter(per_account=5, per_address=20, window_s=300, clock=clock)
    fail(limiter, "10.0.0.1", "chutri", 5)
    clock.advance(100)
    refusal = limiter.begin("10.0.0.1", "chutri")
    assert refusal is not None and (refusal.limit, refusal.retry_after) == ("account", 200)
    assert "'chutri'" in refusal.message and "10.0.0.1" in refusal.message and "5 within 300 s" in refusal.message
    clock.advance(199.5)
    assert limiter.begin("10.0.0.1", "chutri").retry_after == 1      # type: ignore[union-attr]
    clock.advance(0.5)
    assert limiter.begin("10.0.0.1", "chutri") is None               # a new window


def test_a_success_clears_the_accounts_failures_and_is_not_counted_against_the_address() -> None:
    limiter = SignInLimiter(per_account=5, per_address=8, clock=Clock())
    fail(limiter, "10.0.0.1", "chutri", 4)
    assert limiter.begin("10.0.0.1", "chutri") is None
    limiter.succeeded("10.0.0.1", "chutri")
    assert len(limiter.pairs) == 0
    fail(limiter, "10.0.0.1", "chutri", 4)             # 4 + 4 failures from the address: its 8 (the success is not one)
    refusal = limiter.begin("10.0.0.1", "chutri")
    assert refusal is not None and refusal.limit == "address"


def test_the_address_limit_counts_every_account_and_spares_other_addresses() -> None:
    limiter = SignInLimiter(per_account=5, per_address=20, window_s=300, clock=Clock())
    for n in range(20):
        fail(limiter, "10.0.0.1", f"tk{n}", 1)
    refusal = limiter.begin("10.0.0.1", "chutri")
    assert refusal is not None and refusal.limit == "address" and "whatever the account" in refusal.message
    assert limiter.begin("10.0.0.2", "chutri") is None


def test_the_tables_stay_bounded_and_drop_expired_windows() -> None:
    clock = Clock()
    limiter = SignInLimiter(per_account=5, per_address=20, window_s=300, max_entries=50, clock=clock)
    for n in range(1000):
        fail(limiter, f"10.0.{n // 250}.{n % 250}", f"tk{n}", 1)
        assert len(limiter.pairs) <= 50 and len(limiter.addresses) <= 50
    assert len(limiter.pairs) == len(limiter.addresses) == 50
    clock.advance(300)
    fail(limiter, "10.9.9.9", "chutri", 1)
    assert len(limiter.pairs) == len(limiter.addresses) == 1


def test_attempts_sent_together_are_counted_before_their_passwords_are_checked() -> None:
    limiter = SignInLimiter(per_account=5, per_address=20, clock=Clock())
    started = [limiter.begin("10.0.0.1", "chutri") for _ in range(8)]     # none has finished yet
    assert started[:5] == [None] * 5 and all(r is not None and r.limit == "account" for r in started[5:])


# -- through the server --------------------------------------------------------------------------

async def sign_in(srv: Any, account: str, password: str, source: str = "127.0.0.1") -> tuple[int, Any, str | None]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as http, \
            http.post(srv.base_url + "/api/v1/session", data=json.dumps({"account": account, "password": password}),
                      headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json(), resp.headers.get("Retry-After")


def count_password_checks(service: Any) -> list[str]:
    """Spy on Identity.login (the argon2 check): the accounts whose password was checked."""
    checked: list[str] = []
    real = service.identity.login

    def login(account: str, password: str) -> str:
        checked.append(account)
        return str(real(account, password))
    service.identity.login = login
    return checked


async def test_the_sixth_wrong_sign_in_gets_429_even_with_the_right_password(server: StartServer) -> None:
    srv = await server(seed="small")
    clock = Clock()
    srv.service.identity.sign_in_limits = SignInLimiter(clock=clock)
    checked = count_password_checks(srv.service)
    for _ in range(5):
        status, body, _ = await sign_in(srv, "chutri", WRONG)
        assert (status, body["error"]["code"]) == (401, "bad_credentials")
    clock.advance(60)
    status, body, retry_after = await sign_in(srv, "chutri", srv.seeded.password)
    assert (status, body["error"]["code"], retry_after) == (429, "too_many_sign_ins", "240")
    assert "'chutri'" in body["error"]["message"] and "5 within 300 s" in body["error"]["message"]
    assert checked == ["chutri"] * 5                     # the sixth password was not checked

    # other accounts from this address, and this account from another address, sign in
    status, body, _ = await sign_in(srv, "thuky", srv.seeded.password)
    assert status == 200 and body["account"] == "thuky"
    status, body, _ = await sign_in(srv, "chutri", srv.seeded.password, source="127.0.0.2")
    assert status == 200 and body["account"] == "chutri"

    clock.advance(240)                                   # the window has passed
    status, body, _ = await sign_in(srv, "chutri", srv.seeded.password)
    assert status == 200 and body["account"] == "chutri" and body["token"]
    for _ in range(5):                                   # the success cleared the failures
        assert (await sign_in(srv, "chutri", WRONG))[0] == 401
    assert (await sign_in(srv, "chutri", WRONG))[0] == 429


async def test_wrong_sign_ins_sent_all_at_once_check_at_most_the_limit(server: StartServer) -> None:
    srv = await server(seed="small")
    srv.service.identity.sign_in_limits = SignInLimiter(clock=Clock())
    checked = count_password_checks(srv.service)
    answers = await asyncio.gather(*(sign_in(srv, "chutri", WRONG) for _ in range(8)))
    assert sorted(status for status, _, _ in answers) == [401] * 5 + [429] * 3
    assert len(checked) == 5


async def test_the_openapi_document_lists_429_for_sign_in(server: StartServer) -> None:
    srv = await server(seed="small")
    doc = await srv.api().call("GET", "/openapi.json")
    limited = doc["paths"]["/api/v1/session"]["post"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
    assert "429" not in doc["paths"]["/api/v1/session"]["delete"]["responses"]

    limits = srv.service.identity.sign_in_limits               # the service's own, as docs/operations.md says
    assert (limits.pairs.limit, limits.addresses.limit, limits.pairs.window_s) == (5, 20, 300.0)
