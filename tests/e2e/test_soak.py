"""Soak: a real `concord serve` on PostgreSQL, as the application role docs/operations.md
recommends, with its projections in a real `concord worker` on Redis, under a bounded
mixed load of reads and writes from several threads across a few alliances.

Afterwards: no answer was a server error (nor anything but the answer each request
expects), every acknowledged write reads back, every projection equals a rebuild from
zero, and the memory of both processes levelled off. The figures are printed on one line
(`-s` shows it; the lead quotes it in docs/operations.md, "Soak").

CONCORD_TEST_SOAK_SECONDS sets how long the load runs (default 150, so the suite stays
well inside CI's time; `CONCORD_TEST_SOAK_SECONDS=1800 pytest -s tests/e2e/test_soak.py`
is the long run). The variable is a CONCORD_TEST_ one because `concord` refuses any other
CONCORD_ variable it does not know.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from infra.settings import Settings
from tests.brokers import Worker, no_worker_left_behind, redis_broker, worker_env
from tests.conftest import ADMIN, ADMIN_KEY, free_port
from tests.e2e.test_database_role import Deployment, deployment
from tests.e2e.test_membership_api import CHIEF
from tests.e2e.test_workers import assert_projections_equal_a_rebuild, wait_caught_up

__all__ = ["deployment", "no_worker_left_behind", "redis_broker"]  # fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SOAK_SECONDS = float(os.environ.get("CONCORD_TEST_SOAK_SECONDS", "150"))
ALLIANCES = ("soak-kent", "soak-essex", "soak-surrey")
THREADS = 4
#: Seconds between two readings of each process's resident memory.
SAMPLE_EVERY = 2.0
#: The first fifth of the run warms the processes up (imports, caches, pools filling):
#: memory is judged on the rest.
WARM_UP_SHARE = 0.2
#: How much a process's resident memory may grow over the second half of the measured
#: run, beyond what it held at the end of the first half. Measured (docs/operations.md,
#: "Soak"): after the warm-up the API and the worker move by well under 1 MB over a
#: half, so 16 MB is a wide margin for noise (allocator arenas, pooled connections
#: replaced), not a timing. What it catches: at the default run's ~100 requests/s, a
#: leak of about 2.7 kB a request (a response or a store kept by mistake); a longer run
#: catches proportionally smaller ones, since the bound does not grow with the run.
GROWTH_BOUND_MB = 16.0
ROUTE = "executive-committee"  # the kinship-care route: circulated to it, decided by it


# ------------------------------------------------------------------------------ processes


def rss_kb(pid: int) -> int:
    """A process's resident set size (VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass
class Server:
    """`concord serve` as a real process (its own session, stopped by its pid)."""

    settings: Settings
    log_path: Path
    extra_env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = worker_env(self.settings, CONCORD_ADMIN_KEY=ADMIN_KEY, **self.extra_env)
        concord = Path(sys.executable).with_name("concord")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(concord), "serve", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"concord serve did not answer:\n{self.output()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def soak(deployment: Deployment, redis_broker, tmp_path) -> Iterator[tuple[Server, Worker]]:
    """The API and one worker, both as the application role, on the test's Redis."""
    url, namespace = redis_broker
    settings = msgspec.structs.replace(
        deployment.settings,
        broker_url=url,
        broker_namespace=namespace,
        sweep_interval=5.0,
        worker_threads=4,
        db_pool_size=8,
    )
    owner = {"CONCORD_DATABASE_OWNER_URL": deployment.owner.url}
    worker = Worker(settings, tmp_path / "worker.log", **owner)
    server = Server(
        settings,
        tmp_path / "server.log",
        # Rate limits would answer 429 to this load by design; here they are not tested.
        owner | {"CONCORD_RATE_LIMIT_PER_KEY": "0", "CONCORD_RATE_LIMIT_PER_TENANT": "0"},
    )
    try:
        worker.start()
        server.start()
        yield server, worker
    finally:
        server.stop()
        worker.stop()


# ---------------------------------------------------------------------------------- load


@dataclass
class Application:
    slug: str
    application_id: str
    name: str
    stage: str = "submitted"
    member_id: str | None = None


