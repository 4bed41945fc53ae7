"""Reminders of an alliance's obligations: queued once per obligation and stage, delivered
once per channel (its webhook, its e-mail recipients), through an outbox.

* `queue` (called at the end of each governance refresh, services/obligations.py) records a
  `Reminder` (domain/reminders.py) for each obligation at a stage, when the alliance has
  channels, then dispatches it: with a broker, one `concord_send_reminder` message each
  (services/workers.py); without one, a background thread of this process delivers them.
* `deliver` sends one reminder to each of its channels, each send claimed first by an
  attempt event (optimistic concurrency: one claimer wins) with a lease, and recorded as
  `Delivered` or `Failed` after it.
* The outbox table (`reminder_outbox`, in the platform's view store: ids and times only)
  says when each unsettled reminder needs looking at: now, when its lease runs out, when
  its retry is due. Workers' sweeps (`redeliver_due`) send those again. It is a hint kept
  beside the log: every look at a reminder rewrites its row from the aggregate itself.
* Channels: `set_channels` / `remove_channels` / `channels_of`. The webhook's signing
  secret lives in the alliance's view store (`reminder_secrets`), never in the log; e-mail
  addresses are `people` entries, sealed per person and erasable
  (infra/personal_keys.py), and are never logged.

See docs/reminders.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.obligations import Obligation
from domain.privacy import is_erased
from domain.reminders import (
    AlreadyDelivered,
    Reminder,
    ReminderChannels,
    StaleAttempt,
    to_remind,
)
from infra import outbound
from infra.settings import Settings
from services import obligations
from services.audit.checkpoints import check_sink_url
from services.errors import InvalidRequest

if TYPE_CHECKING:
    from services.runtime import Runtime, Store

log = logging.getLogger("concord.reminders")

#: Reminder events are the platform's doing, not the alliance's governance: they call for
#: no governance refresh (which would queue reminders again).
REMINDER_EVENTS: frozenset[type] = frozenset(
    {
        Reminder.Queued,
        Reminder.AttemptStarted,
        Reminder.Delivered,
        Reminder.Failed,
        # Setting channels changes no indicator either (set_channels asks for a refresh
        # itself, so that what is due now is reminded of at once).
        ReminderChannels.Opened,
        ReminderChannels.Set,
        ReminderChannels.Removed,
    }
)


def _register() -> None:
    """Add the reminder events to `obligations.NOT_ACTIVITY` (idempotent)."""
    known = getattr(obligations, "NOT_ACTIVITY", None)
    if known is not None and not known >= REMINDER_EVENTS:
        known.update(REMINDER_EVENTS)


_register()

WEBHOOK_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 30
USER_AGENT = "concord-reminders/1"
SIGNATURE_HEADER = "Concord-Signature"
ID_HEADER = "Concord-Reminder-Id"
SECRET_PREFIX = "crs_"  # noqa: S105 (a prefix, not a secret)
#: An e-mail address as reminders accept it: one @, no spaces or angle brackets.
EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")

SECRETS_TABLE = (
    "CREATE TABLE IF NOT EXISTS reminder_secrets ("
    " secret_id TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at TEXT NOT NULL)"
)
OUTBOX_TABLE = (
    "CREATE TABLE IF NOT EXISTS reminder_outbox ("
    " slug TEXT NOT NULL,"
    " reminder_id TEXT NOT NULL,"
    " obligation_key TEXT NOT NULL,"
    " stage TEXT NOT NULL,"
    " next_at TEXT,"
    " PRIMARY KEY (slug, reminder_id))"
)


def link(settings: Settings, slug: str, key: str) -> str:
    """Where a reminder's reader finds the obligation (GET .../obligations/{key})."""
    base = (settings.public_base_url or "http://localhost:8000").rstrip("/")
    return f"{base}/v1/tenants/{slug}/obligations/{quote(key, safe='')}"


# ------------------------------------------------------------------------------ channels


# The secrets table is not a projection (a rebuild of the read models leaves it alone).
# It is created on first use (ViewStore.ensure_table: once per process, one creator at a
# time).


