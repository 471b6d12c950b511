"""The connectivity check before the conference (readiness.py): who may report, when, the
verdict on the figures, the last report kept per site, and a check run again."""

from __future__ import annotations

from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    MAIN,
    SECRETARY,
    SYSTEM,
    Harness,
    build,
    site,
)

from scheduling import (
    ErrorCode,
    Problem,
    ReadinessReported,
    ReadinessStatus,
    ReportReadiness,
    assess,
    parse_command,
    readiness_of,
)

GOOD: dict[str, Any] = {"camera": True, "microphone": True, "mic_level": 40, "rtt_ms": 35, "loss_pct": 0.0,
                        "bitrate_kbps": 2500, "relay": False}


def report(code: str, **fields: Any) -> dict[str, Any]:
    return {"type": "report_readiness", "site": code, **GOOD, **fields}


def verdict(**fields: Any) -> tuple[ReadinessStatus, tuple[Problem, ...]]:
    return assess(ReportReadiness(key="k", site=HAI_CHAU, **{**GOOD, **fields}))


class TestVerdict:
    def test_good_figures_are_ready(self) -> None:
        assert verdict() == (ReadinessStatus.READY, ())

    @pytest.mark.parametrize(("fields", "problems"), [
        ({"microphone": False, "mic_level": None}, (Problem.NO_MICROPHONE,)),
        ({"mic_level": 0}, (Problem.SILENT_MICROPHONE,)),
        ({"camera": False}, (Problem.NO_CAMERA,)),
        ({"rtt_ms": None, "loss_pct": None, "bitrate_kbps": None}, (Problem.NO_MEDIA_PATH,)),
        ({"rtt_ms": 900}, (Problem.HIGH_RTT,)),
        ({"loss_pct": 12.5}, (Problem.HIGH_LOSS,)),
        ({"bitrate_kbps": 120}, (Problem.LOW_BITRATE,)),
        ({"microphone": False, "camera": False, "loss_pct": 30.0, "bitrate_kbps": 90},
         (Problem.NO_MICROPHONE, Problem.NO_CAMERA, Problem.HIGH_LOSS, Problem.LOW_BITRATE)),
    ])
    def test_what_is_wrong(self, fields: dict[str, Any], problems: tuple[Problem, ...]) -> None:
        assert verdict(**fields) == (ReadinessStatus.NEEDS_CHECK, problems)

    def test_thresholds_are_inclusive_of_good(self) -> None:
        assert verdict(rtt_ms=400, loss_pct=5.0, bitrate_kbps=300, mic_level=2)[0] is ReadinessStatus.READY

    def test_a_relay_alone_is_no_problem(self) -> None:
        assert verdict(relay=True) == (ReadinessStatus.READY, ())


class TestReportReadiness:
    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal"])
    def test_a_site_reports_for_itself_before_the_opening(self, phase: str) -> None:
        h = build(phase)
        h.tick(60)
        events = h.run(site(HAI_CHAU), report(HAI_CHAU, loss_pct=8.0, relay=True, agent="Chromium 156"))
        assert len(events) == 1
        ev = events[0]
        assert isinstance(ev, ReadinessReported)
        assert (ev.site, ev.status, ev.problems, ev.relay) == (HAI_CHAU, ReadinessStatus.NEEDS_CHECK,
                                                              (Problem.HIGH_LOSS,), True)
        kept = h.s.readiness[HAI_CHAU]
        assert (kept.status, kept.problems, kept.loss_pct, kept.at, kept.runs) == (
            "needs_check", ("high_loss",), 8.0, h.now, 1)
        assert readiness_of(h.s, HAI_CHAU) == "needs_check"
        assert readiness_of(h.s, HOA_BAC) == "unchecked"

    def test_the_main_bridge_checks_too(self, rehearsal: Harness) -> None:
        rehearsal.run(site(MAIN), report(MAIN))
        assert readiness_of(rehearsal.s, MAIN) == "ready"

    def test_run_again_the_last_one_counts_and_every_run_is_logged(self, rehearsal: Harness) -> None:
        h = rehearsal
        h.run(site(HAI_CHAU), report(HAI_CHAU, microphone=False, mic_level=None))
        h.tick(300)
        h.run(site(HAI_CHAU), report(HAI_CHAU))
        assert (h.s.readiness[HAI_CHAU].status, h.s.readiness[HAI_CHAU].runs) == ("ready", 2)
        assert [e.status for e in h.log if isinstance(e, ReadinessReported)] == [
            ReadinessStatus.NEEDS_CHECK, ReadinessStatus.READY]

    def test_a_retry_with_the_same_key_is_the_same_report(self, rehearsal: Harness) -> None:
        first = rehearsal.run(site(HAI_CHAU), report(HAI_CHAU), key="check-1")
        again = rehearsal.decide(site(HAI_CHAU), report(HAI_CHAU), key="check-1")
        assert again.replayed and again.events == first
        assert rehearsal.s.readiness[HAI_CHAU].runs == 1

    def test_a_site_reports_only_for_itself(self, rehearsal: Harness) -> None:
        rehearsal.refuse(site(HOA_BAC), report(HAI_CHAU), ErrorCode.NOT_OWN_SITE, HOA_BAC, HAI_CHAU)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, SYSTEM])
    def test_nobody_reports_on_a_sites_behalf(self, rehearsal: Harness, actor: Any) -> None:
        rehearsal.refuse(actor, report(HAI_CHAU), ErrorCode.FORBIDDEN, "only the site itself")

    def test_a_site_not_invited(self, rehearsal: Harness) -> None:
        rehearsal.refuse(site(AN_HAI), report(AN_HAI), ErrorCode.SITE_NOT_INVITED, AN_HAI)

    @pytest.mark.parametrize("phase", ["draft", "live", "ended", "cancelled"])
    def test_only_before_the_opening(self, phase: str) -> None:
        build(phase).refuse(site(HAI_CHAU), report(HAI_CHAU), ErrorCode.WRONG_PHASE, "connectivity check")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"mic_level": 101}, "mic_level"),
        ({"rtt_ms": -1}, "rtt_ms"),
        ({"loss_pct": 100.5}, "loss_pct"),
        ({"loss_pct": float("nan")}, "loss_pct"),
        ({"bitrate_kbps": 2_000_000}, "bitrate_kbps"),
        ({"via": "carrier-pigeon"}, "via"),
        ({"agent": "x" * 201}, "agent"),
        ({"camera": "yes"}, "camera"),
        ({"rtt_ms": 3.5}, "rtt_ms"),
    ])
    def test_bad_input(self, rehearsal: Harness, fields: dict[str, Any], message: str) -> None:
        rehearsal.refuse(site(HAI_CHAU), report(HAI_CHAU, **fields), ErrorCode.INVALID_COMMAND, message)

    def test_figures_are_needed(self) -> None:
        with pytest.raises(Exception, match="camera: missing"):
            parse_command({"type": "report_readiness", "key": "k", "site": HAI_CHAU, "microphone": True})


class TestSeries:
    """The series is edited like the other settings (the admin page's form sets it)."""

    def test_admin_sets_and_clears_the_series(self, scheduled: Harness) -> None:
        scheduled.run(ADMIN, {"type": "edit_conference", "series": "giao-ban-quy"})
        assert scheduled.s.series == "giao-ban-quy"
        scheduled.run(ADMIN, {"type": "edit_conference", "series": ""})
        assert scheduled.s.series == ""

    def test_too_long(self, scheduled: Harness) -> None:
        scheduled.refuse(ADMIN, {"type": "edit_conference", "series": "x" * 101}, ErrorCode.INVALID_COMMAND, "series")
