"""The server's front door: uvicorn's h11 protocol with a deadline for receiving each request.

uvicorn closes a keep-alive connection that stays idle, but sets no limit on how long a client may take to
send a request: a client sending one header line every 20 s holds its connection for ever, and uvicorn's
`limit_concurrency` counts connections, so 200 such clients turn every other request, /ping included, into a
503. Here a request's head must arrive within `head` seconds of the connection (or of the previous answer)
and its body within `body` seconds; a client slower than that is disconnected and its place freed.

A client that reconnects as fast as it is cut could still hold every place; so one address may hold at most
`per_client` connections, beyond which a new one is closed at once. The HTTPS proxy on the same machine
(127.0.0.1, ::1) carries every unit's requests and has its own limits: it is not counted.

With several worker processes (`--tien-trinh`) each worker counts its own connections: the bound holds per
worker. uvicorn starts each worker in a fresh interpreter and names the protocol by import path, so workers
take the class `FromEnvironment`, whose limits the parent puts in the environment (LIMITS).
"""
from __future__ import annotations

import asyncio
import os
from collections import Counter

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

PROXY = ("127.0.0.1", "::1")
LIMITS = "BAOCAO_CUA_TRUOC"  # "head body per_client" for the worker processes
BAD_REQUEST = "Yêu cầu gửi tới máy chủ baocao không đúng chuẩn HTTP; hãy mở lại trang hoặc bấm lại nút trong phiếu."


def guarded(head: float, body: float, per_client: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the two deadlines (seconds) and the bound of connections per address."""
    open_by: Counter[str] = Counter()  # the server's event loop is one thread: no lock needed

    class Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _peer: str | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            peer = self.client[0] if self.client else None
            if peer is not None and peer not in PROXY:
                if open_by[peer] >= per_client:
                    transport.close()
                    return
                self._peer = peer
                open_by[peer] += 1
            self._arm(head, self._head_due)

        def connection_lost(self, exc) -> None:
            self._arm(None, None)
            if self._peer is not None:
                open_by[self._peer] -= 1
                if not open_by[self._peer]:
                    del open_by[self._peer]
                self._peer = None
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

        def send_400_response(self, msg: str) -> None:
            """A request h11 cannot parse: uvicorn's answer («Invalid HTTP request received.»), in Vietnamese."""
            text = BAD_REQUEST.encode("utf-8")
            for event in (h11.Response(status_code=400, reason=b"Bad Request", headers=[
                    (b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]),
                    h11.Data(data=text), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

        def _cut(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return Guarded


def limits_for_workers(head: float, body: float, per_client: int) -> dict[str, str]:
    """The environment that gives the workers' `FromEnvironment` these limits."""
    return {LIMITS: f"{head!r} {body!r} {per_client}"}


def _from_environment() -> type[H11Protocol]:
    head, body, per_client = os.environ.get(LIMITS, "10.0 60.0 50").split()
    return guarded(float(head), float(body), int(per_client))


FromEnvironment = _from_environment()  # read when a worker imports this module
