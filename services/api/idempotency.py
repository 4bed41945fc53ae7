"""`Idempotency-Key` on writes: a write repeated with the same key records its events once
and every repeat gets the first answer (`Idempotent-Replayed: true`).

- The key is 1-255 printable ASCII characters (U+0020-U+007E), optionally in double
  quotes (needed for a key holding a comma); anything else is a 400 problem. It counts
  on POST, PUT, PATCH and DELETE, for the API key that sent it only.
- The same key with another method, path, query or body: 422 `idempotency-key-reused`.
- A repeat of a request still running waits for its answer (up to
  CONCORD_IDEMPOTENCY_WAIT_SECONDS), then answers 409 `idempotency-request-in-progress`
  with Retry-After. A request that died mid-way leaves its claim pending; past
  CONCORD_IDEMPOTENCY_LEASE_SECONDS a repeat answers 409 `idempotency-outcome-unknown`.
- An answer is kept when it succeeded or recorded events; a refusal that recorded
  nothing (any 4xx/5xx) gives the key back, so the corrected request may reuse it.

Requests without the header pass straight through. See services/idempotency.py for the
claims and docs/api.md "Idempotency" for the client's view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DomainError
from services import idempotency
from services.access import Principal
from services.errors import NotFound
from services.idempotency import Answer, Claim, Request
from services.runtime import Runtime
from services.workers import WRITE_NOTE

log = logging.getLogger("concord.api")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
MAX_KEY_LENGTH = 255
#: Seconds between looks at a claim a repeat is waiting for.
POLL_SECONDS = 0.05
#: Seconds a client is told to wait before asking again about a request still running.
RETRY_AFTER_SECONDS = 1
PROBLEM_JSON = b"application/problem+json"
#: Headers of the first answer a replay does not repeat as they were: they describe the
#: connection, or are set afresh (content-length; the Concord-Position of the write is
#: kept from the request's WriteNote, see services/api/consistency.py).
UNKEPT_HEADERS = frozenset(
    {"content-length", "connection", "transfer-encoding", "date", "server", "server-timing"}
)


class IdempotencyKeys:
    """ASGI middleware, inside authentication: claims a write's Idempotency-Key before it
    runs, and replays the kept answer to its repeats."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == HEADER]
        principal = scope.get("user")
        if not values or not isinstance(principal, Principal):
            await self.app(scope, receive, send)
            return
        key, problem = idempotency_key_of(values)
        if problem is not None:
            await send_problem(
                send, scope, 400, "Invalid Idempotency-Key", problem, "invalid-idempotency-key"
            )
            return
        slug = (scope.get("path_params") or {}).get("slug")
        if slug is not None and principal.tenant not in (None, slug):
            await self.app(scope, receive, send)  # another alliance's: its guard says 404
            return
        runtime: Runtime = scope["app"].state.runtime
        received, body = await read_body(receive, runtime.settings.max_body_bytes)
        receive = replaying(received, receive)
        if body is None:  # too large or cut short: the handler refuses it as it would
            await self.app(scope, receive, send)
            return
        request = idempotency.request_of(
            key_id=principal.key_id,
            key_secret=bearer_secret(scope),
            idempotency_key=key,
            method=str(scope.get("method")),
            path=scope["path"],
            query=scope.get("query_string", b""),
            body=body,
            store=slug,
        )
        await Attempt(self.app, runtime, request, scope).run(receive, send)