@dataclass
class Tally:
    """What the load did and met, shared by its threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, response: httpx.Response | None, expected: int) -> bool:
        with self.lock:
            if response is None:
                self.statuses[0] += 1
                self.unexpected.append(f"{what}: no answer")
                return False
            self.statuses[response.status_code] += 1
            if response.status_code != expected:
                self.unexpected.append(f"{what}: {response.status_code} {response.text[:300]}")
                return False
            return True


class Client:
    """One thread's HTTP client, holding each alliance's admin key."""

    def __init__(self, base: str, keys: dict[str, dict[str, str]], tally: Tally) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.keys = keys
        self.tally = tally

    def call(
        self, what: str, slug: str, method: str, path: str, expected: int, **kwargs: Any
    ) -> Any:
        headers = self.keys[slug] if path.startswith("/v1/") else {}
        try:
            response: httpx.Response | None = self.http.request(
                method, path, headers=headers, **kwargs
            )
        except httpx.TransportError as error:
            response = None
            what += f" ({type(error).__name__})"
        if self.tally.note(f"{what} {method} {path}", response, expected) and response:
            return response.json() if "json" in response.headers["content-type"] else True
        return None


def run_load(base: str, keys: dict[str, dict[str, str]], seconds: float, tally: Tally) -> int:
    """THREADS threads of mixed reads and writes until the time is up; returns how many
    requests were made."""
    deadline = time.monotonic() + seconds

    def work(number: int) -> None:
        rng = random.Random(number)
        client = Client(base, keys, tally)
        mine: list[Application] = []
        while time.monotonic() < deadline:
            slug = rng.choice(ALLIANCES)
            tenant = f"/v1/tenants/{slug}"
            pick = rng.random()
            if pick < 0.25 or not mine:
                name = f"Soak Trust {uuid.uuid4().hex[:12]}"
                body = {"name": name, "request_text": "We ask to join.", **CHIEF}
                made = client.call("apply", slug, "POST", f"{tenant}/applications", 201, json=body)
                if made:
                    application = Application(slug, made["application_id"], name)
                    mine.append(application)
                    with tally.lock:
                        tally.applications.append(application)
            elif pick < 0.40:
                advance(client, rng.choice(mine))
            elif pick < 0.55:
                client.call(
                    "list", slug, "GET", f"{tenant}/applications", 200, params={"limit": 50}
                )
            elif pick < 0.65:
                own = rng.choice(mine)
                client.call(
                    "read",
                    own.slug,
                    "GET",
                    f"/v1/tenants/{own.slug}/applications/" + own.application_id,
                    200,
                )
            elif pick < 0.75:
                client.call("members", slug, "GET", f"{tenant}/members", 200)
            elif pick < 0.90:
                after = rng.randrange(0, 200)
                params = {"after": after, "limit": 50}
                client.call("events", slug, "GET", f"{tenant}/events", 200, params=params)
            else:
                client.call("page", slug, "GET", f"/a/{slug}/", 200)
        client.http.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(tally.statuses.values())


def advance(client: Client, application: Application) -> None:
    """The next step of an application on its route: circulate it, then admit it."""
    base = f"/v1/tenants/{application.slug}/applications/{application.application_id}"
    if application.stage == "submitted":
        if client.call(
            "circulate", application.slug, "POST", f"{base}/circulate", 200, json={"to_body": ROUTE}
        ):
            application.stage = "circulated"
    elif application.stage == "circulated":
        decision = {"by_body": ROUTE, "outcome": "admit", "decision_ref": "soak"}
        decided = client.call(
            "decide", application.slug, "POST", f"{base}/decide", 200, json=decision
        )
        if decided:
            application.stage = "admitted"
            application.member_id = decided["member_id"]


# -------------------------------------------------------------------------------- memory


@dataclass
class Memory:
    """Resident memory of a process, read every SAMPLE_EVERY seconds."""

    name: str
    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)

    def read(self, at: float) -> None:
        self.samples.append((at, rss_kb(self.pid) / 1024))

    def measured(self, warm_up: float) -> list[tuple[float, float]]:
        return [(t, mb) for t, mb in self.samples if t >= warm_up]

    def figures(self, warm_up: float) -> dict[str, float]:
        """Start (after warm-up), end, max, least-squares slope (MB/min), and the growth
        from the end of the measured run's first half to the end of its second."""
        kept = self.measured(warm_up)
        assert len(kept) >= 8, f"too few memory samples of the {self.name}: {self.samples}"
        half = len(kept) // 2
        first, second = kept[:half], kept[half:]
        mean_t = sum(t for t, _ in kept) / len(kept)
        mean_mb = sum(mb for _, mb in kept) / len(kept)
        slope = sum((t - mean_t) * (mb - mean_mb) for t, mb in kept) / sum(
            (t - mean_t) ** 2 for t, _ in kept
        )

        def end_of(part: list[tuple[float, float]]) -> float:
            return sum(mb for _, mb in part[-3:]) / len(part[-3:])

        return {
            "start": kept[0][1],
            "end": kept[-1][1],
            "max": max(mb for _, mb in kept),
            "slope": slope * 60,
            "growth": end_of(second) - end_of(first),
        }


