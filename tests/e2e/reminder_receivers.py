"""Real receivers for reminder tests: a local SMTP server (aiosmtpd) and a local webhook
receiver (http.server in a thread), each recording every copy it got, and able to hold a
delivery until the test lets it go (to kill a worker mid-send)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services import reminders
from tests.conftest import free_port


@dataclass
class Gate:
    """Holds the first delivery (or every one, `hold_all`) until `release`."""

    armed: bool = False
    hold_all: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    _held: int = 0

    def should_hold(self) -> bool:
        if not self.armed or self.released.is_set():
            return False
        if self._held and not self.hold_all:
            return False
        self._held += 1
        return True

    def release(self) -> None:
        self.released.set()


class SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.gate = Gate()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            hold = self.gate.should_hold()
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if hold:
            self.gate.arrived.set()
            while not self.gate.released.is_set():
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def by_reminder(self) -> dict[str, list[EmailMessage]]:
        found: dict[str, list[EmailMessage]] = {}
        with self.lock:
            for message in self.messages:
                found.setdefault(str(message[reminders.ID_HEADER]), []).append(message)
        return found


@dataclass
class SmtpServer:
    handler: SmtpHandler
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        handler.gate.release()
        controller.stop()


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """Answers each POST with the next status of `statuses` (then 200)."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.statuses: list[int] = []
        self.gate = Gate()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.hooks.append(Hook(dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    hold = receiver.gate.should_hold()
                if hold:
                    receiver.gate.arrived.set()
                    receiver.gate.released.wait(120)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed mid-send)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/concord/reminders"

    def by_reminder(self) -> dict[str, list[Hook]]:
        found: dict[str, list[Hook]] = {}
        with self.lock:
            for hook in self.hooks:
                found.setdefault(hook.headers[reminders.ID_HEADER], []).append(hook)
        return found


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.gate.release()
        receiver.server.shutdown()
        receiver.server.server_close()