class Attempt:
    """One request with a key: claim it and run, or answer as its first request did."""

    def __init__(self, app: ASGIApp, runtime: Runtime, request: Request, scope: Scope) -> None:
        self.app = app
        self.runtime = runtime
        self.request = request
        self.scope = scope
        settings = runtime.settings
        self.ttl_seconds = settings.idempotency_ttl_hours * 3600.0
        self.lease_seconds = float(settings.idempotency_lease_seconds)
        self.wait_seconds = settings.idempotency_wait_seconds

    def now(self) -> float:
        return self.runtime.clock().timestamp()

    async def run(self, receive: Receive, send: Send) -> None:
        try:
            found = await self.call(idempotency.claim)
        except (NotFound, DomainError):  # no such alliance (yet): the handler says so
            await self.app(self.scope, receive, send)
            return
        deadline = time.monotonic() + self.wait_seconds
        while found is not None:
            if found.fingerprint != self.request.fingerprint:
                await self.refuse_reuse(found, send)
                return
            if found.state == "done":
                await self.replay(found, send)
                return
            if self.now() - found.created_at > self.lease_seconds:
                await self.refuse_unknown(found, send)
                return
            if time.monotonic() >= deadline:
                await self.refuse_in_progress(send)
                return
            await anyio.sleep(POLL_SECONDS)
            found = await self.call(idempotency.find)
            if found is None:  # the first request gave the key back: this one runs
                found = await self.call(idempotency.claim)
        await self.run_first(receive, send)

    async def call(self, operation: Callable[..., Claim | None]) -> Claim | None:
        return await anyio.to_thread.run_sync(
            lambda: operation(
                self.runtime, self.request, now=self.now(), ttl_seconds=self.ttl_seconds
            )
        )

    async def run_first(self, receive: Receive, send: Send) -> None:
        """Run the request that holds the claim; keep its answer or give the key back,
        then send the answer."""
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(self.scope, receive, keep)
        except Exception:
            await anyio.to_thread.run_sync(idempotency.release, self.runtime, self.request)
            raise
        # A cancelled request keeps its claim pending: its handler may still record.
        answer = answer_of(messages)
        note = WRITE_NOTE.get()
        recorded = note is not None and note.position > 0
        try:
            if answer is not None and (answer.status < 400 or recorded):
                if note is not None and note.position:
                    if answer.status >= 500:  # recorded, but its answer failed after
                        answer = recorded_without_answer(self.scope, note.position)
                    answer = kept_with_position(answer, note.position, note.caught_up)
                await anyio.to_thread.run_sync(
                    idempotency.finish, self.runtime, self.request, answer
                )
            else:
                await anyio.to_thread.run_sync(idempotency.release, self.runtime, self.request)
        except Exception as error:  # the answer still goes out; the claim stays pending
            log.error("idempotency: keeping an answer failed (%s)", type(error).__name__)
        for message in messages:
            await send(message)

    async def replay(self, found: Claim, send: Send) -> None:
        if found.answer is None:
            await send_problem(
                send,
                self.scope,
                409,
                "Idempotency answer forgotten",
                "the first request with this Idempotency-Key was recorded; its kept answer "
                "was forgotten when personal data in this alliance was erased; read the "
                "resource or the event log to see what it recorded",
                "idempotency-answer-forgotten",
            )
            return
        answer = idempotency.unseal(found.answer, self.request)
        if answer is None:
            await send_problem(
                send,
                self.scope,
                409,
                "Idempotency outcome unknown",
                "the first request with this Idempotency-Key succeeded, but its answer was "
                "kept under this API key's previous secret and cannot be read with the "
                "current one; read the resource or the event log to see what it recorded",
                "idempotency-outcome-unknown",
            )
            return
        headers = [(name.encode(), value.encode()) for name, value in answer.headers]
        length = (b"content-length", str(len(answer.body)).encode())
        start: Any = {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [*headers, length, REPLAYED],
        }
        content: Any = {"type": "http.response.body", "body": answer.body}
        await send(start)
        await send(content)

    async def refuse_reuse(self, found: Claim, send: Send) -> None:
        await send_problem(
            send,
            self.scope,
            422,
            "Idempotency-Key reused",
            f"this Idempotency-Key was first used for {found.method} {found.path} with "
            "another request (method, path, query or body differ); a key stands for one "
            "request: repeat that request exactly, or send this one with a new key",
            "idempotency-key-reused",
            original_method=found.method,
            original_path=found.path,
        )

    async def refuse_in_progress(self, send: Send) -> None:
        await send_problem(
            send,
            self.scope,
            409,
            "Idempotent request in progress",
            "the first request with this Idempotency-Key is still running; send this "
            f"request again in {RETRY_AFTER_SECONDS} s to get its answer",
            "idempotency-request-in-progress",
            headers=[(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
        )

    async def refuse_unknown(self, found: Claim, send: Send) -> None:
        started = datetime.fromtimestamp(found.created_at, UTC).isoformat(timespec="seconds")
        await send_problem(
            send,
            self.scope,
            409,
            "Idempotency outcome unknown",
            f"the first request with this Idempotency-Key ({found.method} {found.path}, "
            f"started {started}) never finished: its process stopped, and its events may or "
            "may not have been recorded. Read the resource or the event log to find out; "
            "if it is missing, send the request again with a new Idempotency-Key",
            "idempotency-outcome-unknown",
            original_method=found.method,
            original_path=found.path,
        )


def idempotency_key_of(values: list[bytes]) -> tuple[str, str | None]:
    """The key of the header's values, or a problem saying what is wrong with them."""
    if len(values) > 1:
        return "", f"send one Idempotency-Key header, not {len(values)}"
    text = values[0].decode("latin-1").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':  # the structured-field string form
        text = text[1:-1]
    elif "," in text:  # a list: the header sent twice, joined by a proxy or client
        return "", (
            "send one Idempotency-Key, not a list (a comma outside double quotes joins "
            "two header values); quote a key that holds a comma"
        )
    if not 1 <= len(text) <= MAX_KEY_LENGTH:
        return "", (
            f"the Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters long; "
            f"this one is {len(text)}"
        )
    odd = next((c for c in text if not " " <= c <= "~"), None)
    if odd is not None:
        return "", (
            f"the Idempotency-Key contains U+{ord(odd):04X}; it may hold only printable "
            "ASCII characters (U+0020 to U+007E), e.g. a UUID"
        )
    return text, None


def bearer_secret(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1").partition(" ")[2].strip()
    return ""


async def read_body(receive: Receive, limit: int) -> tuple[list[Any], bytes | None]:
    """The request's messages as read, and its body (None past `limit` bytes, or when the
    client went away before sending it all)."""
    messages: list[Any] = []
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return messages, None
        parts.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(parts)


def replaying(messages: list[Any], receive: Receive) -> Receive:
    """A receive that gives back the messages already read, then reads on."""
    pending = list(messages)

    async def receive_again() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


def answer_of(messages: list[Message]) -> Answer | None:
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is None:
        return None
    headers = [
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in start.get("headers") or []
    ]
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Answer(
        status=int(start["status"]),
        headers=[(name, value) for name, value in headers if name not in UNKEPT_HEADERS],
        body=body,
    )


def recorded_without_answer(scope: Scope, position: int) -> Answer:
    """What a repeat is told when the first request recorded its events and then failed
    (e.g. a 503 while the read models caught up): replaying that failure would ask the
    client to retry for ever; this says the write is in the log, and where."""
    body = msgspec.json.encode(
        {
            "type": "urn:concord:problem:idempotency-recorded-without-answer",
            "title": "Recorded, answer lost",
            "status": 409,
            "detail": f"the first request with this Idempotency-Key was recorded (log "
            f"position {position}) but failed before it could answer; read the resource "
            "or the event log to see what it recorded, and do not send it again",
            "instance": scope["path"],
            "position": position,
        }
    )
    return Answer(status=409, headers=[("content-type", PROBLEM_JSON.decode())], body=body)


def kept_with_position(answer: Answer, position: int, caught_up: bool) -> Answer:
    """The answer with the log position its write reached, as the first answer said it."""
    consistency = "caught-up" if caught_up else "lagging"
    headers = [
        *answer.headers,
        ("concord-position", str(position)),
        ("concord-consistency", consistency),
    ]
    return Answer(status=answer.status, headers=headers, body=answer.body)


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    title: str,
    detail: str,
    code: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> None:
    """An RFC 9457 problem, shaped as services/api/problems.py shapes them."""
    body = msgspec.json.encode(
        {
            "type": f"urn:concord:problem:{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope["path"],
            **extra,
        }
    )
    start_headers = [
        (b"content-type", PROBLEM_JSON),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    start: Any = {"type": "http.response.start", "status": status, "headers": start_headers}
    content: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(content)