def _new_secret(store: Store, now: datetime) -> tuple[str, str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    secret_id = secrets.token_hex(8)
    store.views.ensure_table("reminder_secrets", SECRETS_TABLE)
    with store.views.transaction(commit=True) as sql:
        sql.execute(
            "INSERT INTO reminder_secrets (secret_id, secret, created_at) VALUES (?, ?, ?)",
            (secret_id, secret, now.isoformat()),
        )
    return secret_id, secret


def _secret(store: Store, secret_id: str) -> str | None:
    store.views.ensure_table("reminder_secrets", SECRETS_TABLE)
    with store.views.transaction(commit=True) as sql:
        row = sql.one("SELECT secret FROM reminder_secrets WHERE secret_id = ?", (secret_id,))
    return None if row is None else str(row["secret"])


def _forget_secrets(store: Store, keep: str | None) -> None:
    """Delete every secret but the one in use (a replaced secret verifies nothing)."""
    store.views.ensure_table("reminder_secrets", SECRETS_TABLE)
    with store.views.transaction(commit=True) as sql:
        sql.execute("DELETE FROM reminder_secrets WHERE secret_id <> ?", (keep or "",))


def _load_channels(store: Store, slug: str) -> ReminderChannels | None:
    try:
        found: ReminderChannels = store.app.repository.get(ReminderChannels.create_id(slug))
    except AggregateNotFoundError:
        return None
    return found


@dataclass(frozen=True)
class ChannelsView:
    """The channels as a read shows them (no secret; erased addresses as "[erased]")."""

    webhook_url: str | None
    secret_id: str | None
    emails: list[str]
    since: datetime | None
    updated_at: datetime | None


def _emails(channels: ReminderChannels) -> list[str]:
    out = []
    for person in channels.people:
        if is_erased(person):
            out.append("[erased]")
        elif isinstance(person.get("email"), str):
            out.append(str(person["email"]))
    return out


def _view(channels: ReminderChannels | None) -> ChannelsView:
    if channels is None:
        return ChannelsView(None, None, [], None, None)
    return ChannelsView(
        channels.webhook_url,
        channels.secret_id,
        _emails(channels),
        channels.since,
        channels.updated_at,
    )


def channels_of(runtime: Runtime, slug: str) -> ChannelsView:
    """The alliance's reminder channels."""
    _register()
    with runtime.tenant(slug) as store:
        return _view(_load_channels(store, slug))


def checked_emails(emails: Sequence[str]) -> list[str]:
    """The recipients, trimmed and without repeats; InvalidRequest naming the position of
    one that is not an address (the address itself is not repeated back)."""
    out: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(emails):
        email = raw.strip()
        if not EMAIL.match(email) or ".." in email:
            raise InvalidRequest(f"emails[{index}]: not an e-mail address (name@domain)")
        if email.lower() not in seen:
            seen.add(email.lower())
            out.append(email)
    return out


def set_channels(
    runtime: Runtime,
    slug: str,
    *,
    webhook_url: str | None,
    emails: Sequence[str],
    rotate_secret: bool,
    by: str,
) -> tuple[ChannelsView, str | None]:
    """Send the alliance's reminders to this webhook and these addresses. Returns the
    channels and, when one was made now (first webhook, or `rotate_secret`), the webhook's
    new signing secret: it is shown this once."""
    _register()
    url = (
        None
        if webhook_url is None
        else check_sink_url(webhook_url, runtime.settings.outbound_networks)
    )
    recipients = checked_emails(emails)
    if recipients and runtime.settings.smtp_url is None:
        raise InvalidRequest(
            "emails: this platform sends no e-mail (its operator has not set CONCORD_SMTP_URL);"
            " use a webhook"
        )
    if rotate_secret and url is None:
        raise InvalidRequest("rotate_secret: there is no webhook to sign for")
    now = runtime.clock()
    with runtime.tenant(slug) as store:
        channels = _load_channels(store, slug) or ReminderChannels.open(slug)
        secret_id, secret = channels.secret_id, None
        if url is None:
            secret_id = None
        elif secret_id is None or rotate_secret:
            secret_id, secret = _new_secret(store, now)
        channels.set(webhook_url=url, secret_id=secret_id, emails=recipients, by=by, now=now)
        store.record(channels)
        _forget_secrets(store, secret_id)
        view = _view(channels)
    obligations.note_changed(runtime, slug)  # reminders for what is due now
    return view, secret


def remove_channels(runtime: Runtime, slug: str, *, by: str) -> None:
    """Send the alliance no more reminders."""
    _register()
    with runtime.tenant(slug) as store:
        channels = _load_channels(store, slug)
        if channels is None or not channels.configured:
            return
        channels.remove(by=by, now=runtime.clock())
        store.record(channels)
        _forget_secrets(store, None)


# ------------------------------------------------------------------------------ outbox


def _outbox(runtime: Runtime) -> None:
    runtime.platform.views.ensure_table("reminder_outbox", OUTBOX_TABLE)


def _note(runtime: Runtime, slug: str, reminder: Reminder) -> None:
    """Write the reminder's outbox row from the aggregate as loaded. A channel never
    claimed is looked at again a lease after queuing (its message was lost, or waits
    behind many), not at every sweep."""
    _outbox(runtime)
    due = reminder.due_at()
    if due is not None and due == reminder.queued_at:
        due += timedelta(seconds=runtime.settings.reminder_lease_seconds)
    with runtime.platform.views.transaction(commit=True) as sql:
        sql.execute(
            "INSERT INTO reminder_outbox (slug, reminder_id, obligation_key, stage, next_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug, reminder_id)"
            " DO UPDATE SET next_at = excluded.next_at",
            (
                slug,
                str(reminder.id),
                reminder.obligation_key,
                reminder.stage,
                None if due is None else due.isoformat(),
            ),
        )


def _queued_keys(runtime: Runtime, slug: str) -> set[tuple[str, str]]:
    _outbox(runtime)
    with runtime.platform.read() as sql:
        rows = sql.all("SELECT obligation_key, stage FROM reminder_outbox WHERE slug = ?", (slug,))
    return {(r["obligation_key"], r["stage"]) for r in rows}


def due(runtime: Runtime, now: datetime, *, slug: str | None = None) -> list[tuple[str, str]]:
    """(slug, reminder id) of the reminders that need a worker now. Each is put off by a
    lease as it is taken, so the next sweep does not send it again while it waits in the
    queue (the worker that looks at it rewrites the row)."""
    _outbox(runtime)
    where = "next_at IS NOT NULL AND next_at <= ?"
    params: list[Any] = [now.isoformat()]
    if slug is not None:
        where += " AND slug = ?"
        params.append(slug)
    later = (now + timedelta(seconds=runtime.settings.reminder_lease_seconds)).isoformat()
    taken: list[tuple[str, str]] = []
    with runtime.platform.views.transaction(commit=True) as sql:
        rows = sql.all(
            f"SELECT slug, reminder_id, next_at FROM reminder_outbox WHERE {where}"  # noqa: S608
            " ORDER BY next_at LIMIT 1000",
            params,
        )
        for row in rows:
            moved = sql.one(
                "UPDATE reminder_outbox SET next_at = ? WHERE slug = ? AND reminder_id = ?"
                " AND next_at = ? RETURNING reminder_id",
                (later, row["slug"], row["reminder_id"], row["next_at"]),
            )
            if moved is not None:  # else another sweep took it just now
                taken.append((row["slug"], row["reminder_id"]))
    return taken


def outbox(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    """The alliance's outbox rows (for operators and tests)."""
    _outbox(runtime)
    with runtime.platform.read() as sql:
        return sql.all(
            "SELECT reminder_id, obligation_key, stage, next_at FROM reminder_outbox"
            " WHERE slug = ? ORDER BY obligation_key, stage",
            (slug,),
        )


# ------------------------------------------------------------------------------ queue


def queue(runtime: Runtime, slug: str, calendar: Iterable[Obligation], today: date) -> int:
    """Queue the reminders the calendar calls for on `today` (when the alliance has
    channels) and dispatch them. Returns how many were queued here."""
    _register()
    wanted = to_remind(calendar, today)
    with runtime.tracer.start_as_current_span(
        "reminders.queue", attributes={"concord.tenant": slug}
    ) as span:
        with runtime.tenant(slug) as store:
            channels = _load_channels(store, slug)
            if channels is None or not channels.configured:
                return 0
            known = _queued_keys(runtime, slug)
            fresh = [(o, s) for o, s in wanted if (o.key, s) not in known]
            now = runtime.clock()
            made: list[Reminder] = []
            for obligation, stage in fresh:
                reminder = Reminder.queue(slug, obligation, stage, channels.channels(), now=now)
                try:
                    store.record(reminder)
                    made.append(reminder)
                except IntegrityError:
                    # Queued before (by another process, or this one before a crash):
                    # make sure the outbox knows it.
                    existing: Reminder = store.app.repository.get(reminder.id)
                    _note(runtime, slug, existing)
            for reminder in made:
                _note(runtime, slug, reminder)
        span.set_attribute("concord.reminders_queued", len(made))
    if made or runtime.waker is None:
        # In-process work also retries here what is due again (there is no worker sweep).
        dispatch(runtime, slug, [str(r.id) for r in made])
    return len(made)


def dispatch(runtime: Runtime, slug: str, reminder_ids: Sequence[str]) -> None:
    """Have the reminders delivered: by the workers (a message each) or, without a
    broker, by a background thread of this process."""
    waker = runtime.waker
    if waker is not None:
        for reminder_id in reminder_ids:
            waker.send_reminder(slug, reminder_id)
        return
    _in_process(runtime, slug, reminder_ids)


_running: dict[str, threading.Thread] = {}
_pending: dict[str, list[str]] = {}
_running_lock = threading.Lock()


def _in_process(runtime: Runtime, slug: str, reminder_ids: Sequence[str]) -> None:
    """One delivery thread per alliance at a time (non-daemon, so a command such as
    `concord sweep-obligations` finishes its sends before it exits); ids handed over while
    it runs are delivered by it before it ends."""
    with _running_lock:
        _pending.setdefault(slug, []).extend(reminder_ids)
        current = _running.get(slug)
        if current is not None and current.is_alive():
            return
        thread = threading.Thread(
            target=_deliver_loop, args=(runtime, slug), name=f"reminders-{slug}", daemon=False
        )
        _running[slug] = thread
    thread.start()


def _deliver_loop(runtime: Runtime, slug: str) -> None:
    """Deliver the ids handed over, then whatever of the alliance is due again (retries,
    leases run out), until nothing is left."""
    while True:
        with _running_lock:
            if slug not in _pending:
                _running.pop(slug, None)
                return
            ids = _pending.pop(slug)
        try:
            for reminder_id in ids:
                deliver(runtime, slug, reminder_id)
            redeliver_due(runtime, slug=slug, send=lambda s, r: deliver(runtime, s, r))
        except Exception:
            log.exception("reminders of %s not delivered; the next refresh retries", slug)


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait for this process's delivery threads (in-process work) to finish."""
    deadline = time.monotonic() + timeout
    while True:
        with _running_lock:
            threads = [t for t in _running.values() if t.is_alive()]
        if not threads:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        threads[0].join(timeout=remaining)


def redeliver_due(
    runtime: Runtime,
    *,
    slug: str | None = None,
    send: Any = None,
) -> int:
    """Hand on every reminder that needs a worker now (never tried, a lease run out, a
    retry due): to `send(slug, reminder_id)`, else to the workers. Returns how many."""
    found = due(runtime, runtime.clock(), slug=slug)
    for each_slug, reminder_id in found:
        if send is not None:
            send(each_slug, reminder_id)
        else:
            dispatch(runtime, each_slug, [reminder_id])
    return len(found)


# ------------------------------------------------------------------------------ deliver


class SendFailed(Exception):
    """A send did not reach its receiver: `error` is its kind (never a body)."""

    def __init__(self, error: str, *, retry: bool) -> None:
        super().__init__(error)
        self.error = error
        self.retry = retry


def deliver(runtime: Runtime, slug: str, reminder_id: str) -> dict[str, str]:
    """Deliver one reminder to each of its channels not yet delivered (each send claimed
    first). Returns what happened per channel (for logs and tests)."""
    _register()
    outcome: dict[str, str] = {}
    with runtime.tenant(slug) as store:
        try:
            reminder: Reminder = store.app.repository.get(UUID(reminder_id))
        except (AggregateNotFoundError, ValueError):
            log.warning("reminder %s of %s does not exist; dropped", reminder_id, slug)
            return outcome
        for channel in reminder.channels:
            outcome[channel] = _deliver_channel(runtime, store, slug, reminder.id, channel)
        _note(runtime, slug, store.app.repository.get(reminder.id))
    return outcome


def _deliver_channel(
    runtime: Runtime, store: Store, slug: str, reminder_id: UUID, channel: str
) -> str:
    reminder: Reminder = store.app.repository.get(reminder_id)
    now = runtime.clock()
    step = reminder.delivery(channel).next_step(now)
    if step == "give-up":
        reminder.give_up(channel, now=now)
        return _save_or(store, reminder, "given-up", "taken")
    if step != "claim":
        return step  # done, or another attempt's lease / a retry is pending
    lease = timedelta(seconds=runtime.settings.reminder_lease_seconds)
    attempt = reminder.claim(channel, now=now, lease=lease)
    try:
        store.record(reminder)
    except IntegrityError:
        return "taken"  # another worker claimed it at this version
    _note(runtime, slug, reminder)
    with runtime.tracer.start_as_current_span(
        "reminder.send",
        attributes={
            "concord.tenant": slug,
            "concord.reminder_id": str(reminder_id),
            "concord.channel": channel,
            "concord.attempt": attempt,
            "concord.stage": reminder.stage,
        },
    ) as span:
        try:
            _send(runtime, store, slug, reminder, channel)
        except SendFailed as failed:
            span.set_attribute("concord.outcome", "failed")
            span.set_attribute("concord.error", failed.error)
            log.warning(
                "reminder %s of %s: %s attempt %d failed (%s)",
                reminder_id,
                slug,
                channel,
                attempt,
                failed.error,
            )
            return _record_outcome(
                runtime, store, reminder_id, channel, attempt, failed.error, failed.retry
            )
        span.set_attribute("concord.outcome", "delivered")
    return _record_outcome(runtime, store, reminder_id, channel, attempt, None, False)


def _save_or(store: Store, reminder: Reminder, done: str, lost: str) -> str:
    try:
        store.record(reminder)
    except IntegrityError:
        return lost
    return done


def _record_outcome(
    runtime: Runtime,
    store: Store,
    reminder_id: UUID,
    channel: str,
    attempt: int,
    error: str | None,
    retry: bool,
) -> str:
    """Record Delivered or Failed, reloading on a conflict (another worker appended
    meanwhile: e.g. a new attempt after this one's lease ran out)."""
    for _ in range(5):
        reminder: Reminder = store.app.repository.get(reminder_id)
        now = runtime.clock()
        try:
            if error is None:
                reminder.record_delivered(channel, attempt, now=now)
            else:
                reminder.record_failed(channel, attempt, error, now=now, retry=retry)
        except AlreadyDelivered:
            return "delivered-by-another"
        except StaleAttempt:
            return "superseded"
        try:
            store.record(reminder)
        except IntegrityError:
            continue
        return "delivered" if error is None else ("retry" if retry else "given-up")
    raise RuntimeError(f"could not record the outcome of reminder {reminder_id}")


def _send(runtime: Runtime, store: Store, slug: str, reminder: Reminder, channel: str) -> None:
    channels = _load_channels(store, slug)
    if channels is None:
        raise SendFailed("channel-removed", retry=False)
    if channel == "webhook":
        if channels.webhook_url is None or channels.secret_id is None:
            raise SendFailed("channel-removed", retry=False)
        secret = _secret(store, channels.secret_id)
        if secret is None:
            raise SendFailed("secret-missing", retry=False)
        send_webhook(
            runtime.settings, channels.webhook_url, secret, payload(runtime, slug, reminder)
        )
    elif channel == "email":
        recipients = [
            str(p["email"])
            for p in channels.people
            if not is_erased(p) and isinstance(p.get("email"), str)
        ]
        if not recipients:
            raise SendFailed("channel-removed", retry=False)
        send_email(runtime.settings, recipients, email_message(runtime, slug, reminder))
    else:
        raise SendFailed("unknown-channel", retry=False)


# ------------------------------------------------------------------------------ webhook


def payload(runtime: Runtime, slug: str, reminder: Reminder) -> dict[str, Any]:
    """The webhook's JSON: what the obligation carries, nothing else."""
    return {
        "reminder_id": str(reminder.id),
        "alliance": slug,
        "obligation": {
            "key": reminder.obligation_key,
            "kind": reminder.kind,
            "title": reminder.title,
            "due_on": reminder.due_on.isoformat(),
            "clause": reminder.clause,
            "owner": reminder.owner,
        },
        "stage": reminder.stage,
        "link": link(runtime.settings, slug, reminder.obligation_key),
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Concord-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """How a receiver checks a webhook: the HMAC matches and t is within `tolerance`
    seconds of its own clock (an old, replayed request is refused)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def send_webhook(settings: Settings, url: str, secret: str, body_of: dict[str, Any]) -> None:
    body = msgspec.json.encode(body_of)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: str(body_of["reminder_id"]),
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
    }
    try:
        answer = outbound.post(
            url,
            body,
            headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            private_networks=settings.outbound_networks,
        )
    except outbound.DestinationRefused:
        raise SendFailed("destination-refused", retry=True) from None
    except OSError as error:
        raise SendFailed(type(error).__name__, retry=True) from None
    status = answer.status
    if 200 <= status < 300:
        return
    retry = status >= 500 or status in (408, 425, 429)
    raise SendFailed(f"HTTP {status}", retry=retry)


# ------------------------------------------------------------------------------ e-mail

STAGE_WORDS = {
    "coming-due": "is due",
    "missed": "was missed",
}


def _domain(settings: Settings) -> str:
    sender = settings.smtp_from
    return sender.rsplit("@", 1)[1].strip(" >") if "@" in sender else "concord.invalid"


def message_id(settings: Settings, reminder_id: str) -> str:
    """The same for every copy of one reminder, so a mailbox can drop a duplicate."""
    return f"<{UUID(reminder_id).hex}.reminder@{_domain(settings)}>"


def email_message(runtime: Runtime, slug: str, reminder: Reminder) -> EmailMessage:
    settings = runtime.settings
    words = STAGE_WORDS.get(reminder.stage, reminder.stage)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = "undisclosed-recipients:;"
    message["Subject"] = f"[Concord] {slug}: an obligation {words} (due {reminder.due_on})"
    message["Message-ID"] = message_id(settings, str(reminder.id))
    message["Date"] = formatdate(usegmt=True)
    message[ID_HEADER] = str(reminder.id)
    clause = f"\nClause of the Terms of Reference: {reminder.clause}" if reminder.clause else ""
    lead = (
        "This obligation of the alliance is due now."
        if reminder.stage == "coming-due"
        else "This obligation of the alliance passed its due date unmet; the miss is recorded."
    )
    message.set_content(
        f"{lead}\n\n"
        f"{reminder.title}\n"
        f"Due by: {reminder.due_on}{clause}\n\n"
        f"See it here: {link(settings, slug, reminder.obligation_key)}\n\n"
        f"Reminder {reminder.id} ({reminder.stage}) for the alliance {slug}. You receive it "
        "because your alliance's tenant admin listed this address for reminders.\n"
    )
    return message


def send_email(settings: Settings, recipients: Sequence[str], message: EmailMessage) -> None:
    if settings.smtp_url is None:
        raise SendFailed("smtp-not-configured", retry=True)
    parts = urlsplit(settings.smtp_url)
    secure = parts.scheme == "smtps"
    host = parts.hostname or "localhost"
    port = parts.port or (465 if secure else 25)
    try:
        client: smtplib.SMTP
        if secure:
            client = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if settings.smtp_starttls and not secure:
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username is not None and settings.smtp_password is not None:
                client.login(settings.smtp_username, settings.smtp_password)
            refused = client.send_message(
                message, from_addr=settings.smtp_from, to_addrs=list(recipients)
            )
        if refused:
            log.warning("reminder e-mail refused for %d of its recipients", len(refused))
    except smtplib.SMTPRecipientsRefused:
        raise SendFailed("smtp-recipients-refused", retry=False) from None
    except smtplib.SMTPResponseException as error:
        raise SendFailed(f"SMTP {error.smtp_code}", retry=error.smtp_code < 500) from None
    except (smtplib.SMTPException, OSError) as error:
        raise SendFailed(type(error).__name__, retry=True) from None
