"""Who a token says you are: signing in (within the limits on failed sign-ins), session
tokens for accounts, join-link tokens for sites, and the join URLs made of them.

A session token names the account and its generation; a join-link token the conference,
the site and the link's generation; changing either generation (a password change, an
account disabled, a link revoked or re-issued) ends every token made before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from scheduling import Accounts, Actor, DomainError, ErrorCode, Links

from .hub import StreamHub
from .security import Signer, SignInLimiter, TokenError, verify_password

SESSION_DAYS = 14


class AuthError(Exception):
    """A refused token or sign-in. ``retry_after``: seconds before trying again is of use."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after


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
        if acc is None or acc.disabled or not verify_password(acc.password_hash, password):
            raise AuthError("bad_credentials", "wrong account or password")
        expires = time.time() + SESSION_DAYS * 86400
        return self.signer.sign("session", {"a": acc.account_id, "g": acc.generation}, expires)

    def session_actor(self, token: str) -> Actor:
        try:
            claims = self.signer.verify("session", token)
        except TokenError as exc:
            raise AuthError(exc.code, exc.message) from None
        acc = self.accounts.state.accounts.get(claims.get("a", ""))
        if acc is None or acc.disabled or acc.generation != claims.get("g"):
            raise AuthError("token_revoked", "this session has ended: sign in again")
        return Actor.account(acc.account_id, admin=acc.admin)

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

