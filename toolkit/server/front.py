"""The server's front door: uvicorn's h11 protocol with a deadline for receiving each request.

uvicorn closes a keep-alive connection that stays idle, but sets no limit on how long a client may take to
send a request: a client sending one header line every 20 s holds its connection for ever, and uvicorn's
`limit_concurrency` counts connections, so 200 such clients turn every other request, /ping included, into a
503. Here a request's head must arrive within `head` seconds of the connection (or of the previous answer)
and its body within `body` seconds; a client slower than that is disconnected and its place freed.
"""
from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def guarded(head: float, body: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the two deadlines (seconds)."""

    class Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm(head, self._head_due)

        def connection_lost(self, exc) -> None:
            self._arm(None, None)
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(head, self._head_due)  # the next request on this connection gets its own time

        def _arm(self, delay: float | None, then) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(delay, then) if delay is not None else None

        def _head_due(self) -> None:
            # IDLE: h11 has not seen a whole request head yet (nothing, or header lines still trickling in)
            if self.conn.their_state is h11.IDLE:
                self._cut()
            elif self.conn.their_state is h11.SEND_BODY:
                self._arm(max(body - head, 0.0), self._body_due)

        def _body_due(self) -> None:
            if self.conn.their_state is h11.SEND_BODY:
                self._cut()

        def _cut(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return Guarded
