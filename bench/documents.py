"""Time to render the minutes of the realistic quarterly review (127 sites, 8 agenda items,
30 speaking turns, 20 action items) in each format, and to verify each file; and the signed
original: render + sign (PAdES-B-B with a DEMO certificate made for the run) and the
verification of the signed PDF's signature alone and of the whole file.

    .venv/bin/python bench/documents.py [--runs 5]

Prints JSON: the median (and min/max) seconds of ``--runs`` runs per format, the file sizes,
and the targets (HTML and DOCX under 2 s, PDF under 5 s; signing adds under 0.5 s; verifying
a signed PDF's signature under 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.documents import (  # noqa: E402
    MinutesSource,
    RenderOptions,
    render_docx,
    render_html,
    render_pdf,
    source_for,
    verify_document,
)
from server.documents.demo_pki import make_ca, make_org_p12  # noqa: E402
from server.documents.signing import Pkcs12Signer, check_signature  # noqa: E402
from tests.fixtures.conference import build_quarterly_review  # noqa: E402
from tests.server.documents.test_minutes_forgery import approve_with_record  # noqa: E402

TARGETS = {"html": 2.0, "docx": 2.0, "pdf": 5.0}


def timed(fn: Callable[[], Any], runs: int) -> tuple[dict[str, float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3)}, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    built = build_quarterly_review()
    build_s = time.perf_counter() - start
    approve_with_record(built, 12)   # with the organisation's Decree 30 settings and a number
    source = source_for(built.state, 1)
    assert isinstance(source, MinutesSource)
    options = RenderOptions(lang="vi", names=built.names, place="Hà Nội")
    renderers: dict[str, Callable[[], str | bytes]] = {
        "html": lambda: render_html(source, options), "docx": lambda: render_docx(source, options),
        "pdf": lambda: render_pdf(source, options)}
    render_pdf(source, options)   # warm up: imports, fonts, template compilation
    out: dict[str, Any] = {"bench": "documents", "python": platform.python_version(), "cpus": os.cpu_count(),
                           "conference": {"sites": len(built.state.sites), "agenda_items": len(built.state.agenda),
                                          "speaking_turns": len(built.state.floor.turns),
                                          "action_items": len(built.state.actions), "events": len(built.events),
                                          "build_s": round(build_s, 3)},
                           "runs": args.runs, "render": {}, "verify": {}}
    chain = built.state.minutes.approved
    for fmt, fn in renderers.items():
        figures, body = timed(fn, args.runs)
        data = body.encode() if isinstance(body, str) else body
        out["render"][fmt] = {**figures, "bytes": len(data), "target_s": TARGETS[fmt],
                              "within_target": figures["median_s"] < TARGETS[fmt]}
        # the first verification renders the expected text; later ones reuse it
        first, report = timed(lambda data=data: verify_document(data, chain=chain), 1)
        again, _ = timed(lambda data=data: verify_document(data, chain=chain), max(1, args.runs // 2))
        out["verify"][fmt] = {"first_s": first["median_s"], "again_median_s": again["median_s"],
                              "code": str(report.code)}
    out["signed"] = signed_figures(source, options, built.state.minutes.approved, args.runs)
    print(json.dumps(out, indent=2, ensure_ascii=False))


def signed_figures(source: MinutesSource, options: RenderOptions, chain: Any, runs: int) -> dict[str, Any]:
    import tempfile

    ca = make_ca()
    with tempfile.TemporaryDirectory() as tmp:
        p12 = Path(tmp) / "org.p12"
        p12.write_bytes(make_org_p12(ca, "DEMO Văn phòng UBND Thành phố Hà Nội"))
        signer = Pkcs12Signer(p12, b"demo")
    pdf = render_pdf(source, options)
    sign, signed = timed(lambda: signer.sign(pdf, reason="Phê duyệt biên bản", location="Hà Nội"), runs)
    both, _ = timed(lambda: signer.sign(render_pdf(source, options), reason="Phê duyệt", location="Hà Nội"),
                    max(1, runs // 2))
    roots = [ca.certificate]
    sig, report = timed(lambda: check_signature(signed, trust_roots=roots, approved_at=None), runs)
    whole, full = timed(lambda: verify_document(signed, chain=chain, trust_roots=roots), max(1, runs // 2))
    return {"sign_s": {**sign, "target_s": 0.5, "within_target": sign["median_s"] < 0.5},
            "render_and_sign_s": both, "bytes": len(signed), "bytes_added": len(signed) - len(pdf),
            "verify_signature_s": {**sig, "target_s": 1.0, "within_target": sig["median_s"] < 1.0,
                                   "ok": report.ok},
            "verify_whole_file_s": {**whole, "ok": full.ok, "checks": list(full.checks)}}


if __name__ == "__main__":
    main()
