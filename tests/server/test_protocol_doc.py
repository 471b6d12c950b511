"""docs/protocol.md is what ``python -m server.tools.protocol_doc`` prints: regenerate it with
``python -m server.tools.protocol_doc > docs/protocol.md`` when the protocol changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec

from server import protocol
from server.errors import WS_CLOSE_MEANINGS
from server.tools import protocol_doc

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_doc_is_generated_from_the_schema_module() -> None:
    out = subprocess.run([sys.executable, "-m", "server.tools.protocol_doc"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert doc == out, "docs/protocol.md is stale: run `python -m server.tools.protocol_doc > docs/protocol.md`"


def test_the_doc_names_every_message_and_close_code() -> None:
    text = protocol_doc.markdown()
    for cls in (protocol.Hello, protocol.Ping, protocol.Welcome, protocol.Ack, protocol.Error):
        assert f"### `{cls.__struct_config__.tag}`" in text
    for code in WS_CLOSE_MEANINGS:
        assert f"| {code} |" in text


def test_the_event_frame_is_the_schema_s_event_message() -> None:
    data = '{"type":"floor_granted","site":"P-AN","note":"Tiếng Việt"}'
    msg = msgspec.json.decode(protocol.event_text(7, data), type=protocol.EventMessage)
    assert msg == protocol.EventMessage(seq=7, event={"type": "floor_granted", "site": "P-AN", "note": "Tiếng Việt"})
    assert protocol.encode(msg) == protocol.event_text(7, data)
    held = msgspec.json.decode(protocol.event_text(8, data, more=True), type=protocol.EventMessage)
    assert held.more and held.seq == 8 and protocol.encode(held) == protocol.event_text(8, data, more=True)
