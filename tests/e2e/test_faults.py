"""Faults, with real processes: database connections killed mid-request, the API killed
with SIGKILL under load, PostgreSQL stopped with `pg_ctl stop -m immediate`, and locks
held too long (docs/operations.md, "Faults and timeouts").

What every test here holds the service to: an answer is a success, or a retryable 503
`database-unavailable` problem with Retry-After, never a 500 and never a hang; every
acknowledged (2xx) write is in the log and the read models exactly once; no write is
half-present (each aggregate's versions run 1..n without a gap); the projections equal a
rebuild from zero. Randomised runs print their seed (rerun one with
CONCORD_TEST_FAULT_SEED=<seed>).
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import pytest
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from litestar.testing import TestClient

from infra import stores
from infra.settings import Settings, SettingsError
from infra.stores import Timeouts, schema_name
from services.api.app import create_app
from services.runtime import Runtime
from tests.conftest import ADMIN, ADMIN_KEY, IN_CI, bearer, free_port
from tests.e2e.test_membership_api import APPLY, DECIDE
from tests.e2e.test_workers import dump

SLUG = "kent-fja"
TENANT = f"/v1/tenants/{SLUG}"
UNAVAILABLE = "urn:concord:problem:database-unavailable"
PROBLEM_JSON = "application/problem+json"
#: The hang detector: a client gives up on an answer after this long. Every bound the
#: tests configure is far below it, so reaching it means the request hangs.
HANG_SECONDS = 60.0
#: The API's connections carry this name, so that the test finds them in pg_stat_activity.
API_APP_NAME = "concord-api-under-fault"
#: How many randomised runs each fault test makes.
SEEDED_RUNS = 3


# ------------------------------------------------------------------------------ helpers


def seeds() -> list[int]:
    """The seeds of the randomised runs: CONCORD_TEST_FAULT_SEED repeats one."""
    given = os.environ.get("CONCORD_TEST_FAULT_SEED")
    if given:
        return [int(given)]
    first = random.SystemRandom().randrange(1, 1_000_000)
    return [first + n for n in range(SEEDED_RUNS)]


@contextmanager
def seeded(seed: int) -> Iterator[random.Random]:
    """A random source; a failure inside names the seed that reproduces it."""
    try:
        yield random.Random(seed)
    except BaseException as error:
        error.add_note(f"fault run seed {seed}: rerun with CONCORD_TEST_FAULT_SEED={seed}")
        raise


def tagged(url: str) -> str:
    """A database URL whose connections name themselves (to be found and killed)."""
    return url + ("&" if "?" in url else "?") + "application_name=" + API_APP_NAME


def assert_unavailable(response: httpx.Response | Any) -> None:
    """A retryable 503 problem that says the database could not serve the request."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["type"] == UNAVAILABLE, body
    assert body["status"] == 503
    assert int(response.headers["retry-after"]) > 0
    assert body["reason"] in ("timeout", "connection")


def event_versions(settings: Settings, slug: str) -> dict[str, list[int]]:
    """Each aggregate of an alliance's log with its versions in log order, read raw."""
    versions: dict[str, list[int]] = {}
    if settings.database_url is None:
        path = Path(settings.data_dir) / "tenants" / slug / "events.sqlite"
        connection = sqlite3.connect(path)
        try:
            rows = connection.execute(
                "SELECT originator_id, originator_version FROM stored_events ORDER BY rowid"
            ).fetchall()
        finally:
            connection.close()
    else:
        with psycopg.connect(settings.database_url) as connection:
            rows = connection.execute(
                f'SELECT originator_id::text, originator_version FROM "{schema_name(slug)}"'
                ".alliance_events ORDER BY notification_id"
            ).fetchall()
    for originator, version in rows:
        versions.setdefault(str(originator), []).append(int(version))
    return versions


def assert_no_write_half_present(settings: Settings, slug: str) -> None:
    """Every aggregate's versions are 1, 2, ... n in log order: no command's events are
    missing in part, none recorded twice."""
    for originator, found in event_versions(settings, slug).items():
        assert found == list(range(1, len(found) + 1)), (originator, found)


