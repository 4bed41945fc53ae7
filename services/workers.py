"""Projections in dramatiq workers (when CONCORD_BROKER_URL is set).

The API process saves events and then, instead of applying them itself:

1. sends one small wake-up naming the store, its projections and the log position it
   wrote (ids and a number; never content) — `ProjectionWaker.after_commit`. (One
   message per commit rather than one per projection: sending fifteen was a quarter
   of the API's time, and the worker catches every projection of a store up at once.)
2. waits, bounded by CONCORD_PROJECTION_WAIT_MS, until every projection of the store has
   applied that position, so the response (and any read after it) sees the write. When
   the wait runs out (workers down or far behind), the API process catches that store's
   projections up itself, through the same batches and locks as a worker, so nothing is
   applied twice and read-your-writes still holds; the `Server-Timing` header says who
   did it (`desc="workers"` or `desc="api"`). Only if that fails too does the answer say
   `Concord-Consistency: lagging` (the write is committed either way).

A worker (`concord worker`, `ProjectionWorker`) catches the store's projections up from
their tracking positions in batches (projections/base.py: each batch and its tracking
records in one transaction, behind a lock per store and projection, so concurrent
wake-ups serialise and no event is applied twice); if that fails, the named projection
alone, so one broken projection holds up only itself. A wake-up whose position the
projection has already passed costs one SELECT: a burst of wake-ups coalesces into the
first one's catch-up.
A sweep wakes every projection behind its log, every CONCORD_SWEEP_INTERVAL seconds and
at start, so a lost message (a killed worker, a flushed or restarted broker) heals.

Workers also keep each alliance's obligations (services/obligations.py) and send its
reminders (services/reminders.py), on the same queue:
- `concord_refresh_governance(slug)`, sent by `ProjectionWaker.refresh_governance` after a
  write to an alliance, refreshes its missed obligations, health snapshot and reminders;
  once a day per worker process (a thread of its own) every alliance not yet refreshed
  that day is (`obligations.sweep(only_stale=True)`), since dates pass with no write;
- `concord_send_reminder(slug, reminder_id)` delivers one reminder (each channel claimed
  by an attempt event, so two workers given the same message send once); the sweep sends
  it again for every reminder whose attempt's lease ran out (a killed worker) or whose
  retry is due, from the reminder outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import dramatiq

from infra import msgspec_types
from infra.broker import make_broker, queue_name
from infra.settings import Settings
from infra.stores import PLATFORM
from services import obligations, reminders
from services.errors import NotFound

if TYPE_CHECKING:
    from services.runtime import Runtime, Store

log = logging.getLogger("concord.workers")

#: The one actor: catch some projections of one store up to (at least) a position.
CATCH_UP = "concord_catch_up"
#: The queue of wake-ups, prefixed with the broker namespace.
QUEUE = "projections"
#: Deliver one reminder (ids only: the alliance's slug and the reminder's id).
SEND_REMINDER = "concord_send_reminder"
#: Refresh one alliance's obligations, health snapshot and reminders.
REFRESH_GOVERNANCE = "concord_refresh_governance"


@dataclass
class WriteNote:
    """What the writes of one request did, for its response headers."""

    position: int = 0
    waited_ms: float = 0.0
    caught_up: bool = True
    #: Who applied the request's events to the projections: "workers", "api" or "".
    by: str = ""


#: Set per request by the API's middleware; the writes it makes fill it in.
WRITE_NOTE: ContextVar[WriteNote | None] = ContextVar("concord_write_note", default=None)


def note_recorded(position: int) -> None:
    """The request's events are committed up to this position (noted at once, so that a
    failure after the commit, e.g. while the projections catch up, still counts as a
    recorded write: an Idempotency-Key repeat must not record it again)."""
    note = WRITE_NOTE.get()
    if note is not None:
        note.position = max(note.position, position)


def note_write(position: int, waited_ms: float, *, caught_up: bool, by: str) -> None:
    note = WRITE_NOTE.get()
    if note is not None:
        note.position = position
        note.waited_ms += waited_ms
        note.caught_up = note.caught_up and caught_up
        note.by = "api" if "api" in (note.by, by) else by


def declare_catch_up(
    broker: dramatiq.Broker, settings: Settings, fn: Any
) -> dramatiq.Actor[Any, Any]:
    """The catch-up actor on this broker. Failures retry a few times with a short backoff;
    past that the sweep wakes the projection again."""
    decorate = dramatiq.actor(
        broker=broker,
        actor_name=CATCH_UP,
        queue_name=queue_name(settings, QUEUE),
        max_retries=5,
        min_backoff=200,
        max_backoff=5_000,
    )
    return decorate(fn)


def declare_send_reminder(
    broker: dramatiq.Broker, settings: Settings, fn: Any
) -> dramatiq.Actor[Any, Any]:
    """The reminder actor. Idempotent (each channel's send is claimed in the reminder's
    log); a failure retries a few times, and past that the sweep sends it again."""
    decorate = dramatiq.actor(
        broker=broker,
        actor_name=SEND_REMINDER,
        queue_name=queue_name(settings, QUEUE),
        max_retries=3,
        min_backoff=1_000,
        max_backoff=10_000,
        time_limit=5 * 60_000,
    )
    return decorate(fn)


def declare_refresh_governance(
    broker: dramatiq.Broker, settings: Settings, fn: Any
) -> dramatiq.Actor[Any, Any]:
    """The governance refresh actor (idempotent: a miss is recorded once by its key)."""
    decorate = dramatiq.actor(
        broker=broker,
        actor_name=REFRESH_GOVERNANCE,
        queue_name=queue_name(settings, QUEUE),
        max_retries=3,
        min_backoff=1_000,
        max_backoff=30_000,
        time_limit=10 * 60_000,
    )
    return decorate(fn)


class ProjectionWaker:
    """The API's side: wake the workers after a commit, then wait for them."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.runtime = runtime
        self.broker = make_broker(settings, runtime.tracer)
        self.actor = declare_catch_up(self.broker, settings, _processed_by_workers_only)
        self.reminder_actor = declare_send_reminder(
            self.broker, settings, _processed_by_workers_only
        )
        self.refresh_actor = declare_refresh_governance(
            self.broker, settings, _processed_by_workers_only
        )
        self.timeout = settings.projection_wait_ms / 1000

    def after_commit(self, store: Store, position: int) -> None:
        started = time.perf_counter()
        sent = self.wake(store.app.store, list(store.runner.by_name), position)
        by = "workers"
        # Nobody was woken (the broker is down): waiting would only delay the answer.
        caught_up = self.wait(store, position) if sent else False
        if not caught_up:
            by = "api"
            try:
                store.runner.catch_up()
                caught_up = True
            except Exception as error:
                log.warning(
                    "projections of %s lag and could not be caught up here (%s)",
                    store.app.store,
                    type(error).__name__,
                )
        note_write(position, 1000 * (time.perf_counter() - started), caught_up=caught_up, by=by)

    def wake(self, store: str, projections: list[str], position: int) -> bool:
        """Send the wake-up. A broker that cannot be reached is logged, not raised: the
        events are committed, and the sweep will wake the projections."""
        try:
            self.actor.send(store, projections, position)
        except Exception as error:
            log.warning(
                "could not send a wake-up for %s (%s); the sweep will",
                store,
                type(error).__name__,
            )
            return False
        return True

    def send_reminder(self, slug: str, reminder_id: str) -> bool:
        """Have a worker deliver a reminder. Not sent (broker down): the sweep will."""
        return self._send(self.reminder_actor, "a reminder", slug, reminder_id)

    def refresh_governance(self, slug: str) -> bool:
        """Have a worker refresh an alliance's obligations. Not sent: the daily sweep will."""
        return self._send(self.refresh_actor, "a governance refresh", slug)

    def _send(self, actor: dramatiq.Actor[Any, Any], what: str, *args: str) -> bool:
        try:
            actor.send(*args)
        except Exception as error:
            log.warning("could not send %s for %s (%s)", what, args[0], type(error).__name__)
            return False
        return True

    def wait(self, store: Store, position: int) -> bool:
        """True once every projection of the store has applied `position`; False when the
        bounded wait ran out first."""
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while True:
            if min(store.runner.positions().values()) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.02)

    def close(self) -> None:
        self.broker.close()


