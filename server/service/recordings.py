"""The program's recordings kept under ``DATA_DIR/recordings/<conference>/``: how a new part
is named (never overwriting one), and the listing with each part's chapters and, when
something was shared, its screen share's file (``program-<t>.share.webm``, same clock and
chapters as the part: ``media/share_recording.py``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAME_RE = re.compile(r"^program(?:-(\d{8}T\d{6}))?(?:-(\d{1,4}))?\.(webm|share\.webm|chapters\.vtt)\Z")


def recording_file(folder: Path, name: str) -> Path | None:
    """The file ``name`` of the folder, when it is a recording's file or chapters."""
    if not NAME_RE.match(name) or not (folder / name).is_file():
        return None
    return folder / name


def list_recordings(folder: Path, base_url: str) -> list[dict[str, Any]]:
    """The parts in the order they were made, each with its size, chapters and URLs."""
    files = []
    # a part shows from its first chapter mark on; its video file from its first frames on
    names = {p.name.split(".")[0] + ".webm" for p in folder.glob("program*") if NAME_RE.match(p.name)} \
        if folder.is_dir() else set()
    for path in (folder / n for n in sorted(names, key=_order)):
        vtt = path.with_suffix(".chapters.vtt")
        share = path.with_suffix(".share.webm")
        files.append({"file": path.name, "bytes": path.stat().st_size if path.is_file() else 0, "url": base_url + path.name,
                      "chapters": _chapters(vtt.read_text(encoding="utf-8")) if vtt.is_file() else [],
                      "chapters_url": base_url + vtt.name if vtt.is_file() else None,
                      "share": {"file": share.name, "bytes": share.stat().st_size, "url": base_url + share.name}
                      if share.is_file() else None})
    return files


def new_file(folder: Path, opened: datetime) -> Path:
    """``program-<opened>.webm``, or, when the server restarted during the conference, a new
    name for the next part (``-<now>``, then ``-2``, ``-3``… within one second): never overwrite."""
    for stamp in (opened, datetime.now(UTC)):
        path = folder / f"program-{stamp:%Y%m%dT%H%M%S}.webm"
        if not path.exists():
            return path
    n = 2
    while (folder / f"{path.stem}-{n}.webm").exists():
        n += 1
    return folder / f"{path.stem}-{n}.webm"


def _order(name: str) -> tuple[str, int]:
    """Recordings in the order they were made: by time stamp, then part number."""
    m = NAME_RE.match(name)
    assert m is not None
    return m.group(1) or "", int(m.group(2) or 1)


def _chapters(vtt: str) -> list[dict[str, str]]:
    """(start, title) of each cue of a WebVTT chapters file."""
    out = []
    lines = vtt.splitlines()
    for i, line in enumerate(lines):
        if "-->" in line and i + 1 < len(lines):
            out.append({"start": line.split("-->")[0].strip(), "title": lines[i + 1].strip()})
    return out