def catch_up(settings: Settings, slug: str) -> None:
    """Bring the projections up to the log, as the next write would."""
    runtime = Runtime(msgspec.structs.replace(settings, broker_url=None))
    try:
        runtime.platform.runner.catch_up()
        with runtime.tenant(slug) as store:
            store.runner.catch_up()
    finally:
        runtime.close()


def assert_projections_equal_a_rebuild(settings: Settings, slug: str) -> None:
    """Every projection of the alliance and of the platform, as the service left it,
    equals the same projection replayed from zero, and stands at the log's head.

    (As tests/e2e/test_workers.py's check, but counting the events replayed rather than
    taking the head for their number: an append cut off by a killed connection has used
    up its sequence numbers, so the log's positions have gaps.)"""
    runtime = Runtime(msgspec.structs.replace(settings, broker_url=None))
    try:
        _equal_to_a_rebuild(runtime.platform)
        with runtime.tenant(slug) as store:
            _equal_to_a_rebuild(store)
    finally:
        runtime.close()


def _equal_to_a_rebuild(store: Any) -> None:
    head = store.app.recorder.max_notification_id() or 0
    assert set(store.runner.positions().values()) == {head}
    events = len(store.app.recorder.select_notifications(start=1, limit=10**9))
    as_left = dump(store)
    assert store.runner.rebuild() == events * len(store.runner.projections)
    assert dump(store) == as_left


def onboard_over_http(base: str) -> dict[str, str]:
    created = httpx.post(
        f"{base}/v1/tenants",
        json={"slug": SLUG, "name": "Kent FJA", "region": "Kent", "template": "family-justice"},
        headers=ADMIN,
        timeout=HANG_SECONDS,
    )
    assert created.status_code == 201, created.text
    return bearer(created.json()["admin_key"]["secret"])


def listed(base: str, key: dict[str, str], what: str = "applications") -> list[dict[str, Any]]:
    """Every application (or member) in the read model."""
    items: list[dict[str, Any]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"after": after} if after else {})
        page = httpx.get(f"{base}{TENANT}/{what}", params=params, headers=key, timeout=HANG_SECONDS)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        after = body.get("next_after")
        if not after:
            return items


# ------------------------------------------------------------------------------ server


@dataclass
class Server:
    """`concord serve` as a real process in a session of its own (killed by its group)."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        concord = Path(sys.executable).with_name("concord")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(concord), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"concord serve did not start:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: no shutdown, transactions cut off mid-way."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGINT)

    def _end(self, signum: int) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {
        "CONCORD_DATA_DIR": settings.data_dir,
        "CONCORD_ADMIN_KEY": ADMIN_KEY,
        "CONCORD_DB_POOL_SIZE": str(settings.db_pool_size),
        # The load is one alliance's: no rate limit should refuse it.
        "CONCORD_RATE_LIMIT_PER_KEY": "0",
        "CONCORD_RATE_LIMIT_PER_TENANT": "0",
    }
    if settings.database_url:
        env["CONCORD_DATABASE_URL"] = tagged(settings.database_url)
    env.update(extra)
    return env


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts is killed after it, whatever it asserts."""
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


# ------------------------------------------------------------------------------ load


@dataclass
class Outcome:
    name: str
    status: int | None  # None: no answer (the connection broke)
    body: Any = None
    #: "apply" (a new application: a new aggregate) or "admit" (the decision on one
    #: already acknowledged: its second event, and a new member, in one command).
    kind: str = "apply"


