"""A WebSocket response that remembers the close code the server sent: aiohttp's
``close_code`` is the one of the peer's reply (1000 for a well-behaved page), while the metrics
count closes by why the server closed (4400 no hello, 4429 flood, ...)."""

from __future__ import annotations

from aiohttp import web


class ClosingSocket(web.WebSocketResponse):
    sent_code: int | None = None

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        if self.sent_code is None and not self.closed:
            self.sent_code = code
        return await super().close(code=code, message=message, drain=drain)

    @property
    def why_closed(self) -> int | None:
        """The code the server closed with, or else the peer's."""
        return self.sent_code if self.sent_code is not None else self.close_code
