"""Write and read paths against a raw baseline measured in the same run.

    .venv/bin/python bench/bench_write_path.py [--requests N] [--postgres URL]

Baseline: a bare litestar endpoint doing one INSERT into the same kind of database.
Concord: issuing a key (an event saved, then projections caught up, then the answer),
reading an alliance (directory + profile projections), applying to join (the ToR version
in force loaded, eligibility checked, the event saved, the alliance's projections caught
up) and reading a page of applications. Prints requests/s and the
ratio to the baseline. Timings are of this machine and this run only.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from litestar import Litestar, post
from litestar.testing import TestClient

from infra.settings import Settings
from services.api.app import create_app

ADMIN_KEY = "bench-platform-admin-key-0123456789"


def rate(label: str, count: int, call: Callable[[int], Any]) -> float:
    for number in range(min(20, count)):  # warm up
        call(-1 - number)
    started = time.perf_counter()
    for number in range(count):
        call(number)
    elapsed = time.perf_counter() - started
    per_second = count / elapsed
    print(f"  {label:<46} {per_second:9.1f} req/s  {1000 * elapsed / count:7.2f} ms/req")
    return per_second


def baseline_app(insert: Callable[[str], None]) -> Litestar:
    @post("/insert", sync_to_thread=True)
    def handler(data: dict[str, str]) -> dict[str, str]:
        insert(data["id"])
        return {"id": data["id"]}

    return Litestar([handler])


def sqlite_insert(folder: Path) -> Callable[[str], None]:
    conn = sqlite3.connect(folder / "raw.sqlite", check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, body TEXT)")

    def insert(value: str) -> None:
        conn.execute("INSERT INTO raw VALUES (?, ?)", (value, "x" * 200))

    return insert


def postgres_insert(url: str) -> Callable[[str], None]:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, body TEXT)")

    def insert(value: str) -> None:
        conn.execute("INSERT INTO bench_raw VALUES (%s, %s)", (value, "x" * 200))

    return insert


def run(kind: str, settings: Settings, insert: Callable[[str], None], count: int) -> None:
    print(f"\n{kind}: {count} sequential requests each, in-process ASGI client")
    with TestClient(baseline_app(insert)) as raw:
        base = rate(
            "baseline: bare endpoint, one INSERT",
            count,
            lambda n: raw.post("/insert", json={"id": uuid.uuid4().hex}),
        )
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        body = client.post(
            "/v1/tenants",
            json={"slug": "bench", "name": "Bench", "region": "R", "template": "kinship-care"},
            headers=admin,
        ).json()
        tenant = {"Authorization": f"Bearer {body['admin_key']['secret']}"}
        write = rate(
            "concord: issue a key (event + projections)",
            count,
            lambda n: client.post(
                "/v1/tenants/bench/keys", json={"role": "member", "label": "b"}, headers=tenant
            ),
        )
        read = rate(
            "concord: read an alliance (projections)",
            count,
            lambda n: client.get("/v1/tenants/bench", headers=tenant),
        )
        apply = rate(
            "concord: apply to join (ToR in force + checks)",
            count,
            lambda n: client.post(
                "/v1/tenants/bench/applications",
                json={
                    "name": f"Organisation {uuid.uuid4().hex}",
                    "request_text": "We ask to join.",
                    "signatory_role": "Chief executive",
                },
                headers=tenant,
            ),
        )
        register = rate(
            "concord: read a page of 50 applications",
            count,
            lambda n: client.get("/v1/tenants/bench/applications?limit=50", headers=tenant),
        )
    print(f"  ratio write/baseline: {write / base:.2f}   ratio read/baseline: {read / base:.2f}")
    print(
        f"  ratio apply/baseline: {apply / base:.2f}   "
        f"ratio applications page/baseline: {register / base:.2f}"
    )


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default=None, help="a database URL to run on as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=str(Path(folder) / "var"), admin_key=ADMIN_KEY)
        run("SQLite (embedded)", settings, sqlite_insert(Path(folder)), args.requests)
    if args.postgres:
        server = psycopg.connect(args.postgres, autocommit=True)
        name = f"concord_bench_{uuid.uuid4().hex[:8]}"
        server.execute(f'CREATE DATABASE "{name}"')
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
        try:
            settings = Settings(database_url=url, data_dir=".", admin_key=ADMIN_KEY)
            run("PostgreSQL", settings, postgres_insert(url), args.requests)
        finally:
            server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            server.close()


if __name__ == "__main__":
    main()