class Load:
    """Threads writing until stopped: each submits applications with names of its own,
    and every other write admits one of its acknowledged applications. Every
    outcome is kept: a 2xx is an acknowledged write."""

    def __init__(self, base: str, key: dict[str, str], tag: str, threads: int = 4) -> None:
        self.base, self.key, self.tag = base, key, tag
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HANG_SECONDS + 30)
            assert not thread.is_alive(), "a client thread never got an answer"

    def _run(self, number: int) -> None:
        submitted: list[tuple[str, str]] = []  # (name, id) acknowledged, not decided
        with httpx.Client(base_url=self.base + TENANT, headers=self.key) as http:
            sent = 0
            while not self._stop.is_set():
                sent += 1
                if sent % 2 == 0 and submitted:
                    name, application_id = submitted.pop(0)
                    kind, path, body = (
                        "admit",
                        f"/applications/{application_id}/decide",
                        DECIDE | {"by_body": "steering-group", "decision_ref": f"sg {name}"},
                    )
                else:
                    name = f"Org {self.tag} {number}-{sent}"
                    body = APPLY | {"name": name, "region": "Kent"}
                    kind, path = "apply", "/applications"
                try:
                    answer = http.post(path, json=body, timeout=HANG_SECONDS)
                except httpx.TimeoutException:
                    self._keep(Outcome(name, -1, kind=kind))  # no answer: a hang
                    continue
                except httpx.TransportError:
                    self._keep(Outcome(name, None, kind=kind))
                    time.sleep(0.05)
                    continue
                self._keep(Outcome(name, answer.status_code, _body(answer), kind))
                if kind == "apply" and answer.status_code == 201:
                    submitted.append((name, answer.json()["application_id"]))
                if answer.status_code == 503:
                    time.sleep(0.05)

    def _keep(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def acknowledged(self, kind: str = "apply") -> set[str]:
        return {
            o.name
            for o in self.outcomes
            if o.kind == kind and o.status is not None and 200 <= o.status < 300
        }

    def tried(self) -> set[str]:
        return {o.name for o in self.outcomes if o.kind == "apply"}

    def statuses(self) -> Counter[int | None]:
        return Counter(o.status for o in self.outcomes)

    def wait_for(self, acknowledged: int) -> None:
        deadline = time.monotonic() + HANG_SECONDS
        while len(self.acknowledged()) < acknowledged:
            assert time.monotonic() < deadline, f"no progress: {self.statuses()}"
            time.sleep(0.02)


def _body(answer: httpx.Response) -> Any:
    try:
        return answer.json() | {"retry-after": answer.headers.get("retry-after")}
    except ValueError:
        return answer.text


def assert_only_success_or_unavailable(load: Load, *, transport_errors: bool = False) -> None:
    """Every answer was a 201 or a retryable 503 problem; never a 500, never a hang."""
    allowed = {200, 201, 503} | ({None} if transport_errors else set())
    statuses = load.statuses()
    assert set(statuses) <= allowed, (
        statuses,
        [o for o in load.outcomes if o.status not in allowed][:3],
    )
    for outcome in load.outcomes:
        if outcome.status == 503:
            assert outcome.body["type"] == UNAVAILABLE, outcome.body
            assert int(outcome.body["retry-after"]) > 0


def assert_every_acknowledged_write_once(
    settings: Settings,
    base: str,
    key: dict[str, str],
    acknowledged: set[str],
    tried: set[str],
    admitted: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    items = listed(base, key)
    names = Counter(item["name"] for item in items)
    stages = {item["name"]: item["stage"] for item in items}
    not_admitted = {name for name in admitted if stages.get(name) != "admitted"}
    assert not not_admitted, f"acknowledged admissions lost: {sorted(not_admitted)[:3]}"
    # An admission is one command: the application's decision and the new member, both
    # recorded or neither.
    members = {member["member_id"] for member in listed(base, key, "members")}
    assert members == {item["member_id"] for item in items if item["stage"] == "admitted"}
    missing = acknowledged - set(names)
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:3]}"
    twice = {name for name, count in names.items() if count > 1}
    assert not twice, f"written twice: {sorted(twice)[:3]}"
    strangers = set(names) - tried
    assert not strangers, strangers
    assert_no_write_half_present(settings, SLUG)


# ------------------------------------------------------------------------------ bounds


