"""Many tenants on one PostgreSQL through a small pool and a small store cache: every
alliance writes and reads its own data and sees nobody else's, stores are evicted and
reopened along the way, and the database never sees more connections than the pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from litestar.testing import TestClient

from infra.settings import Settings
from infra.stores import PostgresBackend
from services import onboarding
from services.api.app import create_app
from services.runtime import Runtime
from tests.conftest import ADMIN, ADMIN_KEY, bearer

pytestmark = pytest.mark.postgres

TENANTS = 120
CACHE = 16
POOL = 4


class ConnectionWatch:
    """Counts the database's connections (other than its own) every few milliseconds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.most = 0
        self.samples = 0

    @contextmanager
    def watching(self) -> Iterator[ConnectionWatch]:
        stop = threading.Event()

        def run() -> None:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not stop.wait(0.02):
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchone()
                    assert row is not None
                    self.most = max(self.most, int(row[0]))
                    self.samples += 1

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()


def test_many_tenants_each_see_only_their_own_data_within_the_pool(postgres_url, tmp_path):
    settings = Settings(
        database_url=postgres_url,
        data_dir=str(tmp_path / "var"),
        admin_key=ADMIN_KEY,
        tenant_cache_size=CACHE,
        db_pool_size=POOL,
    )
    slugs = [f"many-{number:03d}" for number in range(TENANTS)]
    keys: dict[str, str] = {}
    watch = ConnectionWatch(postgres_url)
    with watch.watching(), TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime
        for slug in slugs:
            body = {"slug": slug, "name": slug, "region": "Kent", "template": "children-in-care"}
            made = client.post("/v1/tenants", json=body, headers=ADMIN)
            assert made.status_code == 201, made.text
            keys[slug] = made.json()["admin_key"]["secret"]
        # Every tenant writes, in an order that keeps evicting and reopening stores.
        for slug in slugs[::2] + slugs[1::2]:
            filed = client.post(
                f"/v1/tenants/{slug}/applications",
                json={"name": f"Organisation of {slug}", "request_text": "Join."},
                headers=bearer(keys[slug]),
            )
            assert filed.status_code == 201, filed.text
        assert runtime.open_tenants <= CACHE
        for slug in reversed(slugs):
            listed = client.get(f"/v1/tenants/{slug}/applications", headers=bearer(keys[slug]))
            assert listed.status_code == 200, listed.text
            names = [row["name"] for row in listed.json()["items"]]
            assert names == [f"Organisation of {slug}"], (slug, names)
        # A tenant's key opens no other tenant's data.
        for mine, theirs in zip(slugs[:10], slugs[-10:], strict=True):
            refused = client.get(f"/v1/tenants/{theirs}/applications", headers=bearer(keys[mine]))
            assert refused.status_code in (403, 404), refused.text
        assert runtime.open_tenants <= CACHE

    assert watch.samples > 10
    # A connection replaced after its uses (see the next test) is closed before its
    # successor opens, but its backend may take a few ms to leave pg_stat_activity.
    replaced = runtime.backend.recycler.retired
    assert 1 <= watch.most <= POOL + (1 if replaced else 0), (watch.most, replaced)
    with psycopg.connect(postgres_url) as conn:
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"
        ).fetchone()
    assert schemas is not None and schemas[0] == TENANTS


def test_opening_an_existing_store_sends_no_ddl(postgres_url, tmp_path, monkeypatch):
    settings = Settings(database_url=postgres_url, data_dir=str(tmp_path / "var"), db_pool_size=2)
    runtime = Runtime(settings)
    try:
        for slug in ("ddl-one", "ddl-two"):
            onboarding.onboard(
                runtime, slug=slug, name=slug, region="Kent", template="children-in-care", by="t"
            )
    finally:
        runtime.close()
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def watched(cursor, query, params=None, **kwargs):
        text = query.as_string(cursor) if hasattr(query, "as_string") else str(query)
        sent.append(" ".join(text.split()))
        return execute(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", watched)
    runtime = Runtime(settings)  # a new process, as it were: the platform store opens first
    try:
        with runtime.tenant("ddl-one") as store, store.read() as sql:
            assert sql.one("SELECT count(*) AS n FROM applications") == {"n": 0}
        sent.clear()
        with runtime.tenant("ddl-two") as store:  # what it has learned applies to the next
            store.record()
    finally:
        runtime.close()

    ddl = [s for s in sent if s.upper().startswith(("CREATE", "DO ", "ALTER", "DROP"))]
    assert sent and ddl == [], ddl


def test_pooled_connections_are_replaced_after_their_uses(postgres_url):
    """A backend's catalogue caches grow with every schema it serves: a connection is
    replaced after `max_uses` uses, and the pool stays within its size meanwhile."""
    backend = PostgresBackend(postgres_url, pool_size=1)
    backend.recycler.max_uses = 3
    try:
        pids = []
        for _ in range(7):
            with backend.connection() as conn:
                row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
                assert row is not None
                pids.append(row["pid"])
    finally:
        backend.close()
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert pids[3] == pids[4] == pids[5] != pids[6]
    assert backend.recycler.retired == 2
