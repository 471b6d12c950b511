"""docs/protocol.md is what ``python -m server.protocol`` prints: regenerate it with
``python -m server.protocol > docs/protocol.md`` when the protocol changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_doc_is_generated_from_the_schema_module() -> None:
    out = subprocess.run([sys.executable, "-m", "server.protocol"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert doc == out, "docs/protocol.md is stale: run `python -m server.protocol > docs/protocol.md`"


def test_the_doc_names_every_message_and_close_code() -> None:
    from server import protocol
    text = protocol.markdown()
    for cls in (protocol.Hello, protocol.Ping, protocol.Welcome, protocol.Ack, protocol.Error):
        assert f"### `{cls.__struct_config__.tag}`" in text
    for code in ("1009", "4400", "4401", "4403", "4404", "4408", "4429"):
        assert f"| {code} |" in text
