"""Several API processes writing one alliance at once (`concord serve --workers 3`).

Real processes on one port, real clients in many threads, some of them changing the same
aggregate at the same moment. Every answer is a success or a 409 `concurrent-change`
problem, never a 500; afterwards the event log and the read models hold every successful
write exactly once and nothing of a refused one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.trace import SpanProcessor

from domain.meetings import Meeting
from infra.settings import Settings
from infra.telemetry import Telemetry
from services.api.app import create_app
from services.runtime import Runtime
from tests.conftest import ADMIN, ADMIN_KEY, bearer, free_port

WORKERS = 3
THREADS = 24
WRITES_PER_THREAD = 10
CONCURRENT_CHANGE = "urn:concord:problem:concurrent-change"
PROBLEM_JSON = "application/problem+json"
SLUG = "many-hands"
TENANT = f"/v1/tenants/{SLUG}"
#: Where the write lands: a new aggregate each time (applications), or one aggregate
#: every writer of that kind shares (the meeting's agenda, the ToR's amendments).
KINDS = ("application", "agenda", "amendment")


# ------------------------------------------------------------------------------ server


@dataclass
class Server:
    base: str
    log: Path
    pgid: int


@contextmanager
def serve(settings: Settings, tmp_path: Path, workers: int) -> Iterator[Server]:
    """`concord serve --workers N` in a session of its own; stopped by its process group
    (the uvicorn parent and every worker it started), whatever happens."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {"CONCORD_DATA_DIR": settings.data_dir, "CONCORD_ADMIN_KEY": ADMIN_KEY}
    env["PYTHONFAULTHANDLER"] = "1"  # a worker that crashes says where, in the log
    if settings.database_url:
        env["CONCORD_DATABASE_URL"] = settings.database_url
    concord = Path(sys.executable).with_name("concord")
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(concord), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pgid = os.getpgid(process.pid)  # == process.pid: its own session and group
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while len(started_workers(log_path)) < workers or not answers(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"concord serve --workers {workers} did not start:\n{read(log_path)}")
            time.sleep(0.2)
        yield Server(base=base, log=log_path, pgid=pgid)
    finally:
        _stop(process, pgid)


def _stop(process: subprocess.Popen[bytes], pgid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)  # uvicorn's parent stops its workers, then itself
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)  # anything of the group still running
    process.wait(timeout=10)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def read(path: Path) -> str:
    return path.read_text(errors="replace")


def started_workers(log: Path) -> set[str]:
    return set(re.findall(r"Started server process \[(\d+)\]", read(log)))


# ------------------------------------------------------------------------------ writes


@dataclass
class Write:
    kind: str
    marker: str
    status: int
    body: dict[str, Any]


