"""A bridgeconf server on a loopback port with a real SMTP server beside it (aiosmtpd, in
its own thread), the small city it serves, and the helpers the minutes tests share: REST
calls as an account or as a site, raw downloads, and a whole meeting held through the API.

    env = await start_env(tmp_path)                  # module-scoped in conftest.py
    await env.hold_meeting("giao-ban-t10", series="giao-ban", notes=[...], actions=[...])
    status, headers, body = await env.get("/conferences/giao-ban-t10/minutes/1.pdf", role="chair")
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiosmtpd.controller import Controller

from server.config import Config, MediaSettings, SigningSettings, SmtpSettings
from server.reactors.mailer import MAILER, Mailer
from server.service.keys import SERVICE
from server.service.security import hash_password
from server.service.service import utcnow
from tests.fixtures.served import free_port, serve

PASSWORD = "mat-khau-thu-nghiem"
MAIN = "TRU-SO"
# code -> (name, e-mail): X-CHAU's mailbox does not exist, X-DUNG has no address, X-EM is never invited
SITES: dict[str, tuple[str, str]] = {
    "P-AN": ("Phường An Hòa", "vanphong@phuongan.hanoi.gov.vn"),
    "P-BINH": ("Phường Bình Minh", "vanphong@phuongbinh.hanoi.gov.vn"),
    "X-CHAU": ("Xã Châu Sơn", "khong-ton-tai@xachau.hanoi.gov.vn"),
    "X-DUNG": ("Xã Dũng Tiến", ""),
    "X-EM": ("Xã Em Lệ", "vanphong@xaem.hanoi.gov.vn"),
}
INVITED = ("P-AN", "P-BINH", "X-CHAU", "X-DUNG")
ACCOUNTS = {  # role -> (account, display name, e-mail)
    "admin": ("admin", "Quản trị hệ thống", ""),
    "chair": ("chutri", "Lê Minh Quang – Chủ tịch UBND Thành phố", "chutri@hanoi.gov.vn"),
    "secretary": ("thuky", "Phạm Thị Lan – Chuyên viên Văn phòng", "thuky@hanoi.gov.vn"),
    "observer": ("quansat", "Đỗ Anh Tuấn – Thanh tra", ""),
    "norole": ("khach", "Khách", ""),
}
HOSTILE = "<script>alert('xss')</script> & <b>đậm</b> <img src=x onerror=alert(1)>"


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def attachment(self) -> tuple[str, str, bytes]:
        """(filename, content type, bytes) of the one attachment."""
        (part,) = list(self.message.iter_attachments())
        return part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True)

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


@dataclass
class Mailbox:
    """What the SMTP server received; addresses in ``refuse`` are refused (550) at RCPT."""

    refuse: set[str] = field(default_factory=set)
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.recipients]

    def since(self, n: int) -> list[Mail]:
        with self.lock:
            return self.mails[n:]

    def __len__(self) -> int:
        with self.lock:
            return len(self.mails)


class SmtpHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.box.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.box.lock:
            self.box.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class Env:
    config: Config
    app: web.Application
    runner: web.AppRunner
    smtp: Controller
    mailbox: Mailbox
    http: aiohttp.ClientSession
    offset: timedelta = timedelta(0)
    _sessions: dict[str, str] = field(default_factory=dict)

    @property
    def service(self) -> Any:
        return self.app[SERVICE]

    @property
    def mailer(self) -> Mailer:
        return self.app[MAILER]

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def state(self, conf: str) -> Any:
        return self.service.conferences[conf].state

    def now(self) -> datetime:
        return self.service.clock()

    def today(self) -> date:
        return self.now().astimezone(self.state_tz()).date()

    def state_tz(self) -> Any:
        from zoneinfo import ZoneInfo
        return ZoneInfo("Asia/Ho_Chi_Minh")

    def advance(self, delta: timedelta) -> None:
        """Move the server's clock (action items fall overdue)."""
        self.offset += delta

    def session(self, role: str) -> str:
        account = ACCOUNTS[role][0]
        if account not in self._sessions:
            self._sessions[account] = self.service.identity.login(account, PASSWORD)
        return self._sessions[account]

    async def site_token(self, conf: str, site: str) -> str:
        return str((await self.service.ensure_links(conf, [site]))[site])

    # -- HTTP ------------------------------------------------------------------------------
    async def request(self, method: str, path: str, *, role: str | None = None, token: str | None = None,
                      json: Any = None, params: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        hdrs = dict(headers or {})
        bearer = token or (self.session(role) if role else None)
        if bearer:
            hdrs["Authorization"] = f"Bearer {bearer}"
        async with self.http.request(method, f"{self.base_url}/api/v1{path}", json=json, params=params,
                                     headers=hdrs) as resp:
            return resp.status, resp.headers, await resp.read()

    async def get(self, path: str, **kw: Any) -> tuple[int, Any, bytes]:
        return await self.request("GET", path, **kw)

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """A JSON call that must succeed."""
        import json as jsonlib
        status, _, data = await self.request(method, path, json=body, **kw)
        assert status < 400, f"{method} {path}: {status} {data[:400]!r}"
        return jsonlib.loads(data)

    async def refused(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, str, str]:
        """(status, code, message) of a call that must fail."""
        import json as jsonlib
        status, _, data = await self.request(method, path, json=body, **kw)
        assert status >= 400, f"{method} {path} succeeded: {data[:300]!r}"
        err = jsonlib.loads(data)["error"]
        return status, err["code"], err["message"]

    async def command(self, conf: str, type_: str, *, role: str | None = None, token: str | None = None,
                      **fields: Any) -> Any:
        return await self.call("POST", f"/conferences/{conf}/commands", {"type": type_, **fields},
                               role=role, token=token)

    async def as_site(self, conf: str, site: str, type_: str, **fields: Any) -> Any:
        return await self.command(conf, type_, token=await self.site_token(conf, site), site=site, **fields)

    async def until(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.02)

    # -- a whole meeting -------------------------------------------------------------------
    async def create(self, conf: str, *, series: str = "", start: datetime | None = None,
                     items: tuple[str, ...] = ("Báo cáo tình hình kinh tế – xã hội", "Thảo luận"),
                     sites: tuple[str, ...] = INVITED) -> None:
        start = start or (self.now() - timedelta(hours=2)).replace(microsecond=0)
        await self.call("POST", "/conferences", {
            "conference_id": conf, "title": f"Hội nghị giao ban {conf}", "kind": "periodic_review",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat(),
            "main_site": MAIN, "chair": "chutri", "secretaries": ["thuky"], "observers": ["quansat"],
            "series": series, "description": "Đánh giá kết quả tháng, triển khai nhiệm vụ tháng tới."}, role="admin")
        await self.command(conf, "invite_sites", role="admin", codes=list(sites))
        for n, title in enumerate(items, 1):
            await self.command(conf, "add_agenda_item", role="admin", item_id=f"muc-{n}", title=title,
                               presenter="Văn phòng UBND" if n == 1 else "", planned_minutes=20 * n)
        await self.command(conf, "schedule_conference", role="admin")

    async def hold(self, conf: str, *, notes: tuple[str, ...] = (), actions: tuple[tuple[str, str, tuple[str, ...], int], ...] = (),
                   end: bool = True) -> None:
        """Open, check the sites in, discuss the agenda (notes on the first item, action items
        ``(id, title, assignees, due in days)``), and end."""
        await self.command(conf, "open_conference", role="chair")
        for n, code in enumerate(self.state(conf).remote_sites()):
            if code != "X-DUNG":   # X-DUNG never connects
                await self.as_site(conf, code, "check_in", headcount=20 + n)
        items = [i.item_id for i in self.state(conf).agenda]
        for n, item in enumerate(items):
            await self.command(conf, "start_item", role="chair", item_id=item)
            if n == 0:
                for k, text in enumerate(notes):
                    await self.command(conf, "add_note", role="secretary", note_id=f"ghi-{k}", item_id=item,
                                       text=text)
                await self.command(conf, "add_note", role="secretary", note_id="ket-luan", item_id=item,
                                   kind="conclusion", text="Các đơn vị khẩn trương triển khai nhiệm vụ được giao.")
                for action_id, title, assignees, days in actions:
                    await self.command(conf, "create_action_item", role="secretary", action_id=action_id,
                                       item_id=item, title=title, assignees=list(assignees),
                                       due=(self.today() + timedelta(days=days)).isoformat())
            await self.command(conf, "finish_item", role="chair", item_id=item)
        if end:
            await self.command(conf, "end_conference", role="chair")

    async def close(self) -> None:
        await self.http.close()
        await self.runner.cleanup()
        with contextlib.suppress(Exception):
            self.smtp.stop()


async def start_env(data_dir: Path, signing: SigningSettings | None = None) -> Env:
    box = Mailbox(refuse={SITES["X-CHAU"][1]})
    smtp_port = free_port()
    smtp = Controller(SmtpHandler(box), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    served = await serve(lambda port: Config(
        host="127.0.0.1", port=port, data_dir=data_dir, media=MediaSettings(enabled=False),
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender="vanphong@hanoi.gov.vn"),
        signing=signing or SigningSettings()))
    env = Env(served.config, served.app, served.runner, smtp, box, aiohttp.ClientSession())
    service = env.service
    service.clock = lambda: utcnow() + env.offset
    await seed(service)
    return env


async def seed(service: Any) -> None:
    from scheduling import SYSTEM, Actor, CreateAccount, ImportSites
    pw = hash_password(PASSWORD)
    admin = Actor.account("admin", admin=True)
    for role, (account, name, mail) in ACCOUNTS.items():
        await service.run_accounts(CreateAccount(key=f"seed-{account}", account_id=account, name=name, email=mail,
                                                 admin=role == "admin", password_hash=pw),
                                   SYSTEM if role == "admin" else admin)
    rows = ["code,name,parent,kind,expected_headcount,email", f"{MAIN},Hội trường UBND Thành phố,"
            "UBND Thành phố Hà Nội,main,60,"]
    rows += [f"{code},{name},Khu vực 1,remote,30,{mail}" for code, (name, mail) in SITES.items()]
    await service.run_directory(ImportSites(key="seed-sites", csv="\n".join(rows) + "\n"), admin)