@pytest.mark.parametrize("backend", ["postgres"])
def test_every_pooled_connection_carries_the_configured_timeouts(settings):
    configured = msgspec.structs.replace(
        settings, db_statement_timeout_ms=7000, db_lock_timeout_ms=1500
    )
    runtime = Runtime(configured)
    try:
        with runtime.backend.connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute(
                "SELECT current_setting('statement_timeout') AS statement,"
                " current_setting('lock_timeout') AS lock"
            ).fetchone()
        assert row == {"statement": "7s", "lock": "1500ms"}
        assert runtime.backend.pool.timeout == 10.0  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_a_lock_timeout_above_the_statement_timeout_is_refused():
    with pytest.raises(SettingsError, match="CONCORD_DB_LOCK_TIMEOUT_MS"):
        Settings.from_env(
            {"CONCORD_DB_STATEMENT_TIMEOUT_MS": "1000", "CONCORD_DB_LOCK_TIMEOUT_MS": "2000"}
        )
    with pytest.raises(SettingsError, match="CONCORD_DB_POOL_TIMEOUT_MS"):
        Settings.from_env({"CONCORD_DB_POOL_TIMEOUT_MS": "0"})
    assert Timeouts(lock_ms=1).lock_seconds == 1  # SQLite's busy timeout: whole seconds


def _answer_within_the_hang_detector(call: Any) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(call)
        try:
            return future.result(timeout=HANG_SECONDS)
        except NoAnswer:
            raise AssertionError(f"no answer in {HANG_SECONDS} s: the request hangs") from None


