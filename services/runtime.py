"""The running platform: its backend, the platform store, and a bounded cache of tenant stores."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Recording
from eventsourcing.domain import Aggregate

from domain.values import checked_slug
from infra.personal_keys import PersonalDataMapper, PersonalKeys
from infra.settings import Settings
from infra.stores import PLATFORM, Backend, Sql, Timeouts, make_backend
from infra.telemetry import Telemetry
from projections.action_items import ActionItemsView
from projections.alliance_profile import AllianceProfile
from projections.base import Projection, ProjectionRunner
from projections.confidentiality import ConfidentialityView
from projections.elections import ElectionsView
from projections.governance import GovernanceFacts
from projections.key_register import KeyRegister
from projections.meetings import MeetingCalendar
from projections.member_register import MemberRegister
from projections.membership_applications import MembershipApplicationsView
from projections.minutes import MinutesView
from projections.motions import MotionsView
from projections.national_directory import NationalDirectory
from projections.office_holders import OfficeHolders
from projections.terms_of_reference import TermsOfReferenceView
from projections.work_plans import WorkPlansView
from projections.working_groups import WorkingGroupsView
from services import obligations
from services.applications import AllianceApplication, PlatformApplication, StoreApplication
from services.audit import checkpoints
from services.errors import NotFound
from services.workers import ProjectionWaker, note_recorded, note_write

PLATFORM_PROJECTIONS: Sequence[type[Projection]] = (NationalDirectory, KeyRegister)
TENANT_PROJECTIONS: Sequence[type[Projection]] = (
    AllianceProfile,
    TermsOfReferenceView,
    MembershipApplicationsView,
    MemberRegister,
    OfficeHolders,
    WorkingGroupsView,
    WorkPlansView,
    MeetingCalendar,
    MinutesView,
    ActionItemsView,
    ConfidentialityView,
    MotionsView,
    ElectionsView,
    GovernanceFacts,
)


class Store:
    """One store opened for use: its Application, its views and their runner."""

    def __init__(self, app: StoreApplication, projections: Sequence[type[Projection]]) -> None:
        self.app = app
        self.views = app.backend.open_views(app.store, app.factory)
        if isinstance(app.mapper, PersonalDataMapper):  # people's keys live in the views
            app.mapper.keyring = PersonalKeys(self.views)
        self.runner = ProjectionRunner(
            app, self.views, [p() for p in projections], app.tracer, store=app.store
        )
        #: Called after each save (a tenant's store issues checkpoints at milestones).
        self.on_recorded: Callable[[Store, Sequence[Recording[Any]]], None] | None = None
        #: With a broker: the waker of the workers that run the projections.
        self.waker: Callable[[], ProjectionWaker | None] = lambda: None
        self._users = 0
        self._evicted = False
        self._lock = threading.Lock()

    def record(self, *aggregates: Aggregate) -> int:
        """Save the aggregates' new events, then bring the projections up to date (here,
        or by the workers while this waits for them, bounded), so a read straight after a
        write sees it. Returns the last log position."""
        recordings = self.app.save(*aggregates)
        position = recordings[-1].notification.id if recordings else 0
        if recordings:
            note_recorded(position)
        waker = self.waker()
        if waker is not None and recordings:
            waker.after_commit(self, position)
        else:
            started = time.perf_counter()
            self.runner.catch_up()
            elapsed = 1000 * (time.perf_counter() - started)
            note_write(position, elapsed, caught_up=True, by="api")
        if self.on_recorded is not None and recordings:
            self.on_recorded(self, recordings)
        return position

    @contextmanager
    def read(self) -> Iterator[Sql]:
        with self.views.transaction(commit=False) as sql:
            yield sql

    # Leases: an evicted store is closed only once nobody is using it.
    def _acquire(self) -> None:
        with self._lock:
            self._users += 1

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._evicted and self._users == 0
        if close:
            self.close()

    def _evict(self) -> None:
        with self._lock:
            self._evicted = True
            close = self._users == 0
        if close:
            self.close()

    def close(self) -> None:
        self.views.close()
        self.app.close()


class Runtime:
    """Everything a process needs to serve the platform: built once from the settings."""

    def __init__(self, settings: Settings, telemetry: Telemetry | None = None) -> None:
        self.settings = settings
        self.telemetry = telemetry or Telemetry(settings.otel_exporter)
        self.tracer = self.telemetry.tracer
        self.backend: Backend = make_backend(
            settings.database_url,
            settings.data_dir,
            pool_size=settings.db_pool_size,
            owner_url=settings.database_owner_url,
            timeouts=Timeouts(
                statement_ms=settings.db_statement_timeout_ms,
                lock_ms=settings.db_lock_timeout_ms,
                pool_seconds=settings.db_pool_timeout_ms / 1000,
            ),
        )
        self.backend.provision(PLATFORM)
        self.platform = Store(
            PlatformApplication(self.backend, PLATFORM, self.tracer), PLATFORM_PROJECTIONS
        )
        self._waker: ProjectionWaker | None = None
        self._waker_lock = threading.Lock()
        self.platform.waker = lambda: self.waker
        self._tenants: OrderedDict[str, Store] = OrderedDict()
        self._tenants_lock = threading.Lock()
        #: A lock per alliance whose store this process has opened (see _lease).
        self._opening: dict[str, threading.Lock] = {}
        self._capacity = settings.tenant_cache_size
        #: Alliances written to since their governance snapshot was last refreshed.
        self.governance_pending = obligations.Pending()
        #: The one clock of the process; tests may replace it.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @staticmethod
    def projections_of(store: str) -> Sequence[type[Projection]]:
        """The projections a store keeps (the platform's, or every alliance's)."""
        return PLATFORM_PROJECTIONS if store == PLATFORM else TENANT_PROJECTIONS

    @property
    def waker(self) -> ProjectionWaker | None:
        """With CONCORD_BROKER_URL: the sender of wake-ups (made on first use, so a worker
        process, which never writes, holds no sender)."""
        if self.settings.broker_url is None:
            return None
        with self._waker_lock:
            if self._waker is None:
                self._waker = ProjectionWaker(self.settings, self)
            return self._waker

    def use_waker(self, waker: ProjectionWaker) -> None:
        """Send wake-ups through this waker (a worker process: its own, which catches its
        writes up at once rather than waiting for other workers)."""
        with self._waker_lock:
            self._waker = waker

    @contextmanager
    def tenant(self, slug: str, *, provision: bool = False) -> Iterator[Store]:
        """The store of one alliance, opened on demand and kept in a bounded LRU cache.

        The caller has already checked that the alliance exists (or is onboarding it,
        with provision=True): this never creates a store for an unknown slug by accident.
        """
        store = self._lease(checked_slug(slug), provision=provision)
        try:
            yield store
        finally:
            store._release()

    def _lease(self, slug: str, *, provision: bool) -> Store:
        store = self._cached(slug)
        if store is not None:
            return store
        with self._tenants_lock:
            opening = self._opening.setdefault(slug, threading.Lock())
        # One thread of this process opens a store at a time: two opening the same new
        # store at once would race to create its tables (a request and the obligations
        # ticker, say, while the alliance is being onboarded).
        with opening:
            store = self._cached(slug)
            if store is not None:
                return store
            return self._open(slug, provision=provision)

    def _cached(self, slug: str) -> Store | None:
        with self._tenants_lock:
            store = self._tenants.get(slug)
            if store is not None:
                self._tenants.move_to_end(slug)
                store._acquire()
            return store

    def _open(self, slug: str, *, provision: bool) -> Store:
        if provision:
            self.backend.provision(slug)
        elif not self.backend.exists(slug):
            raise NotFound(
                f"the alliance {slug!r} has no store yet: its onboarding did not finish; "
                "onboard it again to complete it"
            )
        opened = Store(AllianceApplication(self.backend, slug, self.tracer), TENANT_PROJECTIONS)
        opened.on_recorded = self._after_tenant_save
        opened.waker = lambda: self.waker
        evicted: list[Store] = []
        with self._tenants_lock:
            store = self._tenants.get(slug)
            if store is None:
                store, opened = opened, None  # type: ignore[assignment]
                self._tenants[slug] = store
                while len(self._tenants) > self._capacity:
                    _, oldest = self._tenants.popitem(last=False)
                    evicted.append(oldest)
            store._acquire()
        if opened is not None:  # another thread opened it first
            opened.close()
        for old in evicted:
            old._evict()
        return store

    def _after_tenant_save(self, store: Store, recordings: Sequence[Recording[Any]]) -> None:
        """Milestone checkpoints (services/audit/checkpoints.py), then the alliance's
        governance snapshot marked for refresh (services/obligations.py)."""
        checkpoints.on_recorded(self, store, recordings)
        obligations.on_recorded(self, store, recordings)

    @property
    def open_tenants(self) -> int:
        with self._tenants_lock:
            return len(self._tenants)

    def close(self) -> None:
        with self._tenants_lock:
            stores = list(self._tenants.values())
            self._tenants.clear()
        for store in stores:
            store._evict()
        self.platform.close()
        if self._waker is not None:
            self._waker.close()
        self.backend.close()
        self.telemetry.shutdown()
