"""Projections in dramatiq workers, with real brokers and real `concord worker` processes:
read-your-writes, trace context across the message, and the faults (a worker killed
mid-batch, the broker flushed or restarted, database connections killed), after each of
which every projection equals a rebuild from zero."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import psycopg
import pytest
import redis
from litestar.testing import TestClient

from domain.rule_checks import Applicant
from infra.settings import Settings
from services import membership
from services.api.app import create_app
from services.runtime import Runtime
from services.workers import ProjectionWaker
from tests.brokers import (
    PrivateRedis,
    Worker,
    amqp_broker,
    flush_redis,
    no_worker_left_behind,
    redis_broker,
)
from tests.conftest import ADMIN
from tests.e2e.test_membership_api import APPLY

__all__ = ["amqp_broker", "no_worker_left_behind", "redis_broker"]  # fixtures

SLUG = "kent-fja"


def with_broker(settings: Settings, broker: tuple[str, str], **changes: Any) -> Settings:
    url, namespace = broker
    return msgspec.structs.replace(
        settings,
        broker_url=url,
        broker_namespace=namespace,
        sweep_interval=0.5,
        worker_threads=4,
        **changes,
    )


def in_process(settings: Settings) -> Settings:
    """The same stores, projections run here (to inspect and rebuild them)."""
    return msgspec.structs.replace(settings, broker_url=None)


def onboard(client: TestClient[Any]) -> dict[str, str]:
    response = client.post(
        "/v1/tenants",
        json={"slug": SLUG, "name": "Kent FJA", "region": "Kent", "template": "family-justice"},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return {"Authorization": "Bearer " + response.json()["admin_key"]["secret"]}


def apply(client: TestClient[Any], key: dict[str, str], name: str) -> Any:
    response = client.post(
        f"/v1/tenants/{SLUG}/applications",
        json=APPLY | {"name": name, "region": "Kent"},
        headers=key,
    )
    assert response.status_code == 201, response.text
    return response


def names_listed(client: TestClient[Any], key: dict[str, str]) -> set[str]:
    found: set[str] = set()
    after = None
    while True:
        params = {"limit": 200} | ({"after": after} if after else {})
        page = client.get(f"/v1/tenants/{SLUG}/applications", params=params, headers=key)
        assert page.status_code == 200, page.text
        body = page.json()
        found |= {item["name"] for item in body["items"]}
        after = body.get("next_after")
        if not after:
            return found


@pytest.fixture
def api(settings: Settings, redis_broker: tuple[str, str]) -> Iterator[Any]:
    """A factory of clients of an API whose projections run in workers on the test Redis."""
    opened: list[Any] = []

    def make(configured: Settings) -> TestClient[Any]:
        client = TestClient(create_app(configured))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def configured(settings: Settings, redis_broker: tuple[str, str]) -> Settings:
    return with_broker(settings, redis_broker, projection_wait_ms=10_000)


def onboarded(api: Any, configured: Settings, tmp_path: Any) -> tuple[Any, dict[str, str]]:
    """An alliance onboarded with a worker running, which then stops."""
    worker = Worker(configured, tmp_path / "setup-worker.log").start()
    try:
        client = api(configured)
        key = onboard(client)
    finally:
        worker.stop()
    return client, key


class SendOnly(ProjectionWaker):
    """An API process that sends its wake-ups and then dies before it can wait for them
    or apply anything itself: its committed writes are the workers' backlog."""

    def after_commit(self, store: Any, position: int) -> None:
        self.wake(store.app.store, list(store.runner.by_name), position)


# ---------------------------------------------------------------------------- helpers


def wait_caught_up(settings: Settings, slug: str, timeout: float = 60) -> None:
    runtime = Runtime(in_process(settings))
    try:
        deadline = time.monotonic() + timeout
        while True:
            with runtime.tenant(slug) as store:
                head = store.app.recorder.max_notification_id() or 0
                positions = store.runner.positions()
            platform_head = runtime.platform.app.recorder.max_notification_id() or 0
            platform = runtime.platform.runner.positions()
            if min(positions.values()) == head and min(platform.values()) == platform_head:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"projections did not catch up: head {head}, {positions}")
            time.sleep(0.1)
    finally:
        runtime.close()


