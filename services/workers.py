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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq

from infra import msgspec_types
from infra.broker import make_broker, queue_name
from infra.settings import Settings
from infra.stores import PLATFORM

if TYPE_CHECKING:
    from services.runtime import Runtime, Store

log = logging.getLogger("concord.workers")

#: The one actor: catch some projections of one store up to (at least) a position.
CATCH_UP = "concord_catch_up"
#: The queue of wake-ups, prefixed with the broker namespace.
QUEUE = "projections"


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
    return dramatiq.actor(
        fn,
        broker=broker,
        actor_name=CATCH_UP,
        queue_name=queue_name(settings, QUEUE),
        max_retries=5,
        min_backoff=200,
        max_backoff=5_000,
    )


class ProjectionWaker:
    """The API's side: wake the workers after a commit, then wait for them."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.runtime = runtime
        self.broker = make_broker(settings, runtime.tracer)
        self.actor = declare_catch_up(self.broker, settings, _processed_by_workers_only)
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


def _processed_by_workers_only(store: str, projections: list[str], position: int) -> None:
    raise RuntimeError("wake-ups are processed by `concord worker`, not by the API")


class ProjectionWorker:
    """A worker process's side: the actor, dramatiq's Worker, and the sweep."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.broker = make_broker(settings, runtime.tracer)
        self.actor = declare_catch_up(self.broker, settings, self.catch_up)
        self.worker = dramatiq.Worker(
            self.broker, worker_threads=settings.worker_threads, worker_timeout=50
        )
        self.sweep_interval = settings.sweep_interval
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="concord-sweep", daemon=True)

    def start(self) -> None:
        msgspec_types.prepare()  # before worker threads convert a Struct for the first time
        self.worker.start()
        self._sweeper.start()

    def stop(self) -> None:
        self._stop.set()
        self._sweeper.join(timeout=10)
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
            if self._stop.wait(self.sweep_interval):
                return

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
