"""`concord migrate`: bring every store up to this release before it serves.

For the platform store and then every tenant store, in parallel jobs: provision it again
(idempotent: on a store made before them it installs the event table's append-only
trigger and, with an owner URL, the application role's grants), open it (which brings
each projection's tables to its class's `version`, dropping and re-creating those that
changed), and catch up every projection that is behind its log (those just reset, and
any a crash left behind). Running it twice does nothing the second time but check.

An error in one store is reported with its name and the run goes on; the caller turns
any failure into a non-zero exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from opentelemetry.trace import Tracer

from infra.settings import Settings
from infra.stores import PLATFORM, Backend, make_backend
from infra.telemetry import Telemetry
from projections.base import Projection
from services.applications import AllianceApplication, PlatformApplication
from services.runtime import PLATFORM_PROJECTIONS, TENANT_PROJECTIONS, Store


@dataclass
class StoreOutcome:
    """What migrating one store did."""

    store: str
    #: Projections whose tables were at another version: dropped, re-created, replayed.
    migrated: list[str] = field(default_factory=list)
    #: Projections caught up (the migrated ones and any behind their log).
    caught_up: list[str] = field(default_factory=list)
    #: Event applications replayed.
    applied: int = 0
    #: The event table had no append-only trigger before this run.
    guarded_now: bool = False
    error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.migrated or self.caught_up or self.guarded_now)


@dataclass
class Summary:
    stores: int = 0
    seconds: float = 0.0
    outcomes: list[StoreOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def projections_migrated(self) -> int:
        return sum(len(o.migrated) for o in self.outcomes)

    @property
    def stores_changed(self) -> int:
        return sum(1 for o in self.outcomes if o.changed)

    @property
    def guarded(self) -> int:
        return sum(1 for o in self.outcomes if o.guarded_now)

    def line(self) -> str:
        return (
            f"migrated {self.stores} stores in {self.seconds:.1f} s: "
            f"{self.projections_migrated} projections migrated, "
            f"{self.stores_changed} stores changed, {self.guarded} event tables made "
            f"append-only, {len(self.failed)} failed"
        )


def migrate_store(
    backend: Backend, store: str, projections: Sequence[type[Projection]], tracer: Tracer
) -> StoreOutcome:
    """Provision, open (projection schema migrations) and catch up one store."""
    outcome = StoreOutcome(store)
    catalog = getattr(backend, "catalog", None)
    before = catalog(store) if catalog is not None else None
    backend.provision(store)
    application_class = PlatformApplication if store == PLATFORM else AllianceApplication
    opened = Store(application_class(backend, store, tracer), projections)
    try:
        outcome.migrated = list(opened.runner.migrated)
        last = opened.app.recorder.max_notification_id() or 0
        for name, position in opened.runner.positions().items():
            if position < last or name in outcome.migrated:
                outcome.applied += opened.runner.catch_up_one(name)
                outcome.caught_up.append(name)
    finally:
        opened.close()
    if before is not None:
        after = catalog(store) if catalog is not None else None
        outcome.guarded_now = not before.guarded and after is not None and after.guarded
    return outcome


def migrate_all(
    settings: Settings,
    *,
    jobs: int = 4,
    echo: Callable[[str], None] = print,
    only: Sequence[str] | None = None,
) -> Summary:
    """Migrate the platform store, then every tenant store (or those in `only`) with at
    most `jobs` at once (never more than half the connection pool: see below)."""
    started = time.perf_counter()
    telemetry = Telemetry("none")
    backend = make_backend(
        settings.database_url,
        settings.data_dir,
        pool_size=settings.db_pool_size,
        owner_url=settings.database_owner_url,
    )
    summary = Summary()
    lock = threading.Lock()
    last_report = [started]

    def one(store: str) -> StoreOutcome:
        projections = PLATFORM_PROJECTIONS if store == PLATFORM else TENANT_PROJECTIONS
        try:
            outcome = migrate_store(backend, store, projections, telemetry.tracer)
        except Exception as error:  # reported with the store; the run goes on
            outcome = StoreOutcome(store, error=f"{type(error).__name__}: {error}".strip())
        with lock:
            summary.outcomes.append(outcome)
            done = len(summary.outcomes)
            if outcome.error is not None:
                echo(f"  {store}: FAILED {outcome.error}")
            elif outcome.changed:
                parts = []
                if outcome.guarded_now:
                    parts.append("append-only trigger installed")
                if outcome.migrated:
                    parts.append("migrated " + ", ".join(outcome.migrated))
                if outcome.caught_up:
                    parts.append(f"replayed {outcome.applied} event applications")
                echo(f"  {store}: " + "; ".join(parts))
            now = time.perf_counter()
            if now - last_report[0] >= 5 or done == summary.stores:
                last_report[0] = now
                echo(
                    f"  ... {done}/{summary.stores} stores, {len(summary.failed)} failed, "
                    f"{now - started:.0f} s"
                )
        return outcome

    try:
        tenants = list(only) if only is not None else backend.tenant_stores()
        summary.stores = 1 + len(tenants)
        echo(f"migrating the platform store and {len(tenants)} tenant stores")
        platform = one(PLATFORM)
        if platform.error is None:
            # A catch-up holds a view transaction while it reads the log on a second
            # connection: each job may hold two of the pool's connections at once.
            room = max(1, settings.db_pool_size // 2) if settings.uses_postgres else jobs
            workers = max(1, min(jobs, room))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="migrate") as pool:
                list(pool.map(one, tenants))
        else:
            echo("  the platform store failed: tenant stores not attempted")
    finally:
        backend.close()
        telemetry.shutdown()
    summary.seconds = time.perf_counter() - started
    return summary
