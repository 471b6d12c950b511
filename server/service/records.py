"""Official records: what an approval of the minutes needs beyond the conference's stream —
the organisation that issues them (its settings and document numbers, a stream of its own),
the organisation's signer, and the signed originals (PAdES PDFs kept on disk).

An approval does not half-happen (Service._run):

1. the approval is decided once without recording anything (the domain may refuse it);
2. the signer must be able to sign now (a certificate expired, not yet valid, without the
   signing key usage, or a wrong password refuses the approval: nothing is recorded);
3. a number is reserved in the organisation's stream, keyed by conference and version: a
   retry after a crash between 3 and 4 gets the same number, so none is burned or reused;
4. the approval is recorded with the settings and the number inside its hash.

The signed PDF is made from the recorded version right after the approval (``sign_soon``, in
a thread) and kept as ``<data_dir>/records/<conference>/v<n>-<sha256[:16]>.pdf``; until it
is there the version is "signature pending", and any request for it makes it (a crash or a
failed signing is retried that way).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scheduling import (
    SYSTEM,
    Actor,
    Command,
    ConferenceState,
    Decision,
    DomainError,
    ErrorCode,
    Organisation,
    OrgSettings,
    ReserveNumber,
    decide_organisation,
    evolve_organisation,
)
from scheduling.base import command_fingerprint, replay_of

from ..config import Config
from ..documents import MinutesSource, Rendered, RenderOptions, approved_source, render
from ..documents.exports import place_of
from ..documents.formats import filename
from ..documents.signing import (
    PdfSigner,
    Pkcs12Signer,
    SigningError,
    check_signature,
    load_certificates,
)
from ..store import EventStore
from .hub import Idempotency, Outcome, StreamHub

log = logging.getLogger(__name__)
ORGANISATION = "organisation"
RECORDS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")   # the year of a number is the organisation's


@dataclass(frozen=True)
class SignerState:
    signer: PdfSigner | None
    error: str = ""       # why there is no signer although one was configured


def load_signer(config: Config) -> SignerState:
    s = config.signing
    if s.certificate is None:
        return SignerState(None)
    try:
        return SignerState(Pkcs12Signer(s.certificate, s.password.encode(), tsa_url=s.tsa_url))
    except SigningError as exc:
        log.error("minutes cannot be signed: %s", exc.message)
        return SignerState(None, exc.message)


def _decide(state: Organisation, cmd: Command, actor: Actor, now: datetime) -> Decision:
    return replay_of(state.results, actor.ref, cmd.key) or Decision(tuple(decide_organisation(state, cmd, actor,
                                                                                              now=now)))


class Records:
    def __init__(self, config: Config, store: EventStore, clock: Any) -> None:
        self.config = config
        self.clock = clock
        self.organisation: StreamHub[Organisation] = StreamHub(
            ORGANISATION, store, Organisation(), evolve_organisation, lambda s: s.version)
        self.signing = load_signer(config)
        self.trust_roots = self._trust_roots(config)
        self._lock = threading.Lock()    # one signer at a time (files written whole)
        self._signing: set[asyncio.Task[Any]] = set()

    def _trust_roots(self, config: Config) -> list[Any]:
        """The admin's trust roots; one that cannot be read stops the signing (approvals are
        refused with the reason) rather than keeping originals nobody checked."""
        path = config.signing.trust_roots
        if path is None:
            return []
        try:
            return load_certificates(path)
        except (OSError, ValueError) as exc:
            message = f"cannot read the trust root {path}: {getattr(exc, 'strerror', None) or exc}"
            log.error("minutes cannot be signed: %s", message)
            if self.signing.signer is not None:
                self.signing = SignerState(None, message)
            return []

    async def start(self) -> None:
        await self.organisation.load()
        self.organisation.follow()

    async def close(self) -> None:
        if self._signing:   # a thread cannot be cancelled: let the signatures under way finish
            await asyncio.gather(*self._signing, return_exceptions=True)
        await self.organisation.close()

    def sign_soon(self, state: ConferenceState, version: int, names: Mapping[str, str]) -> None:
        """Make the signed original of an approval that was just recorded, off the loop."""
        if self.signing.signer is None:
            return
        source = approved_source(state.minutes.approved[version - 1])
        options = RenderOptions(lang="vi", names=names, place=place_of(state))
        task = asyncio.create_task(asyncio.to_thread(self.signed_pdf, source, options, filename(source, "pdf")))
        self._signing.add(task)
        task.add_done_callback(self._signed)

    def _signed(self, task: asyncio.Task[Any]) -> None:
        self._signing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("the signed minutes could not be made (pending; the next request retries): %s",
                      task.exception())

    def settings_for(self, state: ConferenceState) -> OrgSettings:
        """The organisation's settings as a record of ``state`` prints them (the place, when
        the admin left it empty, from the main bridge's parent: "UBND Thành phố Hà Nội" -> "Hà Nội")."""
        settings = self.organisation.state.settings
        return settings if settings.place else replace(settings, place=place_of(state))

    async def run(self, cmd: Command, actor: Actor) -> Outcome:
        return await self.organisation.execute(lambda s: _decide(s, cmd, actor, self.clock()),
                                               Idempotency(actor.ref, cmd.key, command_fingerprint(cmd)))

    def check_signer(self, now: datetime) -> None:
        """Refuse an approval the organisation cannot sign (before anything is recorded)."""
        if self.signing.error:
            raise DomainError(ErrorCode.BAD_CERTIFICATE, self.signing.error)
        if self.signing.signer is not None:
            try:
                self.signing.signer.check(now)
            except SigningError as exc:
                raise DomainError(ErrorCode.BAD_CERTIFICATE, exc.message) from None

    async def reserve_number(self, conference_id: str, version: int, now: datetime) -> tuple[int, int]:
        """The number of this version's record: reserved once, the same on every retry."""
        year = now.astimezone(RECORDS_TZ).year
        state = self.organisation.state
        found = state.reservation(conference_id, version)
        if found is None:
            await self.run(ReserveNumber(key=f"reserve-{conference_id}-v{version}", conference_id=conference_id,
                                         version=version, year=year), SYSTEM)
            found = self.organisation.state.reservation(conference_id, version)
        assert found is not None
        return found

    # -- signed originals -------------------------------------------------------------------
    def path_of(self, source: MinutesSource) -> Path:
        a = source.approval
        assert a is not None
        return self.config.data_dir / "records" / source.conference_id / f"v{a.version}-{a.sha256[:16]}.pdf"

    def is_signed(self, source: MinutesSource) -> bool:
        return self.path_of(source).exists()

    def signed_pdf(self, source: MinutesSource, options: RenderOptions, filename: str) -> Rendered | None:
        """The signed original of an approved version (blocking: call it in a thread); None
        when this server does not sign. Made once and kept; "signature pending" until then."""
        signer = self.signing.signer
        if signer is None or source.approval is None:
            return None
        path = self.path_of(source)
        with self._lock:
            if not path.exists():
                rendered = render(source, "pdf", options)
                assert isinstance(rendered, Rendered), rendered
                place = str(source.content.get("record", {}).get("place", "")) or options.place
                body = signer.sign(rendered.body, reason=f"Phê duyệt biên bản, phiên bản {source.version}",
                                   location=place)
                # what is kept must validate against the admin's trust roots (when there are some)
                report = check_signature(body, trust_roots=self.trust_roots or None, approved_at=None)
                if not report.ok:
                    raise DomainError(ErrorCode.BAD_CERTIFICATE, f"the signed minutes do not validate: {report.message}")
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                with open(tmp, "wb") as f:
                    f.write(body)
                    f.flush()
                    os.fsync(f.fileno())
                tmp.replace(path)
            return Rendered(body=path.read_bytes(), media_type="application/pdf", filename=filename)
