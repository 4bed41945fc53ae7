"""The stores and projections on both backends: rebuild equals live, exactly once under races,
bounded caches and connections."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from domain.alliance import Alliance
from domain.errors import InvalidSlug
from domain.tenant import Tenant
from domain.values import Role
from infra.settings import Settings
from infra.stores import schema_name
from services import access, onboarding
from services.runtime import Runtime, Store
from tests.raw_store import store_pages


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every projection table of a store, in a stable order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with store.read() as sql:
        for projection in store.runner.projections:
            for table in projection.tables:
                rows = sql.all(f"SELECT * FROM {table}")
                tables[table] = sorted(rows, key=repr)
    return tables


@pytest.fixture
def runtime(settings: Settings):
    opened = Runtime(settings)
    yield opened
    opened.close()


def populate(runtime: Runtime) -> None:
    for slug in ("kent-fja", "york-ssf", "leeds-kin"):
        onboarding.onboard(
            runtime, slug=slug, name=slug.upper(), region="North", template="kinship-care", by="t"
        )
    onboarding.suspend(runtime, "york-ssf", reason="review", by="t")
    onboarding.reinstate(runtime, "york-ssf", by="t")
    onboarding.suspend(runtime, "leeds-kin", reason="review", by="t")
    key = access.issue_key(runtime, tenant="kent-fja", role=Role.MEMBER, label="m", issued_by="t")
    access.revoke_key(runtime, key_id=key.key_id, tenant="kent-fja", revoked_by="t")


def test_rebuilding_the_platform_projections_reaches_the_live_state(runtime):
    populate(runtime)
    live = snapshot(runtime.platform)
    assert len(live["directory"]) == 3 and len(live["api_keys"]) == 4

    applied = runtime.platform.runner.rebuild()

    assert applied > 0
    assert snapshot(runtime.platform) == live


def test_rebuilding_a_tenant_projections_reaches_the_live_state(runtime):
    populate(runtime)
    with runtime.tenant("kent-fja") as store:
        live = snapshot(store)
        assert live["alliance_profile"][0]["slug"] == "kent-fja"

        store.runner.rebuild()

        assert snapshot(store) == live


def test_racing_runners_apply_every_event_exactly_once(settings):
    # Two runtimes stand for two processes sharing one platform store.
    first, second = Runtime(settings), Runtime(settings)
    try:
        for number in range(40):
            first.platform.app.save(  # saved without catching up: both runners race for them
                Tenant(
                    slug=f"t{number:02d}",
                    name="n",
                    region="r",
                    template="kinship-care",
                    onboarded_by="t",
                )
            )
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def race(runtime: Runtime) -> None:
            try:
                barrier.wait()
                for _ in range(5):
                    runtime.platform.runner.catch_up()
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=race, args=(r,)) for r in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        live = snapshot(first.platform)
        assert len(live["directory"]) == 40
        first.platform.runner.rebuild()
        assert snapshot(first.platform) == live
    finally:
        first.close()
        second.close()


def test_a_projection_bug_is_not_mistaken_for_a_race(runtime):
    onboarding.onboard(
        runtime, slug="kent-fja", name="K", region="r", template="kinship-care", by="t"
    )
    with runtime.platform.views.transaction(commit=True) as sql:
        sql.execute(
            "DELETE FROM views_tracking"
            if runtime.backend.kind == "postgresql"
            else "DELETE FROM tracking WHERE application_name = 'national_directory'"
        )
    # Replaying onto rows that already exist breaks the UNIQUE slug: a real error, raised.
    with pytest.raises(Exception) as raised:
        runtime.platform.runner.catch_up()
    assert "PositionMoved" not in type(raised.value).__name__


def test_tenant_stores_are_opened_on_demand_and_the_cache_is_bounded(settings):
    runtime = Runtime(settings)
    try:
        capacity = settings.tenant_cache_size
        for number in range(capacity + 5):
            onboarding.onboard(
                runtime,
                slug=f"alliance-{number}",
                name="n",
                region="r",
                template="kinship-care",
                by="t",
            )
        assert runtime.open_tenants == capacity
        # An evicted alliance opens again, with its history intact.
        assert onboarding.profile(runtime, "alliance-0")["slug"] == "alliance-0"
        assert runtime.open_tenants == capacity
    finally:
        runtime.close()


def test_a_store_in_use_is_closed_only_when_its_last_user_is_done(settings):
    runtime = Runtime(settings.__class__(**{**_fields(settings), "tenant_cache_size": 1}))
    try:
        for slug in ("first-one", "second-one"):
            onboarding.onboard(
                runtime, slug=slug, name="n", region="r", template="kinship-care", by="t"
            )
        with runtime.tenant("first-one") as store:
            with runtime.tenant("second-one"):
                pass  # evicts first-one from the cache while we still hold it
            with store.read() as sql:  # still usable: not closed under our feet
                assert sql.one("SELECT slug FROM alliance_profile")["slug"] == "first-one"
    finally:
        runtime.close()


def test_unknown_slugs_never_reach_the_database(runtime):
    for slug in ("Kent", "x", "a;drop", 'q"; drop schema platform; --'):
        with pytest.raises(InvalidSlug):
            schema_name(slug)
        with pytest.raises(InvalidSlug), runtime.tenant(slug):
            pass


def test_the_same_alliance_cannot_be_founded_twice_in_its_store(runtime):
    onboarding.onboard(
        runtime, slug="kent-fja", name="K", region="r", template="kinship-care", by="t"
    )

    with runtime.tenant("kent-fja") as store, pytest.raises(Exception) as raised:
        store.record(Alliance(slug="kent-fja", name="K2", region="r", template="t", founded_by="x"))

    assert "Integrity" in type(raised.value).__name__


def _fields(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_connections_stay_bounded_however_many_tenants(settings, postgres_url):
    runtime = Runtime(settings)
    try:
        for number in range(30):
            onboarding.onboard(
                runtime,
                slug=f"alliance-{number}",
                name="n",
                region="r",
                template="kinship-care",
                by="t",
            )
        for number in range(30):
            onboarding.profile(runtime, f"alliance-{number}")
        database = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_url) as conn:
            count = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()[0]
        # Our own probe is one of them; the service's share is capped by the pool size.
        assert count - 1 <= settings.db_pool_size
        stats = runtime.backend.pool.get_stats()
        assert stats["pool_max"] == settings.db_pool_size
    finally:
        runtime.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_each_tenant_has_its_own_schema(settings, postgres_url):
    runtime = Runtime(settings)
    try:
        onboarding.onboard(
            runtime, slug="kent-fja", name="K", region="r", template="kinship-care", by="t"
        )
        with psycopg.connect(postgres_url) as conn:
            tables = {
                (schema, table)
                for schema, table in conn.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                    " WHERE table_schema IN ('platform', 'tenant_kent_fja')"
                ).fetchall()
            }
        assert ("tenant_kent_fja", "alliance_events") in tables
        assert ("tenant_kent_fja", "alliance_profile") in tables
        assert ("platform", "platform_events") in tables
        assert ("platform", "directory") in tables
        assert not any(
            schema == "platform" and table == "alliance_events" for schema, table in tables
        )
    finally:
        runtime.close()


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("older", ["reader", "writer"])
def test_a_purge_waits_for_older_snapshots_so_no_deleted_row_stays_in_the_files(
    runtime, postgres_url, older
):
    """A deleted row a transaction open elsewhere in the database might still see survives
    VACUUM FULL; the purge (used to destroy ballot sealing keys) waits for such a
    transaction to end first."""
    secret = "purge-canary-" + "7" * 40
    onboarding.onboard(
        runtime, slug="purged", name="Purged", region="Kent", template="kinship-care", by="t"
    )
    with runtime.tenant("purged") as store:
        with store.views.transaction(commit=True) as sql:
            sql.execute("CREATE TABLE IF NOT EXISTS purge_probe (secret TEXT)")
            sql.execute("INSERT INTO purge_probe (secret) VALUES (?)", (secret,))
        other = psycopg.connect(postgres_url)
        try:
            if older == "reader":  # a snapshot from before the delete
                other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                other.execute("SELECT 1").fetchone()
            else:  # a transaction that wrote before the delete, idle between statements
                other.execute("CREATE TABLE IF NOT EXISTS elsewhere (n INT)")
                other.commit()
                other.execute("INSERT INTO elsewhere VALUES (1)")
            with store.views.transaction(commit=True) as sql:
                sql.execute("DELETE FROM purge_probe")
            purge = threading.Thread(target=store.views.purge, args=("purge_probe",))
            purge.start()
            purge.join(timeout=1.0)
            assert purge.is_alive(), f"the purge waits while the older {older} is open"
            other.commit()
        finally:
            other.close()
        purge.join(timeout=60)
        assert not purge.is_alive()

    pages = store_pages(runtime, postgres_url, "purged")
    assert not [where for where, data in pages if secret.encode() in data]
