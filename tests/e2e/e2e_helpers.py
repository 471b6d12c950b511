"""Helpers of the browser tests (imported by the tests as ``e2e_helpers``)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1440, "height": 900}


class Pages:
    """Opens pages for the people of a test: each in its own browser context (its own
    cookies, its own network switch), all closed at the end. Browser errors fail the test."""

    def __init__(self, browser: Any, server: Any) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.log: list[str] = []        # every console message, for the report of a failure

    async def context(self, account: str | None = None) -> Any:
        ctx = await self.browser.new_context(viewport=VIEWPORT, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
        self.contexts.append(ctx)
        if account is not None:
            resp = await ctx.request.post(self.server.url("/api/v1/session"),
                                          data={"account": account, "password": self.server.password})
            assert resp.ok, await resp.text()
        return ctx

    async def open(self, path_or_url: str, account: str | None = None, ctx: Any = None) -> Any:
        ctx = ctx or await self.context(account)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("console", lambda m: self._console(page, m))
        url = path_or_url if path_or_url.startswith("http") else self.server.url(path_or_url)
        await page.goto(url)
        return page

    def _console(self, page: Any, message: Any) -> None:
        line = f"{page.url}: console.{message.type}: {message.text}"
        self.log.append(line)
        expected = ("Failed to load resource",          # an HTTP error the page handles and shows
                    "WebSocket connection to")          # a reconnect attempt while the network is down
        if message.type == "error" and not any(e in message.text for e in expected):
            self.errors.append(line)

    async def close(self) -> None:
        for ctx in self.contexts:
            await ctx.close()


async def wait_online(page: Any, timeout: float = 10_000) -> None:
    await page.wait_for_selector('#bc-conn[data-status="online"]', timeout=timeout)


async def page_state(page: Any) -> dict[str, Any]:
    return await page.evaluate("() => JSON.parse(JSON.stringify(window.bc.store.state))")  # type: ignore[no-any-return]


async def wait_js(page: Any, predicate: str, arg: Any = None, timeout: float = 10.0) -> Any:
    """Poll ``predicate`` (a JS function source) in the page until it returns a truthy value.
    Unlike ``page.wait_for_function`` it needs no eval inside the page, which the pages'
    Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout
    while True:
        value = await page.evaluate(predicate, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate} ({arg!r})")
        await asyncio.sleep(0.05)


def comparable(view: dict[str, Any]) -> dict[str, Any]:
    """A conference view without what is not a fold of the log: the figures that depend on the
    moment it was taken, and the display names of accounts (from the accounts stream)."""
    view = json.loads(json.dumps(view))
    for key in ("totals", "speaking_seconds", "people"):
        view.pop(key, None)
    return view


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Await ``check()`` until it returns a truthy value (or raise its last AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
            error: AssertionError | None = AssertionError("condition still false")
        except AssertionError as exc:
            error = exc
        if time.monotonic() > deadline:
            raise error
        await asyncio.sleep(interval)


def screenshot_name(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") + ".png"


async def screenshot(page: Any, artifacts: Path, name: str, *, docs: bool = False, full_page: bool = False) -> Path:
    """Save a screenshot to test-artifacts/; with BRIDGECONF_UPDATE_SCREENSHOTS=1, also the
    ones marked ``docs`` to docs/screenshots/ (the README shows them)."""
    path = artifacts / screenshot_name(name)
    await page.evaluate("() => { document.getElementById('bc-toasts')?.remove(); window.scrollTo(0, 0); }")
    await page.screenshot(path=str(path), full_page=full_page)
    if docs and os.environ.get("BRIDGECONF_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.name)
    return path
