"""Reminders delivered by real `concord worker` processes through a real broker (Redis and
RabbitMQ), to a real local SMTP server and webhook receiver: exactly one Delivered per
reminder and channel however often its message comes, and after a worker is SIGKILLed
mid-send, another delivers it once its lease runs out — every copy a receiver got carries
the same reminder id."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from domain.reminders import Reminder
from infra.settings import Settings
from services import obligations, onboarding, reminders
from services.runtime import Runtime
from tests.brokers import Worker, amqp_broker, no_worker_left_behind, redis_broker
from tests.e2e.reminder_receivers import (
    SmtpServer,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)
from tests.e2e.test_reminders import deliveries

__all__ = [  # fixtures
    "amqp_broker",
    "no_worker_left_behind",
    "redis_broker",
    "smtp_server",
    "webhook_receiver",
]

SLUG = "kent-fja"
#: Long enough for anything here to happen, never waited out when things work.
PATIENCE = 90


#: Each test runs on both brokers and both stores, in two pairings (not all four: the
#: pairing does not change what is tested, and each run starts worker processes).
PAIRINGS = pytest.mark.parametrize(
    ("backend", "broker"), [("postgres", "redis"), ("sqlite", "rabbitmq")], indirect=["broker"]
)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> tuple[str, str]:
    name = "redis_broker" if request.param == "redis" else "amqp_broker"
    found: tuple[str, str] = request.getfixturevalue(name)
    return found


@pytest.fixture
def lease_seconds() -> int:
    """An attempt's lease: far longer than any send here, unless a test wants it to run out."""
    return 60


@pytest.fixture
def configured(
    settings: Settings, broker: tuple[str, str], smtp_server: SmtpServer, lease_seconds: int
) -> Settings:
    url, namespace = broker
    return msgspec.structs.replace(
        settings,
        broker_url=url,
        broker_namespace=namespace,
        sweep_interval=0.5,
        worker_threads=4,
        smtp_url=smtp_server.url,
        smtp_from="reminders@concord.example.org",
        reminder_lease_seconds=lease_seconds,
    )


def start_worker(configured: Settings, log: Any) -> Worker:
    return Worker(
        configured,
        log,
        CONCORD_SMTP_URL=str(configured.smtp_url),
        CONCORD_SMTP_FROM=configured.smtp_from,
        CONCORD_REMINDER_LEASE_SECONDS=str(configured.reminder_lease_seconds),
        CONCORD_OUTBOUND_PRIVATE_NETWORKS="127.0.0.0/8",
    ).start()


@pytest.fixture
def runtime(configured: Settings) -> Iterator[Runtime]:
    """The API's side, in this process: it writes, queues and sends messages."""
    opened = Runtime(configured)
    try:
        yield opened
    finally:
        reminders.wait_idle(10)
        opened.close()


def founded(runtime: Runtime, webhook: WebhookReceiver) -> tuple[str, list[str]]:
    """Found the alliance, give it both channels; returns the webhook's secret and the
    ids of the reminders due today."""
    onboarding.onboard(
        runtime,
        slug=SLUG,
        name="Kent FJA",
        region="Kent",
        template="family-justice",
        by="test",
    )
    _, secret = reminders.set_channels(
        runtime,
        SLUG,
        webhook_url=webhook.url,
        emails=["sec@example.org"],
        rotate_secret=False,
        by="test",
    )
    assert secret is not None
    due = [o for o in obligations.calendar(runtime, SLUG) if o.state == "due"]
    assert due
    return secret, [str(Reminder.create_id(o.key, "coming-due")) for o in due]


def queue(runtime: Runtime) -> int:
    today = runtime.clock().date()
    return reminders.queue(runtime, SLUG, obligations.calendar(runtime, SLUG, today=today), today)


def wait_for_deliveries(runtime: Runtime, ids: list[str], workers: list[Worker]) -> None:
    wanted = {(rid, channel) for rid in ids for channel in ("email", "webhook")}
    deadline = time.monotonic() + PATIENCE
    while set(deliveries(runtime, SLUG)) != wanted:
        if time.monotonic() > deadline:
            logs = "\n".join(w.output()[-3000:] for w in workers)
            raise AssertionError(f"not all delivered: {deliveries(runtime, SLUG)}\n{logs}")
        time.sleep(0.1)