@contextmanager
def writers_lock_held(settings: Settings) -> Iterator[None]:
    """Another session holds the lock every write to the alliance's log takes first
    (PostgreSQL: the advisory lock; SQLite: the database's write lock)."""
    if settings.database_url is None:
        path = Path(settings.data_dir) / "tenants" / SLUG / "events.sqlite"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with psycopg.connect(settings.database_url) as holder:
        holder.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema_name(SLUG)}.alliance_events",)
        )
        try:
            yield
        finally:
            holder.rollback()


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def onboarded(client: Any) -> dict[str, str]:
    """The alliance the in-process fault tests use, onboarded; its tenant-admin's header."""
    created = client.post(
        "/v1/tenants",
        json={"slug": SLUG, "name": "Kent FJA", "region": "Kent", "template": "family-justice"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    return bearer(created.json()["admin_key"]["secret"])


def test_a_write_lock_held_too_long_answers_503_and_records_nothing(settings, monkeypatch):
    bounded = msgspec.structs.replace(
        settings, db_lock_timeout_ms=300, db_statement_timeout_ms=2000, db_pool_timeout_ms=2000
    )
    appends: list[int] = []
    real_insert = stores._INSERT_ONCE

    def counted(recorder: Any, events: Any, **kwargs: Any) -> Any:
        appends.append(len(events))
        return real_insert(recorder, events, **kwargs)

    kept = Kept()
    with TestClient(create_app(bounded)) as client:
        logging.getLogger("concord.api").addHandler(kept)
        key = onboarded(client)

        def submit(name: str) -> Any:
            return client.post(
                f"{TENANT}/applications", json=APPLY | {"name": name, "region": "Kent"}, headers=key
            )

        monkeypatch.setattr(stores, "_INSERT_ONCE", counted)
        try:
            with writers_lock_held(bounded):
                refused = _answer_within_the_hang_detector(lambda: submit("Held Back Trust"))
        finally:
            monkeypatch.undo()
            logging.getLogger("concord.api").removeHandler(kept)
        assert_unavailable(refused)
        assert refused.json()["reason"] == "timeout"
        if bounded.uses_postgres:
            assert appends == [1]  # a lock timeout is not retried (eventsourcing would, 10x)
        # Logged with the error's type and SQLSTATE, never the statement's parameters.
        logged = [line for line in kept.lines if line.startswith("database unavailable")]
        assert len(logged) == 1, kept.lines
        assert "Held Back Trust" not in "\n".join(kept.lines)
        # The lock released, the same request succeeds; the refused one left nothing.
        assert submit("Let Through Trust").status_code == 201
        listed = client.get(f"{TENANT}/applications", headers=key).json()["items"]
        assert [item["name"] for item in listed] == ["Let Through Trust"]
    assert_no_write_half_present(bounded, SLUG)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_read_model_table_locked_too_long_answers_503(settings):
    bounded = msgspec.structs.replace(
        settings, db_lock_timeout_ms=300, db_statement_timeout_ms=2000
    )
    with TestClient(create_app(bounded)) as client:
        key = onboarded(client)
        assert bounded.database_url is not None
        with psycopg.connect(bounded.database_url) as holder:
            holder.execute(
                f'LOCK TABLE "{schema_name(SLUG)}".applications IN ACCESS EXCLUSIVE MODE'
            )
            refused = _answer_within_the_hang_detector(
                lambda: client.get(f"{TENANT}/applications", headers=key)
            )
            holder.rollback()
        assert_unavailable(refused)
        assert client.get(f"{TENANT}/applications", headers=key).status_code == 200


# ------------------------------------------------------------------ (a) killed connections


def api_backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (API_APP_NAME,)
        ).fetchall()
    return [pid for (pid,) in rows]


@pytest.mark.parametrize("backend", ["postgres"])
def test_connections_killed_mid_request_answer_503_and_the_pool_recovers(
    settings, tmp_path, servers
):
    assert settings.database_url is not None
    server = Server(server_env(settings), tmp_path / "serve.log").start()
    servers.append(server)
    key = onboard_over_http(server.base)
    acknowledged: set[str] = set()
    tried: set[str] = set()
    admitted: set[str] = set()
    for seed in seeds():
        with seeded(seed) as rng, Load(server.base, key, f"a{seed}") as load:
            load.wait_for(5)
            killed = 0
            with psycopg.connect(settings.database_url, autocommit=True) as admin:
                for _ in range(rng.randint(4, 8)):
                    time.sleep(rng.uniform(0.0, 0.3))
                    rows = admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = %s",
                        (API_APP_NAME,),
                    ).fetchall()
                    killed += sum(1 for (done,) in rows if done)
            assert killed > 0
        assert_only_success_or_unavailable(load)
        acknowledged |= load.acknowledged()
        tried |= load.tried()
        admitted |= load.acknowledged("admit")
        print(f"seed {seed}: {killed} connections killed; answers {dict(load.statuses())}")

    # Recovery: with no more kills, each dead connection left in the pool fails at most
    # one request (and is discarded); then every request succeeds.
    recovered = Load(server.base, key, "after")
    outcomes = []
    with httpx.Client(base_url=server.base + TENANT, headers=key) as http:
        streak = 0
        for number in range(settings.db_pool_size + 40):
            name = f"Org after {number}"
            answer = http.post(
                "/applications", json=APPLY | {"name": name, "region": "Kent"}, timeout=HANG_SECONDS
            )
            outcomes.append(Outcome(name, answer.status_code, _body(answer)))
            streak = streak + 1 if answer.status_code == 201 else 0
            if streak == 20:
                break
    recovered.outcomes = outcomes
    assert_only_success_or_unavailable(recovered)
    assert streak == 20, recovered.statuses()
    assert recovered.statuses()[503] <= settings.db_pool_size
    server.stop()
    servers.remove(server)
    catch_up(settings, SLUG)
    assert_no_write_half_present(settings, SLUG)
    assert_projections_equal_a_rebuild(settings, SLUG)
    # Every acknowledged write is in the read model once (read back through a new server).
    again = Server(server_env(settings), tmp_path / "serve-2.log").start()
    servers.append(again)
    acknowledged |= {o.name for o in outcomes if o.status == 201}
    tried |= {o.name for o in outcomes}
    assert_every_acknowledged_write_once(settings, again.base, key, acknowledged, tried, admitted)


