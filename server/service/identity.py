"""Who a token says you are: signing in (within the limits on failed sign-ins), session
tokens for accounts, join-link tokens for sites, and the join URLs made of them.

A session token names the account, its generation and the session's own id; a join-link
token the conference, the site and the link's generation; changing either generation (a
password change, a link revoked or re-issued) ends every token made before, and signing out
ends one session (``SessionEnded`` in the accounts stream: durable, and seen by every
process). An unknown or disabled account costs a sign-in the same argon2 verification as a
wrong password, so that the time taken does not tell which accounts exist.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from scheduling import Account, Accounts, Actor, DomainError, EndSession, ErrorCode, Links

from .hub import StreamHub
from .security import Signer, SignInLimiter, TokenError, hash_password, verify_password

SESSION_DAYS = 14


class AuthError(Exception):
    """A refused token or sign-in. ``retry_after``: seconds before trying again is of use."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after


@cache
def _dummy_hash() -> str:
    """An argon2 hash of nothing anyone knows, with the parameters of real ones: verified when
    the account does not exist, so that this costs what a wrong password costs."""
    return hash_password(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class SessionClaims:
    """A valid session token: whose, which session, and until when."""

    account: Account
    session_id: str
    expires_at: float


class Identity:
    def __init__(self, accounts: StreamHub[Accounts], links: StreamHub[Links], signer: Signer,
                 clock: Callable[[], datetime], base_url: str, sign_in_limits: SignInLimiter | None = None) -> None:
        self.accounts = accounts
        self.links = links
        self.signer = signer
        self.clock = clock
        self.base_url = base_url
        self.sign_in_limits = sign_in_limits or SignInLimiter()

    async def sign_in(self, account_id: str, password: str, address: str) -> str:
        """``login`` from client ``address``, within the limits on failed sign-ins
        (security.SignInLimiter): over one, refused without checking the password."""
        refusal = self.sign_in_limits.begin(address, account_id)
        if refusal is not None:
            raise AuthError("too_many_sign_ins", refusal.message, retry_after=refusal.retry_after)
        token = await asyncio.to_thread(self.login, account_id, password)   # argon2: ~0.1-0.3 s, off the event loop
        self.sign_in_limits.succeeded(address, account_id)
        return token

    def login(self, account_id: str, password: str) -> str:
        acc = self.accounts.state.accounts.get(account_id)
        if acc is None or acc.disabled:
            verify_password(_dummy_hash(), password)   # as long as a wrong password takes
            raise AuthError("bad_credentials", "wrong account or password")
        if not verify_password(acc.password_hash, password):
            raise AuthError("bad_credentials", "wrong account or password")
        return self.new_session(acc)

    def new_session(self, acc: Account) -> str:
        """A session token of ``acc`` with a session id of its own."""
        expires = time.time() + SESSION_DAYS * 86400
        return self.signer.sign("session", {"a": acc.account_id, "g": acc.generation,
                                            "s": secrets.token_urlsafe(18)}, expires)

    def session(self, token: str) -> SessionClaims:
        """The session a token opens, or AuthError: malformed, expired, its account gone or
        disabled, its generation past (a password change) or the session signed out."""
        try:
            claims: dict[str, Any] = self.signer.verify("session", token)
        except TokenError as exc:
            raise AuthError(exc.code, exc.message) from None
        account, session_id = claims.get("a"), claims.get("s")
        if not isinstance(account, str) or not isinstance(session_id, str):
            raise AuthError("bad_token", "the token is malformed")
        acc = self.accounts.state.accounts.get(account)
        if acc is None or acc.disabled or acc.generation != claims.get("g") or session_id in acc.ended_sessions:
            raise AuthError("token_revoked", "this session has ended: sign in again")
        return SessionClaims(acc, session_id, float(claims["exp"]))

    def session_actor(self, token: str) -> Actor:
        acc = self.session(token).account
        return Actor.account(acc.account_id, admin=acc.admin)

    def end_session_command(self, token: str, key: str) -> tuple[EndSession, Actor] | None:
        """The command that signs ``token``'s session out (None: the token opens no session)."""
        try:
            claims = self.session(token)
        except AuthError:
            return None
        acc = claims.account
        return (EndSession(key=key, account_id=acc.account_id, session_id=claims.session_id,
                           expires_at=datetime.fromtimestamp(claims.expires_at, UTC)),
                Actor.account(acc.account_id, admin=acc.admin))

    def expires_at(self, token: str) -> float:
        """When a token (already accepted) expires, as Unix time."""
        try:
            return float(self.signer.verify(Signer.kind_of(token), token)["exp"])
        except TokenError as exc:
            raise AuthError(exc.code, exc.message) from None

    def link_token(self, conf_id: str, site: str) -> str:
        link = self.links.state.links.get((conf_id, site))
        if link is None or link.revoked:
            raise DomainError(ErrorCode.INVALID_COMMAND, f"no live join link for site {site}")
        return self.signer.sign("site", {"c": conf_id, "s": site, "g": link.generation}, link.expires_at.timestamp())

    def site_actor(self, token: str, conf_id: str | None = None) -> tuple[str, Actor]:
        """The conference and site a join-link token admits."""
        try:
            claims = self.signer.verify("site", token)
        except TokenError as exc:
            raise AuthError(exc.code, exc.message) from None
        conf, site = claims.get("c", ""), claims.get("s", "")
        if conf_id is not None and conf != conf_id:
            raise AuthError("forbidden", "this join link is for another conference")
        link = self.links.state.links.get((conf, site))
        if link is None or not link.valid(claims.get("g", -1), self.clock()):
            raise AuthError("token_revoked", "this join link was revoked or re-issued: ask the organizer for the new one")
        return conf, Actor.site(site)

    def actor_for(self, token: str, conf_id: str | None = None) -> tuple[str | None, Actor]:
        """A session token (account) or a join-link token (site)."""
        if Signer.kind_of(token) == "site":
            return self.site_actor(token, conf_id)
        return conf_id, self.session_actor(token)

    def link_status(self, conf_id: str, site: str) -> tuple[str, int]:
        """("live" | "revoked" | "expired" | "none", generation) of a site's join link."""
        link = self.links.state.links.get((conf_id, site))
        if link is None:
            return "none", 0
        if link.revoked:
            return "revoked", link.generation
        return ("expired" if link.expires_at <= self.clock() else "live"), link.generation

    def join_url(self, token: str) -> str:
        return f"{self.base_url}/join/{token}"

