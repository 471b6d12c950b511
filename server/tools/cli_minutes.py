"""``bridgeconf minutes verify``: check a downloaded minutes file, or a conference's chain.

    bridgeconf minutes verify FILE [--conference ID] [--data-dir DIR | --redis URL] [--json]
    bridgeconf minutes verify --chain --conference ID [--data-dir DIR | --redis URL] [--json]

A file is checked against the chain of its conference's approved versions, read from the
store, whenever a store is given (``--data-dir``, ``--redis`` or BRIDGECONF_REDIS_URL):
that is what proves the file is the version the conference approved. Without a store a file
is only shown to be self-consistent, and the report says so. The store is only read: no
signing key is needed, nothing is written.

Exit status: 0 verified; 1 the check failed (tampered, not in the chain, a broken chain, a
draft, not a minutes file); 2 it could not be run (no such store or conference).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from scheduling import event_from_dict, replay

from ..app import open_store
from ..config import Config
from ..documents import VerifyCode, verify_chain, verify_document
from ..service.service import CONF_PREFIX

OK, FAILED, CANNOT = 0, 1, 2


def add_parser(sub: Any) -> None:
    minutes = sub.add_parser("minutes", help="check minutes documents (biên bản)")
    minutes_sub = minutes.add_subparsers(dest="minutes_command", required=True)
    verify = minutes_sub.add_parser(
        "verify", help="verify a downloaded minutes file (HTML, PDF, DOCX) or a conference's hash chain",
        description="Verify a downloaded minutes file: its embedded content hashes to its SHA-256, its visible "
                    "text is that content, and (with a store) the conference approved that very hash. With "
                    "--chain, check every link of a conference's approved versions. Exit status: 0 verified, "
                    "1 failed, 2 could not check.")
    verify.add_argument("file", nargs="?", help="the downloaded .html, .pdf or .docx")
    verify.add_argument("--chain", action="store_true", help="check the conference's chain instead of a file")
    verify.add_argument("--conference", metavar="ID",
                        help="the conference (default: the one the file names, when a store is given)")
    verify.add_argument("--data-dir", metavar="DIR", default=None,
                        help="the server's data directory (its SQLite store) to read the chain from")
    verify.add_argument("--redis", metavar="URL", default=None,
                        help="read the chain from Redis instead (also BRIDGECONF_REDIS_URL)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")


async def run(args: argparse.Namespace) -> int:
    for chatty in ("weasyprint", "fontTools"):   # their INFO lines are not the report
        logging.getLogger(chatty).setLevel(logging.WARNING)
    redis = args.redis or os.environ.get("BRIDGECONF_REDIS_URL") or None
    if args.chain:
        if args.file or not args.conference:
            return _cannot("--chain checks a conference: give --conference ID (and no file)")
        return await _verify_chain(args, redis)
    if not args.file:
        return _cannot("give the FILE to verify, or --chain --conference ID")
    return await _verify_file(args, redis)


async def _verify_chain(args: argparse.Namespace, redis: str | None) -> int:
    chain = await _chain(args.conference, args.data_dir, redis)
    if isinstance(chain, str):
        return _cannot(chain)
    report = verify_chain(chain)
    if args.json:
        print(json.dumps({**report.to_dict(), "conference_id": args.conference}, ensure_ascii=False, indent=2))
    else:
        print(f"{'OK  ' if report.ok else 'FAIL'} {args.conference}: {report.message}")
        for v in report.versions:
            print(f"  version {v.version}: {v.sha256}  {'ok' if v.ok else v.message}")
    return OK if report.ok else FAILED


async def _verify_file(args: argparse.Namespace, redis: str | None) -> int:
    path = Path(args.file)
    has_store = bool(args.data_dir or redis)
    conference: str | None = args.conference
    chain: list[Any] | None = None
    if has_store or conference:
        if not has_store:
            return _cannot("--conference needs the store to read its chain from: --data-dir DIR or --redis URL")
        if conference is None:   # the conference the file names
            first = verify_document(path, check_text=False)
            if not first.conference_id:
                return _report(args, first)
            conference = first.conference_id
        found = await _chain(conference, args.data_dir, redis)
        if isinstance(found, str):
            return _cannot(found)
        chain = found
    report = verify_document(path, chain=chain)
    if report.ok and conference and report.conference_id != conference:
        report = replace(report, ok=False, code=VerifyCode.NOT_IN_CHAIN,
                         message=f"the file is of conference {report.conference_id!r}, not {conference!r}")
    return _report(args, report)


def _report(args: argparse.Namespace, report: Any) -> int:
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        mark = "OK  " if report.ok else "FAIL"
        what = f"{report.conference_id} v{report.version}" if report.version else args.file
        print(f"{mark} {args.file}: {report.message}" + ("" if report.ok else f" [{report.code}]"))
        if report.sha256:
            print(f"  {what} · {report.format.upper()} · SHA-256 {report.sha256}")
        if report.checks:
            print(f"  checked: {', '.join(report.checks)}")
    return OK if report.ok else FAILED


async def _chain(conference: str, data_dir: str | None, redis: str | None) -> list[Any] | str:
    """The approved versions of ``conference`` from the store, or why they cannot be read."""
    if not redis:
        db = Path(data_dir or "var") / "events.db"
        if not db.exists():
            return f"no bridgeconf store at {db.parent} (give the server's --data-dir)"
    store = await open_store(Config(data_dir=Path(data_dir or "var"), redis_url=redis))
    try:
        stream = CONF_PREFIX + conference
        records, after = [], 0
        while batch := await store.read(stream, after, limit=5000):
            records += batch
            after = batch[-1].seq
    finally:
        await store.close()
    if not records:
        return f"no conference {conference!r} in the store"
    state = replay(event_from_dict(json.loads(r.data)) for r in records)
    assert state is not None
    return list(state.minutes.approved)


def _cannot(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return CANNOT