def sample_memory(processes: list[Memory], stop: threading.Event, began: float) -> None:
    while not stop.is_set():
        at = time.monotonic() - began
        for process in processes:
            process.read(at)
        stop.wait(SAMPLE_EVERY)


# ------------------------------------------------------------------------------- checks


def read_back(base: str, keys: dict[str, dict[str, str]], applications: list[Application]):
    """Every acknowledged application (and member) as the API reads it now; returns what
    does not read back as acknowledged."""
    missing: list[str] = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for slug in ALLIANCES:
            listed: set[str] = set()
            after: str | None = None
            while True:
                params: dict[str, Any] = {"limit": 200} | ({"after": after} if after else {})
                page = http.get(
                    f"/v1/tenants/{slug}/applications", params=params, headers=keys[slug]
                )
                assert page.status_code == 200, page.text
                listed |= {item["application_id"] for item in page.json()["items"]}
                after = page.json().get("next_after")
                if not after:
                    break
            for application in (a for a in applications if a.slug == slug):
                if application.application_id not in listed:
                    missing.append(f"{slug}: {application.name} not listed")
                path = f"/v1/tenants/{slug}/applications/{application.application_id}"
                found = http.get(path, headers=keys[slug])
                if found.status_code != 200 or found.json()["name"] != application.name:
                    missing.append(f"{slug}: {application.name} reads {found.status_code}")
                    continue
                if application.member_id is not None:
                    member = http.get(
                        f"/v1/tenants/{slug}/members/{application.member_id}", headers=keys[slug]
                    )
                    if found.json()["stage"] != "admitted" or member.status_code != 200:
                        missing.append(f"{slug}: {application.name} not admitted")
    return missing


# ------------------------------------------------------------------------------- the run


def test_a_mixed_load_with_workers_meets_no_server_error_and_memory_levels_off(soak, capsys):
    server, worker = soak
    assert server.process is not None and worker.process is not None
    keys: dict[str, dict[str, str]] = {}
    for slug in ALLIANCES:
        body = {"slug": slug, "name": slug.title(), "region": "Kent", "template": "kinship-care"}
        made = httpx.post(f"{server.base}/v1/tenants", json=body, headers=ADMIN, timeout=60)
        assert made.status_code == 201, made.text
        keys[slug] = {"Authorization": "Bearer " + made.json()["admin_key"]["secret"]}
    processes = [Memory("api", server.process.pid), Memory("worker", worker.process.pid)]
    stop = threading.Event()
    began = time.monotonic()
    sampler = threading.Thread(target=sample_memory, args=(processes, stop, began))
    sampler.start()
    tally = Tally()
    try:
        requests = run_load(server.base, keys, SOAK_SECONDS, tally)
    finally:
        stop.set()
        sampler.join()
    elapsed = time.monotonic() - began

    missing = read_back(server.base, keys, tally.applications)
    server_output = server.output()
    server.stop()
    worker.stop()
    for slug in ALLIANCES:
        wait_caught_up(server.settings, slug)
        assert_projections_equal_a_rebuild(server.settings, slug)

    warm_up = WARM_UP_SHARE * SOAK_SECONDS
    figures = {p.name: p.figures(warm_up) for p in processes}
    writes = len(tally.applications) + sum(
        (a.stage != "submitted") + (a.stage == "admitted") for a in tally.applications
    )
    summary = (
        f"soak: {elapsed:.0f} s, {THREADS} threads, {len(ALLIANCES)} alliances, "
        f"{requests} requests ({requests / elapsed:.1f}/s), {writes} writes acknowledged, "
        f"server errors {sum(n for s, n in tally.statuses.items() if s >= 500)}, "
        f"statuses {dict(sorted(tally.statuses.items()))}; RSS MB "
        + "; ".join(
            f"{name} start {f['start']:.1f} end {f['end']:.1f} max {f['max']:.1f} "
            f"slope {f['slope']:+.2f}/min growth over 2nd half {f['growth']:+.1f}"
            for name, f in figures.items()
        )
    )
    with capsys.disabled():
        print("\n" + summary)

    assert not [s for s in tally.statuses if s >= 500 or s == 0], summary
    assert tally.unexpected == [], tally.unexpected[:10]
    assert missing == [], missing[:10]
    assert writes > 0 and tally.statuses[200] > 0
    assert "Traceback" not in server_output, server_output[-5000:]
    assert "could rewrite the event log" not in server_output
    for name, f in figures.items():
        assert f["growth"] < GROWTH_BOUND_MB, f"{name}: {summary}"
