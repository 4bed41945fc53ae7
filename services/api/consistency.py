"""Response headers that say how far a write's effects have reached.

Every response to a request that recorded events carries:

- `Concord-Position`: the log position of its last event in the alliance's (or the
  platform's) log;
- `Concord-Consistency`: `caught-up` when every projection had applied it before the
  answer (a read sent after this answer sees the write); `lagging` only when neither the
  workers nor, after CONCORD_PROJECTION_WAIT_MS, this process could apply it (the write
  is committed; reads catch up when the workers do);
- `Server-Timing: projections;dur=<ms>;desc="workers"|"api"`: how long the answer waited
  for the projections, and who applied the write to them.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.workers import WRITE_NOTE, WriteNote


class ConsistencyHeaders:
    """ASGI middleware: gives each request a WriteNote and writes it into the headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = WriteNote()
        token = WRITE_NOTE.set(note)  # sync handlers run on threads with a copy of it

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and note.position:
                headers: list[Any] = list(message.get("headers") or [])
                headers += [
                    (b"concord-position", str(note.position).encode()),
                    (
                        b"concord-consistency",
                        b"caught-up" if note.caught_up else b"lagging",
                    ),
                    (
                        b"server-timing",
                        f'projections;dur={note.waited_ms:.1f};desc="{note.by}"'.encode(),
                    ),
                ]
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            WRITE_NOTE.reset(token)
