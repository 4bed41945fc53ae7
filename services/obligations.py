"""Each alliance's obligations calendar and governance health, kept for the umbrella.

* `calendar` — the obligations of an alliance's ToR on a day (domain/obligations.py), from
  facts its own read models hold (ids and dates only).
* `refresh` — computes the calendar, records each obligation newly missed once (a
  `MissedObligation` in the alliance's own log, its id derived from the obligation's key),
  computes the health indicators (domain/health.py) and writes them to the platform's
  `governance_health` table, which the national directory reads. Derived data: `sweep`
  (every alliance) rebuilds it all. Then the reminders those obligations call for are
  queued (services/reminders.py).
* When it runs: after each write to an alliance (`note_changed`: in-process work marks the
  alliance, and the next directory read or the ticker refreshes it; with a broker a worker
  does it), and once a day for every alliance, since dates pass with no write at all
  (`Ticker` in `concord serve` without a broker; the worker's sweep with one;
  `concord sweep-obligations` from cron).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError, Recording
from eventsourcing.persistence import IntegrityError

from domain import health as health_rules
from domain.cadence import MeetingFact
from domain.missed_obligation import MissedObligation
from domain.obligations import (
    ActionItemFact,
    ElectionFact,
    Facts,
    HoldingFact,
    MinutesFact,
    Obligation,
    ReviewFact,
    SeatFact,
    WorkPlanFact,
    newly_missed,
    obligations,
)
from domain.reminders import ReminderChannels
from domain.terms import TermsOfReference
from infra.stores import Sql
from projections import governance, national_directory
from projections import meetings as meetings_view
from services import reminders
from services.errors import NotFound

if TYPE_CHECKING:
    from services.runtime import Runtime, Store

log = logging.getLogger("concord.obligations")

HEALTH_TABLE = (
    "CREATE TABLE IF NOT EXISTS governance_health ("
    " slug TEXT PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " severity INTEGER NOT NULL,"
    " reasons TEXT NOT NULL,"
    " as_of TEXT NOT NULL,"
    " log_position BIGINT NOT NULL,"
    " meetings_required INTEGER NOT NULL,"
    " meetings_held INTEGER NOT NULL,"
    " minutes_approved INTEGER NOT NULL,"
    " minutes_published_in_time INTEGER NOT NULL,"
    " minutes_publication_overdue INTEGER NOT NULL,"
    " review_due_on TEXT,"
    " review_overdue INTEGER NOT NULL,"
    " seats_vacant INTEGER NOT NULL,"
    " terms_expired INTEGER NOT NULL,"
    " applications_waiting INTEGER NOT NULL,"
    " oldest_application_since TEXT,"
    " obligations_overdue INTEGER NOT NULL,"
    " missed_last_12_months INTEGER NOT NULL,"
    " next_due_on TEXT,"
    " last_activity_on TEXT)"
)
INDICATORS = (
    "meetings_required",
    "meetings_held",
    "minutes_approved",
    "minutes_published_in_time",
    "minutes_publication_overdue",
    "review_due_on",
    "review_overdue",
    "seats_vacant",
    "terms_expired",
    "applications_waiting",
    "oldest_application_since",
    "obligations_overdue",
    "missed_last_12_months",
    "next_due_on",
    "last_activity_on",
)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value[:10])


# ------------------------------------------------------------------------------ facts


def facts(sql: Sql) -> Facts:
    """What the calendar needs, from one alliance's read models."""
    return Facts(
        meetings=tuple(
            MeetingFact(
                meeting_id=row["meeting_id"],
                body=row["body"],
                on=date.fromisoformat(row["on_date"]),
                status=row["status"],
            )
            for row in meetings_view.facts(sql)
        ),
        minutes=tuple(
            MinutesFact(
                minutes_id=row["minutes_id"],
                meeting_id=row["meeting_id"],
                body=row["body"],
                held_on=date.fromisoformat(row["meeting_date"][:10]),
                approved_on=_day(row["approved_on"]),
                published_on=_day(row["published_on"]),
                confidential=bool(row["confidential"]),
            )
            for row in sql.all(
                "SELECT minutes_id, meeting_id, body, meeting_date, approved_on, published_on,"
                " confidential FROM minutes ORDER BY seq"
            )
        ),
        work_plans=tuple(
            WorkPlanFact(
                year=row["year"],
                agreed_on=_day(row["agreed_at"]),
                evaluated_on=_day(row["evaluated_at"]),
            )
            for row in sql.all("SELECT year, agreed_at, evaluated_at FROM work_plans ORDER BY year")
        ),
        reviews=tuple(
            ReviewFact(
                review_id=row["review_id"],
                opened_on=date.fromisoformat(row["opened_on"]),
                concluded_on=_day(row["concluded_on"]),
            )
            for row in governance.reviews(sql)
        ),
        holdings=tuple(
            HoldingFact(
                holding_id=row["holding_id"],
                office=row["office"],
                starts_on=date.fromisoformat(row["starts_on"]),
                ends_on=_day(row["ends_on"]),
                left_on=_day(row["left_on"]),
            )
            for row in sql.all(
                "SELECT holding_id, office, starts_on, ends_on, left_on FROM office_holdings"
                " ORDER BY seq"
            )
        ),
        seats=tuple(
            SeatFact(
                seat_id=row["seat_id"],
                body=row["body"],
                seat=row["required_seat"],
                starts_on=date.fromisoformat(row["starts_on"]),
                ends_on=_day(row["ends_on"]),
                left_on=_day(row["left_on"]),
            )
            for row in sql.all(
                "SELECT seat_id, body, required_seat, starts_on, ends_on, left_on"
                " FROM body_seats ORDER BY seq"
            )
        ),
        elections=tuple(
            ElectionFact(
                election_id=row["election_id"],
                office=row["office"],
                opened_on=date.fromisoformat(row["opened_on"]),
                closed_on=_day(row["closed_on"]),
            )
            for row in governance.elections(sql)
        ),
        action_items=tuple(
            ActionItemFact(
                action_item_id=row["action_item_id"],
                owner_kind=row["owner_kind"],
                owner=row["owner"],
                raised_on=date.fromisoformat(row["raised_on"][:10]),
                due_on=date.fromisoformat(row["due_on"]),
                completed_on=_day(row["completed_on"]),
            )
            for row in sql.all(
                "SELECT a.action_item_id, a.owner_kind, a.owner, a.due_on, a.completed_on,"
                " COALESCE(m.approved_on, a.due_on) AS raised_on"
                " FROM action_items a LEFT JOIN minutes m ON m.minutes_id = a.minutes_id"
                " ORDER BY a.seq"
            )
        ),
    )


