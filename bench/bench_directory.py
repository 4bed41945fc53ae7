"""The national directory's cost: refreshing one alliance's governance health, reading a
page of the directory, exporting it as CSV — each beside a raw baseline on the same store
in the same run.

    .venv/bin/python -m bench.bench_directory                 # SQLite, 300 alliances
    BENCH_ALLIANCES=1000 BENCH_DATABASE=postgres .venv/bin/python -m bench.bench_directory

In process (services, not HTTP: the HTTP layer is bench_http's subject). Baselines:
refresh — one upsert of a row into a table of the platform store (the write a refresh
cannot avoid); page — `SELECT … FROM directory ORDER BY slug LIMIT 50` (the directory
without health); export — reading every directory row. Each alliance is the demo
umbrella's Kent (a year of meetings, minutes, seats and actions) cloned under new slugs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from bench.table import Row, render
from infra.settings import Settings
from services import demo, directory, obligations, onboarding
from services.runtime import Runtime

SERVER = os.environ.get(
    "CONCORD_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` runs."""
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        found.append(1000 * (time.perf_counter() - started))
    return found


@contextmanager
def store() -> Iterator[Settings]:
    if os.environ.get("BENCH_DATABASE") == "postgres":
        name = f"concord_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = SERVER.rsplit("/", 1)[0] + f"/{name}"
            yield Settings(database_url=url, data_dir=tempfile.mkdtemp(), obligations_interval=0)
        finally:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        return
    folder = tempfile.mkdtemp(prefix="concord-bench-")
    try:
        yield Settings(data_dir=folder, obligations_interval=0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    alliances = int(os.environ.get("BENCH_ALLIANCES", "300"))
    with store() as settings:
        runtime = Runtime(settings)
        try:
            rows = measure(runtime, alliances)
        finally:
            runtime.close()
    backend = "PostgreSQL" if settings.uses_postgres else "SQLite"
    print(f"national directory, {alliances} alliances, {backend}")
    print(render(rows))


def measure(runtime: Runtime, alliances: int) -> list[Row]:
    started = time.perf_counter()
    demo.create_umbrella(runtime)  # five alliances with a history
    for number in range(alliances - len(demo.UMBRELLA)):
        onboarding.onboard(
            runtime,
            slug=f"bench-{number:05d}",
            name=f"Bench Alliance {number}",
            region=f"Region {number % 9}",
            template=demo.UMBRELLA[number % 5].template,
            by="bench",
        )
    made = time.perf_counter() - started
    obligations.sweep(runtime)

    refresh = timed(lambda: obligations.refresh(runtime, "demo-kent-fja"), 200)
    obligations.ensure_table(runtime)
    with runtime.platform.views.transaction(commit=True) as s:
        s.execute("CREATE TABLE IF NOT EXISTS bench_upsert (slug TEXT PRIMARY KEY, n INTEGER)")

    def upsert() -> None:
        with runtime.platform.views.transaction(commit=True) as s:
            s.execute(
                "INSERT INTO bench_upsert (slug, n) VALUES ('x', 1)"
                " ON CONFLICT (slug) DO UPDATE SET n = excluded.n + 1"
            )

    raw_upsert = timed(upsert, 200)
    filters = directory.Filters()
    page = timed(
        lambda: directory.page(runtime, filters=filters, sort="state", order="desc", limit=50), 200
    )

    def raw_page() -> None:
        with runtime.platform.read() as s:
            s.all("SELECT * FROM directory ORDER BY slug LIMIT 50")

    raw = timed(raw_page, 200)
    export = timed(lambda: list(directory.export(runtime, filters=filters)), 10)

    def raw_export() -> None:
        with runtime.platform.read() as s:
            s.all("SELECT * FROM directory ORDER BY slug")

    raw_all = timed(raw_export, 10)
    p50 = statistics.median
    return [
        Row(
            "refresh one alliance (calendar, misses, health, snapshot) p50",
            p50(refresh),
            "ms",
            p50(raw_upsert),
            "one upsert",
            higher_is_better=False,
        ),
        Row(
            "directory page of 50, sorted by state, p50",
            p50(page),
            "ms",
            p50(raw),
            "SELECT 50 directory rows",
            higher_is_better=False,
        ),
        Row(
            f"CSV export of {alliances} alliances p50",
            p50(export),
            "ms",
            p50(raw_all),
            "SELECT every directory row",
            higher_is_better=False,
        ),
        Row("alliances onboarded (setup)", alliances / made, "/s"),
    ]


if __name__ == "__main__":
    main()
