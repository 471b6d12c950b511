"""Time to render the minutes of the realistic quarterly review (127 sites, 8 agenda items,
30 speaking turns, 20 action items) in each format, and to verify each file.

    .venv/bin/python bench/documents.py [--runs 5]

Prints JSON: the median (and min/max) seconds of ``--runs`` runs per format, the file sizes,
and the targets (HTML and DOCX under 2 s, PDF under 5 s).
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
from tests.fixtures.conference import approve, build_quarterly_review  # noqa: E402

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
    approve(built)
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
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