def _calendar_of(store: Store, slug: str, today: date) -> tuple[list[Obligation], date]:
    """The calendar, and the next review's due date as the ToR aggregate keeps it."""
    try:
        charter: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
    except AggregateNotFoundError:
        raise NotFound(f"the alliance {slug!r} is still being onboarded") from None
    with store.read() as sql:
        found = facts(sql)
    calendar = obligations(versions=charter.versions, facts=found, today=today)
    return calendar, charter.review_due_on()


def calendar(runtime: Runtime, slug: str, *, today: date | None = None) -> list[Obligation]:
    """The alliance's obligations on `today` (default: the runtime's clock)."""
    on = today or runtime.clock().date()
    _known(runtime, slug)
    with runtime.tenant(slug) as store:
        return _calendar_of(store, slug, on)[0]


def _known(runtime: Runtime, slug: str) -> dict[str, Any]:
    with runtime.platform.read() as sql:
        entry = national_directory.find(sql, slug)
    if entry is None:
        raise NotFound(f"no alliance with the slug {slug!r}")
    return entry


# ------------------------------------------------------------------------------ refresh


def record_missed(store: Store, calendar: Iterable[Obligation], today: date) -> list[str]:
    """Record each obligation newly missed, once. Returns the keys recorded here (a key
    another process recorded first is not among them)."""
    with store.read() as sql:
        recorded = governance.missed_keys(sql)
    fresh = newly_missed(calendar, recorded)
    written: list[str] = []
    for obligation in fresh:
        try:
            store.record(MissedObligation.record(obligation, noticed_on=today))
        except IntegrityError:
            continue  # another sweep recorded it first: its id is the key's
        written.append(obligation.key)
    return written


def assess(
    runtime: Runtime, slug: str, *, today: date | None = None
) -> tuple[list[Obligation], health_rules.Health]:
    """The alliance's calendar and health on `today`, computed now (nothing written)."""
    on = today or runtime.clock().date()
    _known(runtime, slug)
    with runtime.tenant(slug) as store:
        found, next_review = _calendar_of(store, slug, on)
        return found, _health_of(store, found, on, next_review)


def _health_of(
    store: Store, calendar: list[Obligation], today: date, next_review: date
) -> health_rules.Health:
    with store.read() as sql:
        waiting = [date.fromisoformat(d) for d in governance.open_applications(sql)]
        last = _day(governance.last_activity(sql))
    return health_rules.health(
        calendar,
        today=today,
        open_applications=waiting,
        last_activity_on=last,
        next_review_on=next_review,
    )


def refresh(runtime: Runtime, slug: str, *, today: date | None = None) -> health_rules.Health:
    """Bring one alliance's missed obligations, health snapshot and reminders up to date."""
    on = today or runtime.clock().date()
    with runtime.tracer.start_as_current_span(
        "obligations.refresh", attributes={"concord.tenant": slug}
    ):
        _known(runtime, slug)
        with runtime.tenant(slug) as store:
            found, next_review = _calendar_of(store, slug, on)
            record_missed(store, found, on)
            result = _health_of(store, found, on, next_review)
            position = store.app.recorder.max_notification_id() or 0
            _write_snapshot(runtime, slug, result, position)
        reminders.queue(runtime, slug, found, on)
        return result