class Alliance:
    """The alliance as one HTTP client (one connection) sees it, with its admin key."""

    def __init__(self, base: str, secret: str) -> None:
        self.http = httpx.Client(base_url=base + TENANT, headers=bearer(secret), timeout=60)

    def write(self, kind: str, marker: str, meeting_id: str) -> Write:
        if kind == "application":
            body = {
                "name": f"Org {marker}",
                "request_text": "We ask to join the alliance.",
                "signatory_role": "Chief Executive",
                "signatory_name": "Alex Morgan",
            }
            response = self.http.post("/applications", json=body)
        elif kind == "agenda":
            response = self.http.post(f"/meetings/{meeting_id}/agenda", json={"title": marker})
        else:
            change = {"number": "1", "text": f"Reworded by {marker}."}
            response = self.http.post(
                "/terms/amendments", json={"rationale": marker, "clauses": [change]}
            )
        body = response.json() if response.content else {}
        if response.status_code >= 300:
            assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
        return Write(kind, marker, response.status_code, body)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def pages(self, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: Any = None
        while True:
            query = {"limit": limit, **params} | ({"after": after} if after is not None else {})
            page = self.get(path, **query)
            found += page["items"]
            after = page.get("next_after")
            if after is None:
                return found


def onboard(base: str) -> tuple[str, str]:
    """The alliance, onboarded through the API; its admin key and a meeting a month ahead."""
    created = httpx.post(
        f"{base}/v1/tenants",
        json={"slug": SLUG, "name": "Many Hands", "region": "Kent", "template": "kinship-care"},
        headers=ADMIN,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["admin_key"]["secret"]
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    meeting = httpx.post(
        f"{base}{TENANT}/meetings",
        json={
            "body": "full-membership",
            "title": "Quarterly",
            "starts_at": starts_at.isoformat(),
            "format": "virtual",
            "link": "https://meet.example.org/quarterly",
        },
        headers=bearer(secret),
        timeout=60,
    )
    assert meeting.status_code == 201, meeting.text
    return secret, meeting.json()["meeting_id"]


def write_at_once(base: str, secret: str, meeting_id: str) -> list[Write]:
    """THREADS clients, each on its own connection, start together and write in turn to
    the three kinds (so every moment has writers of every kind)."""
    start = threading.Barrier(THREADS)

    def writer(thread: int) -> list[Write]:
        alliance = Alliance(base, secret)
        try:
            start.wait(timeout=60)
            return [
                alliance.write(
                    KINDS[(thread + i) % len(KINDS)], f"t{thread:02d}-w{i:02d}", meeting_id
                )
                for i in range(WRITES_PER_THREAD)
            ]
        finally:
            alliance.http.close()

    with ThreadPoolExecutor(THREADS) as pool:
        return [w for done in pool.map(writer, range(THREADS)) for w in done]


def recorded_markers(events: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """How many times each write's marker is in the log, by kind."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        data = event["data"]
        if event["type"] == "MembershipApplicationSubmitted":
            found["application"][data["applicant"]["name"].removeprefix("Org ")] += 1
        elif event["type"] == "MeetingAgendaItemAdded":
            found["agenda"][data["title"]] += 1
        elif event["type"] == "TermsOfReferenceAmendmentProposed":
            found["amendment"][data["rationale"]] += 1
    return found


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("backend", ["postgres"])
def test_three_processes_writing_one_alliance_record_every_success_once_and_nothing_else(
    settings, tmp_path
):
    with serve(settings, tmp_path, WORKERS) as server:
        secret, meeting_id = onboard(server.base)
        began = time.monotonic()
        writes = write_at_once(server.base, secret, meeting_id)
        took = time.monotonic() - began
        reader = Alliance(server.base, secret)
        events = reader.pages("/events", 1000)
        agenda = [item["title"] for item in reader.get(f"/meetings/{meeting_id}")["agenda"]]
        amendments = reader.pages("/terms/amendments", 200)
        applications = reader.pages("/applications", 200)
        reader.http.close()
        log = read(server.log)

    statuses = Counter((w.kind, w.status) for w in writes)
    print(
        f"\n{len(writes)} writes in "
        f"{took:.1f}s by {WORKERS} processes: {dict(sorted(statuses.items()))}"
    )
    # Three worker processes served, and none of them failed a request.
    assert len(started_workers(server.log)) == WORKERS, log
    assert " 500 " not in log and "unexpected" not in log, log
    assert len(writes) == THREADS * WRITES_PER_THREAD
    # Every answer: a success, or a 409 saying what happened and that nothing was kept.
    refused = [w for w in writes if w.status == 409]
    assert {w.status for w in writes} <= {200, 201, 409}, [
        (w.kind, w.status, w.body) for w in writes if w.status not in (200, 201, 409)
    ]
    for write in refused:
        assert write.body["type"] == CONCURRENT_CHANGE, write.body
        assert "nothing of yours was recorded" in write.body["detail"], write.body
    # New aggregates never collide; the shared ones did (24 writers, 3 aggregates).
    assert not [w for w in refused if w.kind == "application"]

    # The log: every success exactly once, nothing of a refusal, no gap in any history.
    found = recorded_markers(events)
    for write in writes:
        expected = 0 if write.status == 409 else 1
        assert found[write.kind][write.marker] == expected, (write, found[write.kind])
    positions = [e["position"] for e in events]
    assert positions == sorted(set(positions))
    versions: dict[str, list[int]] = defaultdict(list)
    for event in events:
        versions[event["aggregate_id"]].append(event["version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), versions

    # The read models: exactly the successes.
    succeeded = {
        kind: sorted(w.marker for w in writes if w.kind == kind and w.status != 409)
        for kind in KINDS
    }
    assert sorted(agenda) == succeeded["agenda"]
    assert sorted(a["rationale"] for a in amendments) == succeeded["amendment"]
    assert sorted(a["name"].removeprefix("Org ") for a in applications) == succeeded["application"]


class RivalWrite(SpanProcessor):
    """When armed, just before the API saves a meeting (the `events.save` span opens, the
    meeting already loaded and changed), another runtime on the same database, as a second
    process would, adds its own agenda item to that meeting first."""

    def __init__(self) -> None:
        self.armed: tuple[Settings, str] | None = None
        self.rival_item: str | None = None

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.armed is None or span.name != "events.save":
            return
        settings, meeting_id = self.armed
        self.armed = None
        rival = Runtime(settings, Telemetry("none"))
        try:
            with rival.tenant(SLUG) as store:
                meeting: Meeting = store.app.repository.get(UUID(meeting_id))
                self.rival_item = meeting.add_agenda_item(title="The rival's item", by="rival")
                store.record(meeting)
        finally:
            rival.close()


def test_a_version_conflict_in_the_event_store_is_a_409_concurrent_change_not_a_500(settings):
    rival = RivalWrite()
    telemetry = Telemetry("none")
    telemetry.provider.add_span_processor(rival)
    with TestClient(create_app(settings, telemetry=telemetry)) as client:
        created = client.post(
            "/v1/tenants",
            json={"slug": SLUG, "name": "Many Hands", "region": "Kent", "template": "kinship-care"},
            headers=ADMIN,
        )
        alliance = bearer(created.json()["admin_key"]["secret"])
        starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        meeting = client.post(
            f"{TENANT}/meetings",
            json={
                "body": "full-membership",
                "title": "Quarterly",
                "starts_at": starts_at.isoformat(),
                "format": "virtual",
                "link": "https://meet.example.org/quarterly",
            },
            headers=alliance,
        ).json()
        rival.armed = (settings, meeting["meeting_id"])

        lost = client.post(
            f"{TENANT}/meetings/{meeting['meeting_id']}/agenda",
            json={"title": "Ours"},
            headers=alliance,
        )
        after = client.get(f"{TENANT}/meetings/{meeting['meeting_id']}", headers=alliance)
        log = client.get(f"{TENANT}/events", params={"limit": 1000}, headers=alliance)
        again = client.post(
            f"{TENANT}/meetings/{meeting['meeting_id']}/agenda",
            json={"title": "Ours"},
            headers=alliance,
        )

    assert rival.rival_item is not None  # the rival did write in between
    assert lost.status_code == 409, lost.text
    assert lost.headers["content-type"].startswith(PROBLEM_JSON)
    problem = lost.json()
    assert problem["type"] == CONCURRENT_CHANGE
    assert problem["title"] == "Changed at the same time"
    assert "nothing of yours was recorded" in problem["detail"]
    assert "Traceback" not in lost.text
    # Nothing of the refused write, in the read model or in the log; the rival's is there.
    assert [item["title"] for item in after.json()["agenda"]] == ["The rival's item"]
    titles = [e["data"]["title"] for e in log.json()["items"] if e["type"].endswith("ItemAdded")]
    assert titles == ["The rival's item"]
    # Retried, as the problem says, it is recorded.
    assert again.status_code == 201, again.text
    assert [item["title"] for item in again.json()["agenda"]] == ["The rival's item", "Ours"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_several_processes_on_the_embedded_sqlite_store_are_refused_with_the_reason(settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env["CONCORD_DATA_DIR"] = settings.data_dir
    concord = Path(sys.executable).with_name("concord")
    refused = subprocess.run(
        [str(concord), "serve", "--port", str(free_port()), "--workers", "3"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--workers above 1 needs PostgreSQL" in refused.stderr
    assert "CONCORD_DATABASE_URL" in refused.stderr
    assert not Path(settings.data_dir, "platform").exists()  # nothing was started
