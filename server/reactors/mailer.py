"""E-mail of the minutes. When a version is distributed, every recipient site that has an
address in the directory, and every chosen account with an address, gets a mail (subject
and text in Vietnamese) with the approved PDF attached (the HTML when the PDF cannot be
made), and each site its join link to acknowledge receipt; a reminder sends it again to the
sites reminded.

The mailer follows conference streams (``StreamHub.on_events``) and only queues work there:
commands never wait for it. One worker renders (WeasyPrint, in a thread) and sends (stdlib
``smtplib``, in a thread), one job at a time, then records what the SMTP server accepted and
refused as a ``record_minutes_mail`` command of the system, so the tracker shows
``email_failed`` with the error, on every server process and after a restart. Failures are
also logged (warnings).

Every process that has SMTP settings sends: in a Redis scale-out give them to one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from aiohttp import web

from scheduling import (
    SYSTEM,
    ConferenceState,
    DomainError,
    Event,
    MailResult,
    MinutesDistributed,
    MinutesReminded,
    RecordMinutesMail,
)

from ..config import SmtpSettings
from ..documents import Rendered, RenderOptions, approved_source
from ..documents.exports import place_of
from ..documents.formats import filename
from ..documents.render_cache import render_minutes
from ..service.hub import StreamHub
from ..service.service import Service

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 30.0
MAX_ERROR = 300


@dataclass(frozen=True)
class Recipient:
    ref: str          # "site:P-AN" or "account:chu.tich", as record_minutes_mail names them
    address: str
    name: str
    join_url: str = ""


@dataclass(frozen=True)
class Job:
    conf_id: str
    version: int
    reminder: bool
    sites: tuple[str, ...]
    accounts: tuple[str, ...]
    key: str          # idempotency key of the record: one per triggering event


class Mailer:
    def __init__(self, service: Service, settings: SmtpSettings) -> None:
        self.service = service
        self.settings = settings
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    # -- life ----------------------------------------------------------------------------
    def start(self) -> None:
        for hub in self.service.conferences.values():
            self.watch(hub)
        self.service.on_new_conference.append(self.watch)
        self._task = asyncio.create_task(self._work(), name="mailer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def idle(self) -> None:
        """Wait until every queued job is done (tests, a graceful shutdown)."""
        await self._queue.join()

    def watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            state = hub.state
            if state is None:
                return
            for ev in events:
                if isinstance(ev, MinutesDistributed | MinutesReminded):
                    self._queue.put_nowait(job_of(state.conference_id, ev))
        hub.on_events.append(on_events)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self.send(job)
            except Exception:   # one bad job must not stop the mail of the others
                log.exception("mailing %s version %s failed", job.conf_id, job.version)
            finally:
                self._queue.task_done()

    # -- one job ---------------------------------------------------------------------------
    async def send(self, job: Job) -> None:
        hub = self.service.conferences.get(job.conf_id)
        state = hub.state if hub is not None else None
        if state is None or not 1 <= job.version <= len(state.minutes.approved):
            return
        recipients = await self.recipients(state, job)
        if not recipients:
            return
        document = await self._document(state, job.version)
        v = state.minutes.approved[job.version - 1]
        messages = [(r, self.message(state, v.sha256, job, r, document)) for r in recipients]
        results = await asyncio.to_thread(send_all, self.settings, messages)
        for r, error in zip(recipients, results, strict=True):
            if error:
                log.warning("e-mail of %s v%s to %s <%s> failed: %s", job.conf_id, job.version, r.ref, r.address, error)
        log.info("minutes %s v%s e-mailed: %d sent, %d failed", job.conf_id, job.version,
                 sum(1 for e in results if not e), sum(1 for e in results if e))
        cmd = RecordMinutesMail(key=job.key, version=job.version, results=tuple(
            MailResult(recipient=r.ref, error=e) for r, e in zip(recipients, results, strict=True)))
        try:
            await self.service.run_conference(job.conf_id, cmd, SYSTEM)
        except DomainError as exc:
            log.warning("could not record the e-mails of %s v%s: %s", job.conf_id, job.version, exc)

    async def recipients(self, state: ConferenceState, job: Job) -> list[Recipient]:
        directory = self.service.directory.state.sites
        out: list[Recipient] = []
        with_address = [c for c in job.sites if _address(directory[c].email if c in directory else "")
                        or _address(state.sites[c].email if c in state.sites else "")]
        tokens: dict[str, str] = {}
        if with_address:
            try:
                tokens = await self.service.ensure_links(state.conference_id, with_address)
            except DomainError as exc:
                log.warning("no join links for the e-mails of %s: %s", state.conference_id, exc)
        for code in with_address:
            site = directory.get(code) or state.sites[code]
            address = _address(site.email) or _address(state.sites[code].email)
            url = self.service.identity.join_url(tokens[code]) if code in tokens else ""
            out.append(Recipient(f"site:{code}", address, site.name, url))
        accounts = self.service.accounts.state.accounts
        for account_id in job.accounts:
            acc = accounts.get(account_id)
            if acc is not None and _address(acc.email) and not acc.disabled:
                out.append(Recipient(f"account:{account_id}", _address(acc.email), acc.name))
        return out

    async def _document(self, state: ConferenceState, version: int) -> Rendered:
        """The approved version as PDF (the signed original when the server signs; else rendered
        in a thread, once per version: see exports.render_minutes), or as HTML when the PDF
        cannot be made (no font, say)."""
        source = approved_source(state.minutes.approved[version - 1])
        options = RenderOptions(lang="vi", names=self.service.names(), place=place_of(state))
        try:   # the signed original when this server signs (records.py), else a render
            doc = await asyncio.to_thread(self.service.records.signed_pdf, source, options, filename(source, "pdf")) \
                or await asyncio.to_thread(render_minutes, source, "pdf", options)
        except Exception as exc:   # WeasyPrint and its fonts: send the HTML rather than nothing
            log.warning("no PDF of %s v%s (%s): attaching the HTML", state.conference_id, version, exc)
            doc = await asyncio.to_thread(render_minutes, source, "html", options)
        if not isinstance(doc, Rendered):
            raise RuntimeError(doc.message)
        return doc

    def message(self, state: ConferenceState, sha256: str, job: Job, r: Recipient, doc: Rendered) -> EmailMessage:
        msg = EmailMessage()
        title, v = state.title, job.version
        msg["Subject"] = (f"Nhắc xác nhận đã nhận biên bản: {title} (phiên bản {v})" if job.reminder
                          else f"Biên bản hội nghị: {title} (phiên bản {v})")
        msg["From"] = self.settings.sender
        msg["To"] = formataddr((r.name, r.address))
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="bridgeconf")
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Bridgeconf-Conference"] = state.conference_id
        msg["X-Bridgeconf-Version"] = str(v)
        msg.set_content(body(state, sha256, job, r, doc.filename, self.service.config.base_url))
        maintype, _, subtype = doc.media_type.split(";")[0].partition("/")
        msg.add_attachment(doc.body, maintype=maintype, subtype=subtype, filename=doc.filename)
        return msg


def job_of(conf_id: str, ev: MinutesDistributed | MinutesReminded) -> Job:
    digest = hashlib.sha1(f"{conf_id}|{ev.TYPE}|{ev.actor}|{ev.key}|{ev.version}".encode()).hexdigest()
    accounts = ev.accounts if isinstance(ev, MinutesDistributed) else ()
    return Job(conf_id, ev.version, isinstance(ev, MinutesReminded), ev.sites, accounts, f"mail-{digest}")


def body(state: ConferenceState, sha256: str, job: Job, r: Recipient, filename: str, base_url: str) -> str:
    day = (state.opened_at or state.starts_at).astimezone(state.tz).strftime("%d/%m/%Y")
    lines = [f"Kính gửi: {r.name},", ""]
    if job.reminder:
        lines += [f"Đơn vị chưa xác nhận đã nhận biên bản hội nghị “{state.title}” ngày {day} "
                  f"(phiên bản {job.version}). Biên bản được gửi lại kèm thư này ({filename}).", ""]
    else:
        lines += [f"Văn phòng gửi biên bản hội nghị “{state.title}” ngày {day}, phiên bản {job.version} "
                  f"đã được phê duyệt. Biên bản được đính kèm thư này ({filename}).", ""]
    if r.join_url:
        lines += ["Đề nghị đơn vị xác nhận đã nhận biên bản tại trang điểm cầu của đơn vị (mục “Biên bản”):",
                  r.join_url, ""]
    else:
        lines += [f"Xem trực tuyến: {base_url}/api/v1/conferences/{state.conference_id}/minutes/{job.version}.html", ""]
    lines += [f"Mã xác thực SHA-256 của phiên bản: {sha256}",
              f"Kiểm tra tệp: bridgeconf minutes verify {filename}", "",
              "Thư được gửi tự động từ hệ thống hội nghị trực tuyến; vui lòng không trả lời thư này."]
    return "\n".join(lines) + "\n"


def send_all(settings: SmtpSettings, messages: Sequence[tuple[Recipient, EmailMessage]]) -> list[str]:
    """Send each message over one SMTP connection (blocking: run it in a thread). Returns,
    in order, the error of each message: empty when the server accepted it."""
    errors: list[str] = []
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            for _, msg in messages:
                try:
                    refused = smtp.send_message(msg)
                    errors.append(_refused(refused) if refused else "")
                except smtplib.SMTPRecipientsRefused as exc:
                    errors.append(_refused(exc.recipients))
                except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    errors.append(_clean(f"{exc.smtp_code} {_text(exc.smtp_error)}"))
    except (OSError, smtplib.SMTPException) as exc:   # no connection, or it broke: the rest failed
        errors += [_clean(f"{type(exc).__name__}: {exc}")] * (len(messages) - len(errors))
    return errors


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return _clean("; ".join(f"{code} {_text(text)}" for code, text in recipients.values()))


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _clean(text: str) -> str:
    """One line, no control characters, at most MAX_ERROR characters (as the domain takes it)."""
    text = re.sub(r"[\s\x00-\x1f\x7f]+", " ", text).strip()
    return text[:MAX_ERROR] or "failed"


def _address(email: str) -> str:
    email = email.strip()
    return email if "@" in email and not any(c in email for c in "\r\n,;<> ") else ""


MAILER: web.AppKey[Mailer] = web.AppKey("mailer")


def start_mailer(app: web.Application, service: Service, settings: SmtpSettings) -> Mailer | None:
    """The mailer of this process when SMTP is configured (``Config.smtp.host``)."""
    if not settings.host:
        log.debug("no SMTP host: minutes are distributed to the inboxes only")   # the default: no noise at make run
        return None
    mailer = Mailer(service, settings)
    mailer.start()
    app[MAILER] = mailer
    return mailer

