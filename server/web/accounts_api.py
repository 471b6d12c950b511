"""The REST API of sessions and accounts: sign in and out, who is signed in, the accounts
(admin), passwords."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from scheduling import ChangePassword, CreateAccount, UpdateAccount
from scheduling.codec import from_plain

from ..service.identity import SESSION_DAYS
from ..service.keys import COOKIE
from ..service.security import MAX_PASSWORD, MIN_PASSWORD, hash_password, verify_password
from .http import (
    ApiError,
    ack,
    actor_of,
    command_key,
    json_body,
    ok,
    service_of,
    text_field,
    token_of,
)
from .routes import RouteTable

routes = RouteTable()


# -- session -------------------------------------------------------------------------------

@routes.route("POST", "/session", "Sign in with an account and password; sets the session cookie (after too many "
       "failed sign-ins: 429 too_many_sign_ins, Retry-After)", auth="none", limited=True)
async def login(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    account = text_field(body, "account", max_len=64)
    password = text_field(body, "password", max_len=MAX_PASSWORD)
    svc = service_of(request)
    token = await svc.identity.sign_in(account, password, request.remote or "")
    actor = svc.identity.session_actor(token)
    resp = ok({"account": actor.id, "admin": actor.admin, "token": token, "csrf": svc.identity.signer.csrf_for(token)})
    _set_session_cookie(resp, request, token)
    return resp


@routes.route("GET", "/session", "Who is signed in, and the CSRF token for writes")
async def session(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    svc = service_of(request)
    acc = svc.accounts.state.accounts.get(actor.id)
    token = request.cookies.get(COOKIE, "")
    return ok({"account": actor.id, "name": acc.name if acc else actor.id, "admin": actor.admin,
               "csrf": svc.identity.signer.csrf_for(token) if token else None})


@routes.route("DELETE", "/session", "Sign out: the session ends on the server (its token is refused from now on, "
              "by every process, after a restart too) and the cookie is dropped", auth="none")
async def logout(request: web.Request) -> web.StreamResponse:
    svc = service_of(request)
    token, _ = token_of(request)
    ending = svc.identity.end_session_command(token, f"rest-{uuid.uuid4().hex}") if token else None
    if ending is not None:
        await svc.run_accounts(*ending)
    resp = ok({"signed_out": True, "ended": ending is not None})
    resp.del_cookie(COOKIE, path="/")
    return resp


def _set_session_cookie(resp: web.Response, request: web.Request, token: str) -> None:
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax", max_age=SESSION_DAYS * 86400, path="/",
                    secure=service_of(request).config.base_url.startswith("https://"))


# -- accounts ------------------------------------------------------------------------------

@routes.route("GET", "/accounts", "Accounts", auth="admin")
async def list_accounts(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    if not actor.admin:
        raise ApiError("forbidden", "only an admin may list accounts")
    return ok({"accounts": [{"account_id": a.account_id, "name": a.name, "email": a.email, "admin": a.admin,
                             "disabled": a.disabled} for a in service_of(request).accounts.state.accounts.values()]})


async def _password(body: dict[str, Any]) -> str:
    password = text_field(body, "password", max_len=MAX_PASSWORD)
    if len(password) < MIN_PASSWORD:
        raise ApiError("bad_request", f"password: at least {MIN_PASSWORD} characters")
    return await asyncio.to_thread(hash_password, password)   # argon2 off the event loop


@routes.route("POST", "/accounts", "Create an account {account_id, name, email, admin, password}", auth="admin")
async def create_account(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = from_plain(CreateAccount, {**{k: v for k, v in body.items() if k != "password"},
                                     "key": command_key(body), "password_hash": await _password(body)})
    return ok(ack(await service_of(request).run_accounts(cmd, actor)), status=201)


@routes.route("PATCH", "/accounts/{account_id}", "Change an account's name, e-mail, admin right or disabled flag", auth="admin")
async def update_account(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = from_plain(UpdateAccount, {**body, "key": command_key(body), "account_id": request.match_info["account_id"]})
    return ok(ack(await service_of(request).run_accounts(cmd, actor)))


@routes.route("POST", "/accounts/{account_id}/password", "Set a password {password, current_password}: one's own "
              "needs the current one and ends every other session (the answer carries this one's new token and "
              "CSRF token); an admin sets another account's without it")
async def set_password(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    svc = service_of(request)
    account_id = request.match_info["account_id"]
    own = actor.id == account_id
    if own:
        current = text_field(body, "current_password", max_len=MAX_PASSWORD)
        acc = svc.accounts.state.get(account_id)
        if not await asyncio.to_thread(verify_password, acc.password_hash, current):   # argon2 off the loop
            raise ApiError("bad_credentials", "current_password: wrong password")
    cmd = ChangePassword(key=command_key(body), account_id=account_id, password_hash=await _password(body))
    out = await svc.run_accounts(cmd, actor)
    if not own:
        return ok(ack(out))
    # the change ended every session of the account, this one too: it goes on with a new one
    token = svc.identity.new_session(svc.accounts.state.get(account_id))
    resp = ok({**ack(out), "token": token, "csrf": svc.identity.signer.csrf_for(token)})
    if token_of(request)[1]:
        _set_session_cookie(resp, request, token)
    return resp