# ------------------------------------------------------------------------------ (b) SIGKILL


def test_the_api_killed_under_load_loses_no_acknowledged_write(settings, tmp_path, servers):
    server = Server(server_env(settings), tmp_path / "serve.log").start()
    servers.append(server)
    key = onboard_over_http(server.base)
    server.stop()
    servers.remove(server)
    acknowledged: set[str] = set()
    tried: set[str] = set()
    admitted: set[str] = set()
    for seed in seeds():
        with seeded(seed) as rng:
            server = Server(server_env(settings), tmp_path / f"serve-{seed}.log").start()
            servers.append(server)
            with Load(server.base, key, f"b{seed}", threads=rng.randint(2, 6)) as load:
                load.wait_for(rng.randint(1, 10))
                time.sleep(rng.uniform(0.0, 0.5))
                server.kill()  # kill -9, mid-load
            servers.remove(server)
            assert_only_success_or_unavailable(load, transport_errors=True)
            acknowledged |= load.acknowledged()
            tried |= load.tried()
            admitted |= load.acknowledged("admit")
            print(f"seed {seed}: answers {dict(load.statuses())}")

            restarted = Server(server_env(settings), tmp_path / f"restart-{seed}.log").start()
            servers.append(restarted)
            assert_every_acknowledged_write_once(
                settings, restarted.base, key, acknowledged, tried, admitted
            )
            restarted.stop()
            servers.remove(restarted)
            catch_up(settings, SLUG)
            assert_projections_equal_a_rebuild(settings, SLUG)


# ------------------------------------------------------------------------------ (c) pg_ctl