@PAIRINGS
def test_each_reminder_is_delivered_once_per_channel_however_often_its_message_comes(
    runtime: Runtime,
    configured: Settings,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    tmp_path: Any,
) -> None:
    workers = [start_worker(configured, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    secret, ids = founded(runtime, webhook_receiver)
    queue(runtime)  # (a worker's governance refresh may queue some of them first)
    waker = runtime.waker
    assert waker is not None
    for reminder_id in ids:  # the same message twice more: two workers get copies at once
        assert waker.send_reminder(SLUG, reminder_id)
        assert waker.send_reminder(SLUG, reminder_id)
    wait_for_deliveries(runtime, ids, workers)

    assert deliveries(runtime, SLUG) == Counter(
        {(rid, channel): 1 for rid in ids for channel in ("email", "webhook")}
    )
    # The receivers got each reminder once: a send is claimed before it is made.
    hooks, mails = webhook_receiver.by_reminder(), smtp_server.handler.by_reminder()
    assert {rid: len(h) for rid, h in hooks.items()} == dict.fromkeys(ids, 1)
    assert {rid: len(m) for rid, m in mails.items()} == dict.fromkeys(ids, 1)
    for (hook,) in hooks.values():
        signed = hook.headers[reminders.SIGNATURE_HEADER]
        assert reminders.verify(secret, signed, hook.body, now=time.time())
    attempts = [e for e in _events(runtime) if isinstance(e, Reminder.AttemptStarted)]
    assert len(attempts) == 2 * len(ids)
    for worker in workers:
        worker.stop()


def _events(runtime: Runtime) -> list[Any]:
    with runtime.tenant(SLUG) as store:
        return [
            store.app.mapper.to_domain_event(n)
            for n in store.app.recorder.select_notifications(start=1, limit=1_000_000)
        ]


@PAIRINGS
@pytest.mark.parametrize("lease_seconds", [3])
def test_a_worker_killed_mid_send_is_replaced_after_its_lease_and_copies_share_the_id(
    runtime: Runtime,
    configured: Settings,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    tmp_path: Any,
) -> None:
    first = start_worker(configured, tmp_path / "worker-1.log")
    smtp_server.handler.gate.armed = True  # hold the first e-mail and the first webhook
    webhook_receiver.gate.armed = True
    _, ids = founded(runtime, webhook_receiver)
    queue(runtime)  # (a worker's governance refresh may queue some of them first)
    assert smtp_server.handler.gate.arrived.wait(PATIENCE), first.output()
    assert webhook_receiver.gate.arrived.wait(PATIENCE), first.output()
    first.kill()  # mid-send: the attempts are claimed, the receivers hold the sends
    smtp_server.handler.gate.release()
    webhook_receiver.gate.release()
    held = [e for e in _events(runtime) if isinstance(e, Reminder.AttemptStarted)]
    assert held

    second = start_worker(configured, tmp_path / "worker-2.log")
    wait_for_deliveries(runtime, ids, [first, second])

    assert deliveries(runtime, SLUG) == Counter(
        {(rid, channel): 1 for rid in ids for channel in ("email", "webhook")}
    )
    hooks, mails = webhook_receiver.by_reminder(), smtp_server.handler.by_reminder()
    assert set(hooks) == set(mails) == set(ids)
    # The sends cut off by the kill were made again (a second attempt, after the lease):
    # the receiver has two copies of those, with the same reminder id and Message-ID.
    assert any(len(copies) == 2 for copies in hooks.values())
    assert any(len(copies) == 2 for copies in mails.values())
    for rid, copies in hooks.items():
        assert {c.json["reminder_id"] for c in copies} == {rid}
    for rid, messages in mails.items():
        assert {m["Message-ID"].strip() for m in messages} == {
            reminders.message_id(runtime.settings, rid)
        }
    events = _events(runtime)
    retried = {
        (str(e.originator_id), e.channel)
        for e in events
        if isinstance(e, Reminder.AttemptStarted) and e.attempt == 2
    }
    assert retried  # the killed worker's claims were taken over after the lease
    second.stop()