def dump(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, in a stable order, and the positions."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as sql:
        for projection in store.runner.projections:
            for table in projection.tables:
                rows = sql.all(f"SELECT * FROM {table}")
                tables[table] = sorted(
                    tuple(sorted((k, repr(v)) for k, v in row.items())) for row in rows
                )
    tables["(positions)"] = sorted(store.runner.positions().items())
    return tables


def assert_projections_equal_a_rebuild(settings: Settings, slug: str) -> None:
    """Every projection of the alliance (and of the platform) as the workers left it
    equals the same projection replayed from zero; every one is at the log's head, so no
    event was skipped, and none counted twice."""
    runtime = Runtime(in_process(settings))
    try:
        for opened in (runtime.platform, None):
            if opened is None:
                with runtime.tenant(slug) as store:
                    _compare(store)
            else:
                _compare(opened)
    finally:
        runtime.close()


def _compare(store: Any) -> None:
    head = store.app.recorder.max_notification_id() or 0
    assert set(store.runner.positions().values()) == {head}
    as_left = dump(store)
    replayed = store.runner.rebuild()
    assert replayed == head * len(store.runner.projections)
    assert dump(store) == as_left


# ---------------------------------------------------------------------------- behaviour


def test_projections_run_in_the_worker_and_a_write_reads_its_own(api, configured, tmp_path):
    worker = Worker(configured, tmp_path / "worker.log").start()
    client = api(configured)
    try:
        key = onboard(client)
        written = apply(client, key, "Kinship Carers North")
        assert written.headers["concord-consistency"] == "caught-up"
        assert int(written.headers["concord-position"]) > 0
        assert written.headers["server-timing"].endswith(';desc="workers"')
        # read-your-writes: the very next read sees it
        assert "Kinship Carers North" in names_listed(client, key)

        worker.stop()
        client = api(msgspec.structs.replace(configured, projection_wait_ms=300))
        # No worker: the API waited its 300 ms for nobody, then applied the write itself,
        # so the answer (and the next read) still sees it.
        alone = apply(client, key, "Grandparents Plus East")
        assert alone.headers["concord-consistency"] == "caught-up"
        assert alone.headers["server-timing"].endswith(';desc="api"')
        assert float(alone.headers["server-timing"].split("dur=")[1].split(";")[0]) >= 300
        assert "Grandparents Plus East" in names_listed(client, key)

        worker.start()  # and the workers carry on from where the API left them
        again = apply(client, key, "Kinship Carers South")
        assert again.headers["server-timing"].endswith(';desc="workers"')
    finally:
        worker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)