class WorkerWaker(ProjectionWaker):
    """A worker process's own writes (reminder attempts, missed obligations): their
    projections are caught up here, at once. Waiting for other workers, as the API does,
    could wait on this very process's threads, all busy waiting too. Messages go out
    through the worker's own actors and broker."""

    def __init__(self, worker: ProjectionWorker) -> None:
        self.runtime = worker.runtime
        self.broker = worker.broker
        self.actor = worker.actor
        self.reminder_actor = worker.reminder_actor
        self.refresh_actor = worker.refresh_actor
        self.timeout = 0.0

    def after_commit(self, store: Store, position: int) -> None:
        started = time.perf_counter()
        store.runner.catch_up()
        note_write(position, 1000 * (time.perf_counter() - started), caught_up=True, by="api")

    def close(self) -> None:
        """The worker closes its broker when it stops."""


def _processed_by_workers_only(*args: Any) -> None:
    raise RuntimeError("these messages are processed by `concord worker`, not by the API")


class ProjectionWorker:
    """A worker process's side: the actor, dramatiq's Worker, and the sweep."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.broker = make_broker(settings, runtime.tracer)
        self.actor = declare_catch_up(self.broker, settings, self.catch_up)
        self.reminder_actor = declare_send_reminder(self.broker, settings, self.send_reminder)
        self.refresh_actor = declare_refresh_governance(
            self.broker, settings, self.refresh_governance
        )
        # This process's own writes catch their projections up here (see WorkerWaker).
        runtime.use_waker(WorkerWaker(self))
        self.worker = dramatiq.Worker(
            self.broker, worker_threads=settings.worker_threads, worker_timeout=50
        )
        self.sweep_interval = settings.sweep_interval
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="concord-sweep", daemon=True)
        self._governance = threading.Thread(
            target=self._governance_loop, name="concord-governance", daemon=True
        )
        #: The day this process last refreshed every stale alliance.
        self.governance_day: date | None = None

    def start(self) -> None:
        msgspec_types.prepare()  # before worker threads convert a Struct for the first time
        self.worker.start()
        self._sweeper.start()
        self._governance.start()

    def stop(self) -> None:
        self._stop.set()
        self._sweeper.join(timeout=10)
        self._governance.join(timeout=10)
        self.worker.stop(timeout=10_000)
        self.broker.close()

    # ------------------------------------------------------------------ the actor

    def catch_up(self, store: str, projections: list[str], position: int) -> None:
        with self._opened(store) as opened:
            if opened is None:
                return
            runner = opened.runner
            unknown = [name for name in projections if name not in runner.by_name]
            if unknown:
                log.warning("wake-up for unknown projections %s of %s", unknown, store)
            named = [name for name in projections if name in runner.by_name]
            positions = runner.positions()
            behind = [name for name in named if positions[name] < position]
            if not behind:
                return  # an earlier wake-up's catch-up already applied it
            with self.runtime.tracer.start_as_current_span(
                "projection.wake",
                attributes={"concord.store": store, "concord.projections": behind},
            ):
                # Every projection of the store at once, each event read and decoded once.
                # Should that fail, each named projection alone, so one broken projection
                # stalls only itself (its failure is raised: dramatiq retries the message).
                try:
                    runner.catch_up()
                except Exception as error:
                    log.warning(
                        "catch-up of all projections of %s failed (%s); one by one",
                        store,
                        type(error).__name__,
                    )
                    failed: Exception | None = None
                    for name in behind:
                        try:
                            runner.catch_up_one(name)
                        except Exception as each:
                            failed = each
                    if failed is not None:
                        raise failed from None

    def send_reminder(self, slug: str, reminder_id: str) -> None:
        if not self.runtime.backend.exists(slug):
            log.warning("reminder for a store that does not exist (%s) dropped", slug)
            return
        reminders.deliver(self.runtime, slug, reminder_id)

    def refresh_governance(self, slug: str) -> None:
        try:
            obligations.refresh(self.runtime, slug)
        except NotFound:
            log.warning("governance refresh for an alliance without a store (%s) dropped", slug)

    @contextmanager
    def _opened(self, store: str) -> Iterator[Store | None]:
        if store == PLATFORM:
            yield self.runtime.platform
            return
        if not self.runtime.backend.exists(store):
            log.warning("wake-up for a store that does not exist (%s) dropped", store)
            yield None
            return
        with self.runtime.tenant(store) as opened:
            yield opened

    # ------------------------------------------------------------------ the sweep

    def _sweep_loop(self) -> None:
        while True:
            try:
                woken = self.sweep()
                if woken:
                    log.info("sweep woke %d lagging projections", woken)
            except Exception:
                log.exception("sweep failed; trying again in %ss", self.sweep_interval)
            try:
                sent = self.redeliver_reminders()
                if sent:
                    log.info("sweep sent %d reminders again", sent)
            except Exception:
                log.exception("reminder sweep failed; trying again in %ss", self.sweep_interval)
            if self._stop.wait(self.sweep_interval):
                return

    def redeliver_reminders(self) -> int:
        """Send again every reminder whose attempt's lease ran out or whose retry is due."""
        return reminders.redeliver_due(self.runtime, send=self.reminder_actor.send)

    def _governance_loop(self) -> None:
        while True:
            try:
                self.daily_governance()
            except Exception:
                log.exception("governance sweep failed; trying again in %ss", self.sweep_interval)
            if self._stop.wait(self.sweep_interval):
                return

    def daily_governance(self) -> int:
        """Once a day in this process: refresh every alliance not yet refreshed today
        (dates pass with no write). Returns how many were refreshed (0: not due)."""
        today = self.runtime.clock().date()
        if self.governance_day == today:
            return 0
        done = obligations.sweep(self.runtime, today=today, only_stale=True)
        self.governance_day = today
        return done

    def sweep(self) -> int:
        """Wake every projection behind its store's log. Returns how many were woken.
        On PostgreSQL one worker sweeps at a time (the others skip this round)."""
        woken = 0
        backend = self.runtime.backend
        stores = [PLATFORM, *backend.tenant_stores()]
        with backend.log_heads(stores, exclusive="concord.sweep") as heads:
            for store, head, positions in heads:
                lagging = [
                    projection.name
                    for projection in self.runtime.projections_of(store)
                    if positions.get(projection.name, 0) < head
                ]
                if lagging:
                    self.actor.send(store, lagging, head)
                    woken += len(lagging)
        return woken