def ensure_table(runtime: Runtime) -> None:
    """The platform's snapshot table (created once, one creator at a time)."""
    runtime.platform.views.ensure_table("governance_health", HEALTH_TABLE)


def _write_snapshot(
    runtime: Runtime, slug: str, result: health_rules.Health, position: int
) -> None:
    ensure_table(runtime)
    values = [getattr(result, name) for name in INDICATORS]
    row = [
        slug,
        result.state,
        health_rules.SEVERITY[result.state],
        "; ".join(result.reasons),
        result.as_of.isoformat(),
        position,
        *[
            v.isoformat() if isinstance(v, date) else int(v) if isinstance(v, bool) else v
            for v in values
        ],
    ]
    columns = ("slug", "state", "severity", "reasons", "as_of", "log_position", *INDICATORS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    with runtime.platform.views.transaction(commit=True) as sql:
        sql.execute(
            f"INSERT INTO governance_health ({', '.join(columns)})"  # noqa: S608
            f" VALUES ({', '.join('?' for _ in columns)})"
            f" ON CONFLICT (slug) DO UPDATE SET {updates}",
            tuple(row),
        )


def snapshot(runtime: Runtime, slug: str) -> dict[str, Any] | None:
    """The last health snapshot of an alliance, or None before its first refresh."""
    ensure_table(runtime)
    with runtime.platform.read() as sql:
        return sql.one("SELECT * FROM governance_health WHERE slug = ?", (slug,))


# ------------------------------------------------------------------------ scheduling


class Pending:
    """Alliances written to since their last refresh, in this process (in-process work)."""

    def __init__(self) -> None:
        self._slugs: set[str] = set()
        self._lock = threading.Lock()

    def add(self, slug: str) -> None:
        with self._lock:
            self._slugs.add(slug)

    def take(self) -> list[str]:
        with self._lock:
            taken, self._slugs = sorted(self._slugs), set()
        return taken


#: Events that change no indicator, so call for no refresh: the platform's own records
#: (a refresh would queue reminders again), and setting reminder channels (which
#: refreshes by itself, so what is due now is reminded of at once).
NOT_ACTIVITY: set[type] = {
    *governance.PLATFORM_RECORDS,
    ReminderChannels.Opened,
    ReminderChannels.Set,
    ReminderChannels.Removed,
}


def on_recorded(runtime: Runtime, store: Store, recordings: Sequence[Recording[Any]]) -> None:
    """After a save to an alliance's store."""
    if all(type(r.domain_event) in NOT_ACTIVITY for r in recordings):
        return
    note_changed(runtime, store.app.store)


def note_changed(runtime: Runtime, slug: str) -> None:
    """After a write to an alliance: its snapshot is refreshed by a worker (with a broker)
    or at the next directory read or tick (in-process)."""
    waker = runtime.waker
    if waker is not None:
        send = getattr(waker, "refresh_governance", None)
        if send is not None:
            send(slug)
            return
    runtime.governance_pending.add(slug)


def refresh_pending(runtime: Runtime) -> int:
    """Refresh the alliances written to since their last refresh (this process)."""
    done = 0
    for slug in runtime.governance_pending.take():
        try:
            refresh(runtime, slug)
            done += 1
        except NotFound:
            continue
        except Exception:
            runtime.governance_pending.add(slug)
            log.exception("governance refresh of %s failed; it stays pending", slug)
    return done


def stale(runtime: Runtime, today: date) -> list[str]:
    """Alliances whose snapshot is missing or older than `today`."""
    ensure_table(runtime)
    with runtime.platform.read() as sql:
        rows = sql.all(
            "SELECT d.slug FROM directory d LEFT JOIN governance_health h ON h.slug = d.slug"
            " WHERE h.as_of IS NULL OR h.as_of < ? ORDER BY d.slug",
            (today.isoformat(),),
        )
    return [row["slug"] for row in rows]


def sweep(runtime: Runtime, *, today: date | None = None, only_stale: bool = False) -> int:
    """Refresh every alliance (or those not yet refreshed today). Returns how many."""
    on = today or runtime.clock().date()
    if only_stale:
        slugs = stale(runtime, on)
    else:
        with runtime.platform.read() as sql:
            slugs = [row["slug"] for row in sql.all("SELECT slug FROM directory ORDER BY slug")]
    done = 0
    for slug in slugs:
        try:
            refresh(runtime, slug, today=on)
            done += 1
        except NotFound:
            continue  # registered, store not founded yet
        except Exception:
            log.exception("governance refresh of %s failed; the next sweep retries", slug)
    return done


class Ticker:
    """In-process work: refreshes pending alliances every `interval` seconds, and every
    alliance whose snapshot is older than today (so a day passing is seen)."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="concord-obligations", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                refresh_pending(self.runtime)
                sweep(self.runtime, only_stale=True)
                # Retries and lapsed attempts of reminders, delivered here (no workers).
                reminders.redeliver_due(self.runtime)
            except Exception:
                log.exception("obligations tick failed; trying again in %ss", self.interval)
            self._stop.wait(self.interval)
