"""Passwords, signed tokens, session cookies and CSRF tokens.

Tokens are ``base64url(payload).base64url(hmac_sha256(secret, payload))`` where the payload
is a small JSON object with a ``k`` (kind) and an ``exp`` (Unix time). They are checked in
constant time and carry no secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD = 8
MAX_PASSWORD = 256


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Signer:
    secret: str

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret.encode(), payload, hashlib.sha256).digest()

    def sign(self, kind: str, claims: dict[str, Any], expires_at: float) -> str:
        payload = json.dumps({"k": kind, "exp": int(expires_at), **claims}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, kind: str, token: str, *, now: float | None = None) -> dict[str, Any]:
        if not isinstance(token, str) or len(token) > 2048 or token.count(".") != 1:
            raise TokenError("bad_token", "the token is malformed")
        body, mac = token.split(".")
        try:
            payload = _unb64(body)
            given = _unb64(mac)
        except (ValueError, TypeError):
            raise TokenError("bad_token", "the token is malformed") from None
        if not hmac.compare_digest(given, self._mac(payload)):
            raise TokenError("bad_token", "the token's signature does not match")
        claims = json.loads(payload)
        if claims.get("k") != kind:
            raise TokenError("bad_token", f"this is not a {kind} token")
        if claims["exp"] <= (time.time() if now is None else now):
            raise TokenError("token_expired", "the token has expired")
        return claims  # type: ignore[no-any-return]

    @staticmethod
    def kind_of(token: str) -> str:
        """The kind a token claims, unverified (to pick the check to run)."""
        try:
            return str(json.loads(_unb64(token.split(".")[0])).get("k", ""))
        except (ValueError, TypeError, AttributeError):
            return ""

    def csrf_for(self, session_token: str) -> str:
        return _b64(self._mac(b"csrf|" + session_token.encode()))[:32]

    def check_csrf(self, session_token: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_for(session_token), given or "")
