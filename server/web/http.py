"""Helpers of the HTTP edge: who is asking, JSON bodies, commands' keys and acks, and errors
as JSON."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
from aiohttp import web

from scheduling import Actor, DomainError

from ..errors import ApiError, http_status
from ..service.hub import Outcome
from ..service.identity import AuthError
from ..service.keys import COOKIE, SERVICE
from ..service.service import Service
from ..store import StoreError

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_decoder = msgspec.json.Decoder()
ERROR_CODE: web.ResponseKey[str] = web.ResponseKey("error_code", str)   # an error answer's code, for the metrics


def error_response(code: str, message: str, *, retry_after: int | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    resp = web.json_response({"error": {"code": code, "message": message}}, status=http_status(code),
                             headers=headers, dumps=_dumps)
    resp[ERROR_CODE] = code
    return resp


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except DomainError as exc:
        return error_response(str(exc.code), exc.message)
    except AuthError as exc:
        return error_response(exc.code, exc.message, retry_after=exc.retry_after)
    except ApiError as exc:
        return error_response(exc.code, exc.message)
    except web.HTTPRequestEntityTooLarge:
        return error_response("too_large", "the request body is too large")
    except UnicodeDecodeError:   # a text body (CSV) that is not UTF-8
        return error_response("bad_request", "the body is not valid UTF-8 text")
    except StoreError:   # the event store is down: nothing was recorded
        return error_response("busy", "the server cannot record changes now: try again")


def token_of(request: web.Request) -> tuple[str, bool]:
    """The request's token and whether it came from the cookie (which needs a CSRF check)."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip(), False
    return request.cookies.get(COOKIE, ""), True


def actor_of(request: web.Request, conf_id: str | None = None) -> Actor:
    """Who sends this request: an account (session) or a site (join-link token)."""
    service = request.app[SERVICE]
    token, from_cookie = token_of(request)
    if not token:
        raise AuthError("unauthorized", "sign in, or send a join-link token as 'Authorization: Bearer …'")
    _, actor = service.identity.actor_for(token, conf_id)
    if from_cookie and request.method in UNSAFE and \
            not service.identity.signer.check_csrf(token, request.headers.get("X-CSRF-Token")):
        raise AuthError("csrf", "missing or wrong X-CSRF-Token header")
    return actor


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError("bad_request", "send a JSON object with Content-Type: application/json")
    try:
        # msgspec, as on /ws: strict UTF-8, and a lone surrogate ("\ud800", which no UTF-8
        # text can hold) is refused here instead of failing later when the event is written
        body = _decoder.decode(await request.read())
    except (msgspec.DecodeError, RecursionError) as exc:   # RecursionError: nested too deeply
        raise ApiError("bad_request", f"the body is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise ApiError("bad_request", "the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, max_len: int = 500, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ApiError("bad_request", f"{name}: expected a string")
    if required and not value:
        raise ApiError("bad_request", f"{name}: missing")
    if len(value) > max_len:
        raise ApiError("bad_request", f"{name}: at most {max_len} characters")
    return value


def service_of(request: web.Request) -> Service:
    return request.app[SERVICE]


def ack(outcome: Outcome) -> dict[str, Any]:
    """What a REST command answers: the seq its events end at."""
    return {"seq": outcome.seq, "replayed": outcome.replayed, "events": len(outcome.events)}


def command_key(body: dict[str, Any]) -> str:
    """The command's idempotency key from the body, or a fresh one."""
    key = body.get("key") or f"rest-{uuid.uuid4().hex}"
    if not isinstance(key, str):
        raise ApiError("bad_request", "key: expected a string")
    return key