def _cluster_tools() -> tuple[str, str]:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = Path(folder, "initdb"), Path(folder, "pg_ctl")
        if initdb.exists() and pg_ctl.exists():
            return str(initdb), str(pg_ctl)
    found = shutil.which("initdb"), shutil.which("pg_ctl")
    if found[0] and found[1]:
        return found[0], found[1]
    message = "initdb/pg_ctl not found (to run a throwaway PostgreSQL cluster)"
    if IN_CI:
        pytest.fail("CI=true: " + message)
    pytest.skip(message)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster of the test's own (so it may stop it abruptly)."""

    home: Path
    pg_ctl: str
    as_postgres: list[str]
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, self.pg_ctl, "-D", str(self.home / "data"), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home / 'run'} -c listen_addresses=127.0.0.1"
        self.ctl("-l", str(self.home / "postgres.log"), "-o", options, "-w", "start")

    def stop_immediately(self) -> None:
        self.ctl("-m", "immediate", "stop")

    def running(self) -> bool:
        return (self.home / "data" / "postmaster.pid").exists()


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    initdb, pg_ctl = _cluster_tools()
    home = Path(tempfile.mkdtemp(prefix="concord-faults-pg-"))
    as_postgres: list[str] = []
    (home / "run").mkdir()
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        owner = pwd.getpwnam("postgres")
        for path in (home, home / "run"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(home=home, pg_ctl=pg_ctl, as_postgres=as_postgres, port=free_port())
    try:
        subprocess.run(
            [*as_postgres, initdb, "-D", str(home / "data"), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            with suppress(subprocess.SubprocessError):
                cluster.stop_immediately()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_stopped_immediately_under_load_loses_no_acknowledged_write(tmp_path, servers):
    with throwaway_cluster() as cluster:
        settings = Settings(
            database_url=cluster.url, data_dir=str(tmp_path / "var"), db_pool_size=4
        )
        env = server_env(settings, CONCORD_DB_POOL_TIMEOUT_MS="2000")
        server = Server(env, tmp_path / "serve.log").start()
        servers.append(server)
        key = onboard_over_http(server.base)
        acknowledged: set[str] = set()
        tried: set[str] = set()
        admitted: set[str] = set()
        for seed in seeds():
            with seeded(seed) as rng:
                with Load(server.base, key, f"c{seed}", threads=rng.randint(2, 5)) as load:
                    load.wait_for(rng.randint(1, 10))
                    time.sleep(rng.uniform(0.0, 0.5))
                    cluster.stop_immediately()
                    during = len(load.outcomes)
                    # Requests keep coming while the database is down ...
                    deadline = time.monotonic() + HANG_SECONDS
                    while sum(1 for o in load.outcomes[during:] if o.status == 503) < 3:
                        assert time.monotonic() < deadline, load.statuses()
                        time.sleep(0.05)
                    health = httpx.get(f"{server.base}/health", timeout=HANG_SECONDS)
                    assert health.status_code == 503
                    cluster.start()
                    # ... and succeed again once it is back.
                    load.wait_for(len(load.acknowledged()) + 5)
                # During the outage every answer was a 503 problem, never a 500.
                assert_only_success_or_unavailable(load)
                acknowledged |= load.acknowledged()
                tried |= load.tried()
                admitted |= load.acknowledged("admit")
                print(f"seed {seed}: answers {dict(load.statuses())}")
                assert_every_acknowledged_write_once(
                    settings, server.base, key, acknowledged, tried, admitted
                )
        server.stop()
        servers.remove(server)
        catch_up(settings, SLUG)
        assert_projections_equal_a_rebuild(settings, SLUG)


# ------------------------------------------------------------------ a commit's answer lost


@pytest.mark.parametrize("backend", ["postgres"])
def test_an_append_whose_commit_answer_was_lost_is_acknowledged_once(settings, monkeypatch):
    """The connection breaks after the COMMIT took effect, before its answer arrived: the
    retried append finds its own events in the log and the write is acknowledged (not
    refused as a conflict, not recorded twice)."""
    real_insert = stores._INSERT_ONCE
    attempts: list[int] = []

    def commit_then_lose_the_answer(recorder: Any, events: Any, **kwargs: Any) -> Any:
        attempts.append(len(events))
        positions = real_insert(recorder, events, **kwargs)
        if len(attempts) == 1:
            raise PersistenceOperationalError("server closed the connection unexpectedly")
        return positions

    with TestClient(create_app(settings)) as client:
        key = onboarded(client)
        monkeypatch.setattr(stores, "_INSERT_ONCE", commit_then_lose_the_answer)
        written = client.post(
            f"{TENANT}/applications",
            json=APPLY | {"name": "Lost Answer Trust", "region": "Kent"},
            headers=key,
        )
        monkeypatch.undo()
        assert written.status_code == 201, written.text
        assert len(attempts) == 2  # committed, answer lost, retried, found recorded
        listed = client.get(f"{TENANT}/applications", headers=key).json()["items"]
        assert [item["name"] for item in listed] == ["Lost Answer Trust"]
    assert_no_write_half_present(settings, SLUG)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_operation_declares_the_database_unavailable_problem(client):
    document = client.get("/schema/openapi.json").json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            answer = operation["responses"].get("503")
            assert answer is not None, f"{method.upper()} {path}"
            if path != "/health":  # /health answers its own Health body
                assert answer["content"] == problem, f"{method.upper()} {path}"


@pytest.mark.parametrize("backend", ["postgres"])
def test_no_free_pooled_connection_answers_503_within_the_pool_timeout(settings):
    """Every connection of the pool busy (here: the pool's one, held by the test): a
    request waits the pool timeout, then answers 503 (it was a 500 before)."""
    bounded = msgspec.structs.replace(
        settings, db_pool_size=1, db_pool_timeout_ms=300, db_lock_timeout_ms=300
    )
    with TestClient(create_app(bounded)) as client:
        key = onboarded(client)
        backend = client.app.state.runtime.backend
        with backend.connection():  # the only connection, taken
            refused = _answer_within_the_hang_detector(
                lambda: client.get(f"{TENANT}/applications", headers=key)
            )
        assert_unavailable(refused)
        assert refused.json()["reason"] == "timeout"
        assert client.get(f"{TENANT}/applications", headers=key).status_code == 200
