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
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
        try:
            claims = json.loads(payload)
        except (ValueError, RecursionError):   # signed, so ours: but never a traceback
            raise TokenError("bad_token", "the token is malformed") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int | float):
            raise TokenError("bad_token", "the token is malformed")
        if claims.get("k") != kind:
            raise TokenError("bad_token", f"this is not a {kind} token")
        if claims["exp"] <= (time.time() if now is None else now):
            raise TokenError("token_expired", "the token has expired")
        return claims

    @staticmethod
    def kind_of(token: str) -> str:
        """The kind a token claims, unverified (to pick the check to run)."""
        if not isinstance(token, str) or len(token) > 2048:
            return ""
        try:
            return str(json.loads(_unb64(token.split(".")[0])).get("k", ""))
        except (ValueError, TypeError, AttributeError, RecursionError):   # unverified: anything may come
            return ""

    def csrf_for(self, session_token: str) -> str:
        return _b64(self._mac(b"csrf|" + session_token.encode()))[:32]

    def check_csrf(self, session_token: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_for(session_token), given or "")


# -- sign-in limits ----------------------------------------------------------------------------

SIGN_IN_WINDOW_S = 300.0            # failures count for this long from the first one
SIGN_IN_PER_ACCOUNT = 5             # failed sign-ins to one account from one address per window
SIGN_IN_PER_ADDRESS = 20            # failed sign-ins from one address per window, whatever the account
SIGN_IN_MAX_ENTRIES = 10_000        # entries each table keeps at most
K = TypeVar("K", bound=Hashable)


@dataclass
class _Failures:
    count: int
    since: float      # clock time of the window's first failure


class FailureCounter(Generic[K]):
    """Failures per key, counted in a window of ``window_s`` from the key's first failure.
    At most ``max_entries`` keys: expired windows are dropped first, then the oldest ones
    (the table is in the order windows started, so both come off its front)."""

    def __init__(self, limit: int, window_s: float, max_entries: int) -> None:
        self.limit, self.window_s, self.max_entries = limit, window_s, max_entries
        self._table: OrderedDict[K, _Failures] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def wait(self, key: K, now: float) -> float:
        """Seconds until ``key`` may try again (0: it may now)."""
        f = self._table.get(key)
        if f is None or f.count < self.limit or now - f.since >= self.window_s:
            return 0.0
        return f.since + self.window_s - now

    def add(self, key: K, now: float) -> None:
        self._expire(now)
        f = self._table.get(key)
        if f is not None:
            f.count += 1
            return
        self._table[key] = _Failures(1, now)
        while len(self._table) > self.max_entries:
            self._table.popitem(last=False)

    def forgive(self, key: K) -> None:
        """One failure less (an attempt counted in advance that succeeded)."""
        f = self._table.get(key)
        if f is not None:
            f.count -= 1
            if f.count <= 0:
                del self._table[key]

    def clear(self, key: K) -> None:
        self._table.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._table:
            first = next(iter(self._table.values()))
            if now - first.since < self.window_s:
                return
            self._table.popitem(last=False)


@dataclass(frozen=True)
class SignInRefusal:
    limit: str              # "account": this account from this address; "address": any account from it
    retry_after: int        # whole seconds
    message: str


class SignInLimiter:
    """Failed sign-ins per (client address, account) and per client address, on an injected
    monotonic clock. ``begin`` comes before the password is checked: over a limit it answers a
    refusal and the password is never checked (argon2 costs ~0.1 s of CPU); otherwise it counts
    the attempt as a failure at once, so that attempts sent all together are counted too, and
    ``succeeded`` takes that back and clears the account's failures from that address."""

    def __init__(self, *, per_account: int = SIGN_IN_PER_ACCOUNT, per_address: int = SIGN_IN_PER_ADDRESS,
                 window_s: float = SIGN_IN_WINDOW_S, max_entries: int = SIGN_IN_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pairs: FailureCounter[tuple[str, str]] = FailureCounter(per_account, window_s, max_entries)
        self.addresses: FailureCounter[str] = FailureCounter(per_address, window_s, max_entries)

    def begin(self, address: str, account: str) -> SignInRefusal | None:
        now = self.clock()
        pair_wait, address_wait = self.pairs.wait((address, account), now), self.addresses.wait(address, now)
        if pair_wait or address_wait:
            retry_after = max(1, math.ceil(max(pair_wait, address_wait)))
            if address_wait >= pair_wait:
                return SignInRefusal("address", retry_after, f"too many failed sign-ins from {address} "
                                     f"({self.addresses.limit} within {self.addresses.window_s:g} s, whatever the "
                                     f"account): the password was not checked; try again in {retry_after} s")
            return SignInRefusal("account", retry_after, f"too many failed sign-ins to account {account!r} from "
                                 f"{address} ({self.pairs.limit} within {self.pairs.window_s:g} s): the password "
                                 f"was not checked; try again in {retry_after} s")
        self.pairs.add((address, account), now)
        self.addresses.add(address, now)
        return None

    def succeeded(self, address: str, account: str) -> None:
        self.pairs.clear((address, account))
        self.addresses.forgive(address)
