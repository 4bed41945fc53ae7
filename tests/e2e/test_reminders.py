"""Reminders of obligations, in-process (no broker), on SQLite and PostgreSQL: the channels
API (validation, SSRF refusal, the secret shown once, tenant walls), delivery to a real
local SMTP server and a real local webhook receiver (signatures verified with the secret),
once per obligation, stage and channel, retries, and no confidential text or personal
data in any reminder."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from domain.reminders import BACKOFF_SECONDS, Reminder
from infra.settings import Settings
from infra.telemetry import Telemetry
from services import obligations, reminders
from services.demo import CONFIDENTIAL_TEXT, create_demo
from services.runtime import Runtime
from tests.conftest import ADMIN, bearer
from tests.e2e.reminder_receivers import (
    SmtpServer,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)

__all__ = ["smtp_server", "webhook_receiver"]  # fixtures

SLUG = "kent-fja"
BASE = "https://concord.example.org"
PATH = f"/v1/tenants/{SLUG}/reminder-channels"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return msgspec.structs.replace(
        settings,
        smtp_url=smtp_server.url,
        smtp_from="reminders@concord.example.org",
        public_base_url=BASE,
    )


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter) -> Telemetry:
    return Telemetry("none", span_exporter=spans)


@pytest.fixture
def keys(client: TestClient[Any], onboard: Any) -> dict[str, dict[str, str]]:
    admin = onboard(SLUG)["admin_key"]["secret"]
    found = {"tenant-admin": bearer(admin)}
    for role in ("officer", "auditor"):
        issued = client.post(
            f"/v1/tenants/{SLUG}/keys", json={"role": role, "label": role}, headers=bearer(admin)
        )
        assert issued.status_code == 201, issued.text
        found[role] = bearer(issued.json()["secret"])
    other = onboard("other-alliance")["admin_key"]["secret"]
    found["other-admin"] = bearer(other)
    return found


def runtime_of(client: TestClient[Any]) -> Runtime:
    runtime: Runtime = client.app.state.runtime
    return runtime


def _all_events(store: Any) -> list[Any]:
    found = []
    for notification in store.app.recorder.select_notifications(start=1, limit=1_000_000):
        found.append(store.app.mapper.to_domain_event(notification))
    return found


def deliveries(runtime: Runtime, slug: str) -> Counter[tuple[str, str]]:
    """(reminder id, channel) -> how many Delivered events the log holds."""
    return Counter(
        (str(e.originator_id), e.channel)
        for e in _events(runtime, slug)
        if isinstance(e, Reminder.Delivered)
    )


def _events(runtime: Runtime, slug: str) -> list[Any]:
    with runtime.tenant(slug) as store:
        return _all_events(store)


def queue_now(runtime: Runtime, today: date | None = None) -> int:
    day = today or runtime.clock().date()
    queued = reminders.queue(runtime, SLUG, obligations.calendar(runtime, SLUG, today=day), day)
    assert reminders.wait_idle(60)
    return queued


# ------------------------------------------------------------------------------ the API


def test_the_signing_secret_is_shown_once_and_reads_never_show_it(
    client: TestClient[Any], keys: dict[str, dict[str, str]], webhook_receiver: WebhookReceiver
) -> None:
    body = {"webhook_url": webhook_receiver.url, "emails": ["Secretary@Example.org"]}
    made = client.put(PATH, json=body, headers=keys["tenant-admin"])
    assert made.status_code == 200, made.text
    secret = made.json()["webhook_secret"]
    assert secret.startswith("crs_") and len(secret) > 40
    assert made.json()["emails"] == ["Secretary@Example.org"]

    for role in ("tenant-admin", "officer"):
        read = client.get(PATH, headers=keys[role])
        assert read.status_code == 200, read.text
        assert secret not in read.text
        assert read.json()["webhook_secret_set"] is True
        assert "webhook_secret" not in read.json()

    again = client.put(PATH, json=body, headers=keys["tenant-admin"])
    assert again.status_code == 200
    assert again.json()["webhook_secret"] is None
    assert again.json()["webhook_secret_id"] == made.json()["webhook_secret_id"]

    rotated = client.put(PATH, json=body | {"rotate_secret": True}, headers=keys["tenant-admin"])
    assert rotated.status_code == 200
    assert rotated.json()["webhook_secret"] not in (None, secret)
    assert rotated.json()["webhook_secret_id"] != made.json()["webhook_secret_id"]


def test_only_tenant_admins_set_channels_and_other_alliances_see_nothing(
    client: TestClient[Any], keys: dict[str, dict[str, str]]
) -> None:
    body = {"emails": ["secretary@example.org"]}
    assert client.put(PATH, json=body, headers=keys["officer"]).status_code == 403
    assert client.delete(PATH, headers=keys["officer"]).status_code == 403
    assert client.get(PATH, headers=keys["auditor"]).status_code == 403
    assert client.put(PATH, json=body, headers=keys["other-admin"]).status_code == 404
    assert client.get(PATH, headers=keys["other-admin"]).status_code == 404
    assert client.get(PATH, headers=ADMIN).status_code == 403
    assert client.put(PATH, json=body, headers=keys["tenant-admin"]).status_code == 200
    assert client.get(PATH, headers=keys["officer"]).json()["emails"] == ["secretary@example.org"]
    removed = client.delete(PATH, headers=keys["tenant-admin"])
    assert removed.status_code == 204, removed.text
    after = client.get(PATH, headers=keys["tenant-admin"]).json()
    assert after["emails"] == [] and after["webhook_url"] is None


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        ({}, 422, "webhook_url"),
        ({"emails": ["not-an-address"]}, 422, "emails[0]"),
        ({"emails": ["a@example.org", "two words@example.org"]}, 422, "emails[1]"),
        ({"webhook_url": "ftp://example.org/x"}, 422, "url"),
        ({"webhook_url": "https://user:pw@example.org/x"}, 422, "user name"),
        ({"webhook_url": "http://10.1.2.3/hook"}, 422, "not a public address"),
        ({"webhook_url": "http://[::ffff:192.168.1.1]/hook"}, 422, "not a public address"),
        ({"emails": ["a@example.org"], "rotate_secret": True}, 422, "rotate_secret"),
        ({"emails": ["a@example.org"], "secret": "mine"}, 422, "secret"),
        ({"emails": [f"p{n}@example.org" for n in range(11)]}, 422, "emails"),
    ],
)
def test_bad_channels_are_refused_with_the_reason(
    client: TestClient[Any],
    keys: dict[str, dict[str, str]],
    body: dict[str, Any],
    status: int,
    names: str,
) -> None:
    answer = client.put(PATH, json=body, headers=keys["tenant-admin"])
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert names in answer.text
    assert "@example.org" not in answer.json().get("detail", "")  # addresses not echoed


# ------------------------------------------------------------------------------ delivery


def test_each_reminder_is_delivered_once_to_each_channel_signed_and_linked(
    client: TestClient[Any],
    keys: dict[str, dict[str, str]],
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
    spans: InMemorySpanExporter,
) -> None:
    made = client.put(
        PATH,
        json={
            "webhook_url": webhook_receiver.url,
            "emails": ["sec@example.org", "chair@example.org"],
        },
        headers=keys["tenant-admin"],
    ).json()
    secret = made["webhook_secret"]
    runtime = runtime_of(client)
    today = runtime.clock().date()
    due = [o for o in obligations.calendar(runtime, SLUG, today=today) if o.state == "due"]
    assert due, "a newly founded alliance has obligations due"
    assert SLUG in runtime.governance_pending.take()  # setting channels asks for a refresh

    # (A governance refresh of the alliance, which queues reminders too, may come first.)
    assert queue_now(runtime) <= len(due)
    assert queue_now(runtime) == 0  # queued once per obligation and stage
    queued = [e for e in _events(runtime, SLUG) if isinstance(e, Reminder.Queued)]
    assert sorted(e.obligation_key for e in queued) == sorted(o.key for o in due)

    hooks = webhook_receiver.by_reminder()
    mails = smtp_server.handler.by_reminder()
    expected = {str(Reminder.create_id(o.key, "coming-due")): o for o in due}
    assert set(hooks) == set(expected) == set(mails)
    assert all(len(copies) == 1 for copies in [*hooks.values(), *mails.values()])
    assert deliveries(runtime, SLUG) == Counter(
        {(rid, channel): 1 for rid in expected for channel in ("email", "webhook")}
    )
    for reminder_id, obligation in expected.items():
        (hook,) = hooks[reminder_id]
        assert reminders.verify(
            secret, hook.headers[reminders.SIGNATURE_HEADER], hook.body, now=time.time()
        )
        assert not reminders.verify(
            secret, hook.headers[reminders.SIGNATURE_HEADER], hook.body + b" ", now=time.time()
        )
        assert not reminders.verify(
            secret, hook.headers[reminders.SIGNATURE_HEADER], hook.body, now=time.time() + 600
        )
        link = f"{BASE}/v1/tenants/{SLUG}/obligations/{quote(obligation.key, safe='')}"
        assert hook.json == {
            "reminder_id": reminder_id,
            "alliance": SLUG,
            "obligation": {
                "key": obligation.key,
                "kind": obligation.kind,
                "title": obligation.title,
                "due_on": obligation.due_on.isoformat(),
                "clause": obligation.clause,
                "owner": obligation.owner,
            },
            "stage": "coming-due",
            "link": link,
        }
        (mail,) = mails[reminder_id]
        assert mail["Message-ID"].strip() == reminders.message_id(runtime.settings, reminder_id)
        assert reminder_id.replace("-", "") in mail["Message-ID"]
        text = mail.get_content()
        assert obligation.title in text
        assert link in text
    # One SMTP transaction per reminder, to every recipient, who do not see each other.
    assert all(
        sorted(rcpt) == ["chair@example.org", "sec@example.org"]
        for _, rcpt in smtp_server.handler.envelopes
    )
    assert all("example.org" not in str(m["To"]) for m in smtp_server.handler.messages)
    # Recording reminders is not the alliance's activity: it asks for no refresh.
    assert runtime.governance_pending.take() == []
    # A span per send, naming ids and outcomes: no address, no title, no body.
    sends = [x for x in spans.get_finished_spans() if x.name == "reminder.send"]
    assert Counter(
        (x.attributes["concord.reminder_id"], x.attributes["concord.channel"]) for x in sends
    ) == Counter({(rid, ch): 1 for rid in expected for ch in ("email", "webhook")})
    assert {x.attributes["concord.outcome"] for x in sends} == {"delivered"}
    for span in spans.get_finished_spans():
        text = span.to_json()
        assert "example.org" not in text and secret not in text
        assert not any(o.title in text for o in due)


def test_missed_obligations_get_a_missed_reminder_within_the_lookback(
    client: TestClient[Any], keys: dict[str, dict[str, str]], smtp_server: SmtpServer
) -> None:
    client.put(PATH, json={"emails": ["sec@example.org"]}, headers=keys["tenant-admin"])
    runtime = runtime_of(client)
    cal_today = obligations.calendar(runtime, SLUG)
    first_due = min(o.due_on for o in cal_today if o.state == "due")
    later = first_due + timedelta(days=3)
    missed = [
        o
        for o in obligations.calendar(runtime, SLUG, today=later)
        if o.state == "missed" and not o.met_by
    ]
    assert missed
    queue_now(runtime, later)
    mails = smtp_server.handler.by_reminder()
    for o in missed:
        (mail,) = mails[str(Reminder.create_id(o.key, "missed"))]
        assert "was missed" in mail["Subject"] or "missed" in mail.get_content()
    # Far later, those misses are beyond the lookback: nothing more is sent for them.
    sent = len(smtp_server.handler.messages)
    far = first_due + timedelta(days=60)
    queue_now(runtime, far)
    new_ids = set(smtp_server.handler.by_reminder()) - set(mails)
    assert not new_ids & {str(Reminder.create_id(o.key, "missed")) for o in missed}
    assert len(smtp_server.handler.messages) >= sent


def test_a_failed_webhook_is_retried_after_its_backoff_and_delivered_once(
    client: TestClient[Any], keys: dict[str, dict[str, str]], webhook_receiver: WebhookReceiver
) -> None:
    runtime = runtime_of(client)
    due = [o for o in obligations.calendar(runtime, SLUG) if o.state == "due"]
    webhook_receiver.statuses = [503] * len(due)
    client.put(PATH, json={"webhook_url": webhook_receiver.url}, headers=keys["tenant-admin"])
    queue_now(runtime)
    failed = [e for e in _events(runtime, SLUG) if isinstance(e, Reminder.Failed)]
    assert len(failed) == len(due)
    assert {e.error for e in failed} == {"HTTP 503"}
    assert deliveries(runtime, SLUG) == Counter()
    # Nothing is retried before the backoff...
    assert reminders.redeliver_due(runtime, slug=SLUG) == 0
    # ...and everything after it.
    real = runtime.clock
    runtime.clock = lambda: real() + timedelta(seconds=BACKOFF_SECONDS[0] + 1)
    try:
        assert reminders.redeliver_due(
            runtime, slug=SLUG, send=lambda s, r: reminders.deliver(runtime, s, r)
        ) == len(due)
    finally:
        runtime.clock = real
    counted = deliveries(runtime, SLUG)
    assert len(counted) == len(due) and set(counted.values()) == {1}
    by_id = webhook_receiver.by_reminder()
    assert all(len(copies) == 2 for copies in by_id.values())  # the 503 and the retry
    assert all(row["next_at"] is None for row in reminders.outbox(runtime, SLUG))


def test_an_erased_recipient_is_no_longer_sent_to_nor_shown(
    client: TestClient[Any], keys: dict[str, dict[str, str]], smtp_server: SmtpServer
) -> None:
    client.put(
        PATH,
        json={"emails": ["gone@example.org", "kept@example.org"]},
        headers=keys["tenant-admin"],
    )
    erased = client.post(
        f"/v1/tenants/{SLUG}/privacy/erasures",
        json={"email": "gone@example.org", "reason": "asked to be forgotten"},
        headers=keys["tenant-admin"],
    )
    assert erased.status_code in (200, 201), erased.text
    shown = client.get(PATH, headers=keys["tenant-admin"]).json()["emails"]
    assert shown == ["[erased]", "kept@example.org"]
    queue_now(runtime_of(client))
    assert smtp_server.handler.envelopes
    assert all(rcpt == ["kept@example.org"] for _, rcpt in smtp_server.handler.envelopes)


# ------------------------------------------------------------------------------ canary


def test_reminders_carry_no_confidential_text_or_personal_data(
    client: TestClient[Any], smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    runtime = runtime_of(client)
    key, _ = create_demo(
        runtime, slug="demo-fja", name="Demo FJA", template="family-justice", region="Kent"
    )
    admin = bearer(key.secret)
    put = client.put(
        "/v1/tenants/demo-fja/reminder-channels",
        json={"webhook_url": webhook_receiver.url, "emails": ["sec@example.org"]},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    # Each obligation of the year on its due date (a coming-due reminder) and the day
    # after (a missed one, if it was missed): every kind the demo has is reminded of.
    year = obligations.calendar(runtime, "demo-fja")
    days = sorted({o.due_on for o in year} | {o.due_on + timedelta(days=1) for o in year})
    kinds: set[str] = set()
    for day in days:
        calendar = obligations.calendar(runtime, "demo-fja", today=day)
        reminders.queue(runtime, "demo-fja", calendar, day)
        kinds |= {o.kind for o, _ in reminders.to_remind(calendar, day)}
    assert reminders.wait_idle(120)
    assert {"action-item", "meeting", "minutes-approval"} <= kinds
    member_owned = [h for h in webhook_receiver.hooks if "member" in h.json["obligation"]["owner"]]
    assert member_owned  # an action item a member organisation owns: named by id only
    texts = [m.as_string() for m in smtp_server.handler.messages] + [
        h.body.decode() for h in webhook_receiver.hooks
    ]
    assert len(texts) > 10
    with runtime.tenant("demo-fja") as store, store.read() as sql:
        people = sql.all("SELECT * FROM representatives")
        organisations = [r["name"] for r in sql.all("SELECT name FROM members")]
    names = {p.get("name") for p in people} | {p.get("email") for p in people}
    canaries = [CONFIDENTIAL_TEXT, "Representative 1", "Chief Executive of", *organisations]
    canaries += [n for n in names if isinstance(n, str) and n]
    for text in texts:
        for canary in canaries:
            assert canary not in text, canary


def test_e_mail_recipients_are_refused_when_the_platform_sends_no_e_mail(
    client: TestClient[Any], keys: dict[str, dict[str, str]]
) -> None:
    runtime = runtime_of(client)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, smtp_url=None)
    try:
        answer = client.put(PATH, json={"emails": ["a@example.org"]}, headers=keys["tenant-admin"])
    finally:
        runtime.settings = configured
    assert answer.status_code == 422, answer.text
    assert "CONCORD_SMTP_URL" in answer.json()["detail"]