@pytest.mark.parametrize("backend", ["postgres"])
def test_rabbitmq_carries_the_wake_ups_too(settings, amqp_broker, tmp_path):
    configured = with_broker(settings, amqp_broker, projection_wait_ms=10_000)
    worker = Worker(configured, tmp_path / "worker.log").start()
    try:
        with TestClient(create_app(configured)) as client:
            key = onboard(client)
            for number in range(5):
                written = apply(client, key, f"Carers Trust {number}")
                assert written.headers["concord-consistency"] == "caught-up", worker.output()
            assert {f"Carers Trust {n}" for n in range(5)} <= names_listed(client, key)
    finally:
        worker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_requests_trace_continues_in_the_worker(api, configured, tmp_path):
    worker = Worker(configured, tmp_path / "worker.log", CONCORD_OTEL_EXPORTER="console").start()
    client = api(configured)
    try:
        key = onboard(client)
        trace_id = secrets.token_hex(16)
        traced = client.post(
            f"/v1/tenants/{SLUG}/applications",
            json=APPLY | {"name": "Traced Trust", "region": "Kent"},
            headers=key | {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        )
        assert traced.status_code == 201
        assert traced.headers["concord-consistency"] == "caught-up"
    finally:
        worker.stop()  # flushes its spans to its stdout
    spans = list(console_spans(worker.output()))
    in_trace = [s for s in spans if s["context"]["trace_id"] == "0x" + trace_id]
    names = {s["name"] for s in in_trace}
    assert "concord_catch_up process" in names, sorted({s["name"] for s in spans})
    assert "projection.catch_up" in names  # the batch itself, inside the request's trace
    process = next(s for s in in_trace if s["name"] == "concord_catch_up process")
    assert process["kind"] == "SpanKind.CONSUMER"
    assert process["parent_id"] is not None  # the API's send span
    # ids and counts only: no applicant's name in any attribute
    assert "Traced Trust" not in json.dumps(spans)


def console_spans(output: str) -> Iterator[dict[str, Any]]:
    decoder = json.JSONDecoder()
    index = output.find("{")
    while index != -1:
        try:
            span, end = decoder.raw_decode(output, index)
        except json.JSONDecodeError:
            index = output.find("{", index + 1)
            continue
        if isinstance(span, dict) and "context" in span:
            yield span
        index = output.find("{", end)


# ---------------------------------------------------------------------------- faults


def redis_contents(url: str, namespace: str) -> bytes:
    """Every value the broker holds under the namespace, as bytes."""
    raw = redis.Redis.from_url(url)
    values: list[bytes] = []
    try:
        for key in raw.scan_iter(match=f"{namespace}*", count=1000):
            kind = raw.type(key)
            if kind == b"hash":
                values += [k + b"=" + v for k, v in raw.hgetall(key).items()]
            elif kind == b"list":
                values += raw.lrange(key, 0, -1)
            elif kind == b"zset":
                values += raw.zrange(key, 0, -1)
            elif kind == b"set":
                values += list(raw.smembers(key))
            elif kind == b"string":
                values.append(raw.get(key) or b"")
    finally:
        raw.close()
    return b"\n".join(values)


WORKER_APP = "concord-worker-under-test"


def tagged(settings: Settings) -> str:
    """The database URL with the worker's connections named, to find them in pg_stat_activity."""
    assert settings.database_url is not None
    return settings.database_url + "?application_name=" + WORKER_APP


def backlog(settings: Settings, count: int, prefix: str) -> None:
    """`count` applications committed and their wake-ups sent, nothing applied."""
    runtime = Runtime(settings)
    runtime._waker = SendOnly(settings, runtime)
    try:
        for number in range(count):
            membership.submit(
                runtime,
                SLUG,
                applicant=Applicant(
                    name=f"{prefix} {number}", region="Kent", signatory_role="Chief Executive"
                ),
                request_text="We ask to join.",
                signatory_name="Alex Morgan",
                email=None,
                by="test",
            )
    finally:
        runtime.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    api, configured, redis_broker, tmp_path
):
    client, key = onboarded(api, configured, tmp_path)
    backlog(configured, 150, "Backlog Trust")
    # The messages name ids and positions only: no applicant's name reaches the broker.
    url, namespace = redis_broker
    stored = redis_contents(url, namespace)
    assert b"Backlog Trust" not in stored and b"concord_catch_up" in stored

    worker = Worker(
        configured, tmp_path / "worker-1.log", CONCORD_DATABASE_URL=tagged(configured)
    ).start()
    # Kill it while a batch is in flight: a batch holds its advisory lock from its first
    # statement to its commit, so a lock held by the worker is a batch half-done.
    with psycopg.connect(configured.database_url, autocommit=True) as admin:
        (sweep,) = admin.execute("SELECT hashtext('concord.sweep')::bigint").fetchone()
        sweep &= 0xFFFFFFFFFFFFFFFF
        deadline = time.monotonic() + 60
        while True:
            held = admin.execute(
                "SELECT l.classid::bigint, l.objid::bigint FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s",
                (WORKER_APP,),
            ).fetchall()
            if any((high << 32 | low) != sweep for high, low in held):
                break
            assert time.monotonic() < deadline, "never saw a batch in flight"
    worker.kill()
    backlog(configured, 20, "After The Kill")  # wake-ups queue up with no worker
    worker = Worker(configured, tmp_path / "worker-2.log").start()
    try:
        wait_caught_up(configured, SLUG)
    finally:
        worker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)
    assert len(names_listed(client, key)) == 170


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_flushed_broker_heals_by_the_sweep(api, configured, redis_broker, tmp_path):
    client, key = onboarded(api, configured, tmp_path)
    backlog(configured, 60, "Flushed Trust")
    url, namespace = redis_broker
    assert flush_redis(url, namespace) > 0  # every queued wake-up is gone
    worker = Worker(configured, tmp_path / "worker.log").start()
    try:
        wait_caught_up(configured, SLUG)
        assert "sweep woke" in worker.output()
    finally:
        worker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)
    assert len(names_listed(client, key)) == 60


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_restarted_broker_loses_its_messages_and_the_sweep_heals(settings, tmp_path):
    broker = PrivateRedis(tmp_path)
    broker.start()
    configured = with_broker(settings, (broker.url, "concord-restart"))
    worker = Worker(configured, tmp_path / "worker.log").start()
    try:
        with TestClient(create_app(configured)) as client:
            key = onboard(client)
            backlog(configured, 10, "Before Restart")
            broker.stop()  # killed: the queued wake-ups die with it
            slow = msgspec.structs.replace(configured, projection_wait_ms=200)
            with TestClient(create_app(slow)) as down:
                for number in range(5):  # broker down: committed, applied by the API itself
                    written = down.post(
                        f"/v1/tenants/{SLUG}/applications",
                        json=APPLY | {"name": f"While Down {number}", "region": "Kent"},
                        headers=key,
                    )
                    assert written.status_code == 201, written.text
                    assert written.headers["concord-consistency"] == "caught-up"
                    assert written.headers["server-timing"].endswith(';desc="api"')
            broker.start()  # same port, empty
            backlog(configured, 10, "After Restart")  # only the reconnected worker applies these
            wait_caught_up(configured, SLUG)
            assert len(names_listed(client, key)) == 25
    finally:
        worker.stop()
        broker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)


@pytest.mark.parametrize("backend", ["postgres"])
def test_killed_database_connections_are_survived(api, configured, tmp_path):
    client, key = onboarded(api, configured, tmp_path)
    backlog(configured, 150, "Terminated Trust")
    worker = Worker(
        configured, tmp_path / "worker.log", CONCORD_DATABASE_URL=tagged(configured)
    ).start()
    killed = 0
    try:
        with psycopg.connect(configured.database_url, autocommit=True) as admin:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and killed < 6:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (WORKER_APP,),
                ).fetchall()
                killed += sum(1 for (done,) in rows if done)
                time.sleep(0.05)
        assert killed > 0
        wait_caught_up(configured, SLUG)
    finally:
        worker.stop()
    assert_projections_equal_a_rebuild(configured, SLUG)
    assert len(names_listed(client, key)) == 150
