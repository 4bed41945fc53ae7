"""Concord over HTTP against a bare litestar baseline, both served by uvicorn with the same
number of processes, driven by wrk (bench/lua/*.lua). `bench/run.py` calls `run()`.

Figures (each beside its raw baseline from the same run):
  1. the command mix on PostgreSQL (64 connections, 100 tenants) vs one INSERT + COMMIT;
  2. the same mix on the embedded SQLite store vs one INSERT + COMMIT into SQLite (WAL);
  3. a page of the member register vs the same SELECT on the same table;
  4. with projections in dramatiq workers: the projection lag (Server-Timing) p50/p99 at
     half the command rate of figure 1.

Setup (tenants, members, motions open for voting, meetings to hold) goes through the real
API before any clock starts, in two rounds: a small one for the warm-up, then one sized
from the warm-up's rate so that every measured run has fresh items. Concord and its
baseline take turns (ROUNDS) within each figure. docs/performance.md describes the method.

Environment: BENCH_QUICK=1 shrinks everything; BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) is where a throwaway database is created
and dropped; BENCH_REDIS_URL for figure 4; BENCH_PROFILE=0 skips the py-spy pass;
BENCH_PROCESSES / BENCH_SQLITE_PROCESSES: uvicorn processes per app (2 / 1).
"""

from __future__ import annotations

import collections
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

from bench.baseline_app import prepare
from bench.table import Row
from infra.settings import Settings
from services.api.app import create_app

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"
VENV_BIN = Path(sys.executable).parent
ADMIN_KEY = "bench-platform-admin-" + secrets.token_hex(8)
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
#: uvicorn processes serving each app (Concord and its baseline alike), per backend.
PG_WORKERS = int(os.environ.get("BENCH_PROCESSES", "2"))
SQLITE_WORKERS = int(os.environ.get("BENCH_SQLITE_PROCESSES", "1"))
THREADS = 2  # wrk threads
CONNECTIONS = 64
DURATION = 6 if QUICK else 15  # seconds per measured figure
WARMUP = 2 if QUICK else 3
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PROFILE = os.environ.get("BENCH_PROFILE", "1") not in ("", "0")
OUT = ROOT / "var" / "bench"
TEMPLATE = "kinship-care"  # admission: circulated to, then decided by, the executive
FM, EXEC = "full-membership", "executive-committee"
LINK = "https://meet.example.org/bench"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the servers


def concord_app() -> Any:
    """`uvicorn --factory bench.bench_http:concord_app`: Concord as `concord serve` builds
    it, from the CONCORD_* environment."""
    return create_app(Settings.from_env(os.environ))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    workers: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def children(self) -> list[int]:
        """The pids of uvicorn's worker processes (itself, when it runs one)."""
        if self.workers == 1:
            return [self.process.pid]
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found


def start_server(
    name: str, factory: str, env: dict[str, str], folder: Path, workers: int
) -> Server:
    port = free_port()
    log_path = folder / f"{name}.log"
    command = [
        str(VENV_BIN / "uvicorn"),
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log_path.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(name, process, port, log_path, workers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code < 500 and (
                len(server.children()) >= workers
            ):
                time.sleep(1.0)  # the other worker's start-up too
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(server.process)
    raise RuntimeError(f"{name} did not start in 60 s: {log_path.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serving(
    name: str, factory: str, env: dict[str, str], folder: Path, workers: int
) -> Iterator[Server]:
    server = start_server(name, factory, env, folder, workers)
    try:
        yield server
    finally:
        stop(server.process)
        shutil.copy(server.log_path, OUT / server.log_path.name)  # kept for a look at errors


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONFAULTHANDLER"] = "1"  # a crash leaves its Python stack in the server's log
    return env


def concord_env(database_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    env = base_env() | {
        "CONCORD_ADMIN_KEY": ADMIN_KEY,
        "CONCORD_DATA_DIR": str(data_dir),
        "CONCORD_CHECKPOINT_INTERVAL": "0",
    }
    if database_url:
        env["CONCORD_DATABASE_URL"] = database_url
    return env | extra


# --------------------------------------------------------------------------- the setup


@dataclass
class Tenant:
    slug: str
    key: str
    members: list[str] = field(default_factory=list)  # every member admitted so far
    # What the latest growth step prepared and no wrk run has used yet:
    fresh_members: list[str] = field(default_factory=list)  # room for two representatives
    motions: list[str] = field(default_factory=list)  # open; every member in the electorate
    meetings: list[str] = field(default_factory=list)  # scheduled, for the mix to hold
    counter: int = 0


@dataclass(frozen=True)
class Shape:
    """What one growth step adds to each tenant."""

    members: int
    motions: int
    meetings: int


class Api:
    def __init__(self, client: httpx.Client, slug: str, key: str) -> None:
        self.client, self.slug, self.headers = client, slug, {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/tenants/{self.slug}{path}", json=body, headers=self.headers
        )
        if response.status_code != status:
            raise RuntimeError(f"setup: POST {path} → {response.status_code} {response.text}")
        return dict(response.json())


def onboard(client: httpx.Client, slug: str) -> Tenant:
    founded = client.post(
        "/v1/tenants",
        json={"slug": slug, "name": f"Bench {slug}", "region": "Bench", "template": TEMPLATE},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    if founded.status_code != 201:
        raise RuntimeError(f"setup: onboarding {slug} → {founded.status_code} {founded.text}")
    return Tenant(slug, founded.json()["admin_key"]["secret"])


def grow(client: httpx.Client, tenant: Tenant, shape: Shape) -> None:
    """Admit `shape.members` organisations (kinship-care route: circulated to, then decided
    by, the executive); hold a full-membership meeting every member attends, and at it put
    `shape.motions` motions to the vote (no consensus first); schedule `shape.meetings`
    meetings (starting a minute ago, so they can be held)."""
    api = Api(client, tenant.slug, tenant.key)
    tenant.fresh_members, tenant.motions, tenant.meetings = [], [], []
    for _ in range(shape.members):
        tenant.counter += 1
        applied = api.post(
            "/applications",
            {
                "name": f"Member Org {_letters(tenant.counter)}",
                "request_text": "We ask to join.",
                "signatory_role": "Chief Executive",
                "signatory_name": "Alex Morgan",
            },
            status=201,
        )
        step = f"/applications/{applied['application_id']}"
        api.post(step + "/circulate", {"to_body": EXEC})
        decided = api.post(
            step + "/decide", {"by_body": EXEC, "outcome": "admit", "decision_ref": "bench"}
        )
        tenant.members.append(str(decided["member_id"]))
        tenant.fresh_members.append(str(decided["member_id"]))
    started = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    meeting = {"body": FM, "title": "Bench meeting", "starts_at": started}
    meeting |= {"format": "virtual", "link": LINK}
    if shape.motions:
        main = api.post("/meetings", meeting, status=201)["meeting_id"]
        api.post(
            f"/meetings/{main}/hold",
            {"attendance": [{"member_id": m} for m in tenant.members], "apologies": []},
        )
        for _ in range(shape.motions):
            tenant.counter += 1
            text = f"Bench motion {tenant.counter}."
            motion = api.post("/motions", {"body": FM, "text": text}, status=201)["motion_id"]
            api.post(f"/motions/{motion}/consensus", {"meeting_id": main, "reached": False})
            api.post(f"/motions/{motion}/voting", {"meeting_id": main})
            tenant.motions.append(str(motion))
    for _ in range(shape.meetings):
        tenant.meetings.append(str(api.post("/meetings", meeting, status=201)["meeting_id"]))


def set_up(url: str, slugs: list[str], shape: Shape) -> list[Tenant]:
    started = time.monotonic()
    with (
        httpx.Client(base_url=url, timeout=120) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        # The first few one at a time: concurrent first use of msgspec.convert(…, Rules) in
        # a fresh server process has crashed it (a segfault in msgspec's _core).
        first = [onboard(client, slug) for slug in slugs[:6]]
        tenants = first + list(pool.map(lambda slug: onboard(client, slug), slugs[6:]))
        list(pool.map(lambda tenant: grow(client, tenant, shape), tenants))
    log(
        f"setup: {len(slugs)} tenants, each {shape.members} members, {shape.motions} "
        f"motions open, {shape.meetings} meetings, in {time.monotonic() - started:.0f} s"
    )
    return tenants


def top_up(url: str, tenants: list[Tenant], shape: Shape) -> None:
    started = time.monotonic()
    with (
        httpx.Client(base_url=url, timeout=120) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        list(pool.map(lambda tenant: grow(client, tenant, shape), tenants))
    log(
        f"top-up: each of {len(tenants)} tenants {shape.members} more members, "
        f"{shape.motions} motions, {shape.meetings} meetings, in "
        f"{time.monotonic() - started:.0f} s"
    )


def shape_for(requests: float, tenants: int) -> Shape:
    """Enough fresh items for `requests` requests of the mix (a quarter of each kind) over
    `tenants` tenants: representatives two a new member, votes every member on each new
    motion, one hold a meeting."""
    each = math.ceil(requests / 4 / tenants)
    members = max(2, math.ceil(each / 2))
    return Shape(members=members, motions=max(1, math.ceil(each / members)), meetings=each)


def _letters(number: int) -> str:
    out = ""
    while True:
        out = chr(97 + number % 26) + out
        number //= 26
        if number == 0:
            return out


# ------------------------------------------------------------------ the data wrk reads


def pools(tenant: Tenant) -> dict[str, list[Any]]:
    """The fresh items one tenant offers the mix, ordered so that the same aggregate comes
    back as late as possible (no two writes race for one motion or member)."""
    fresh, members, motions = tenant.fresh_members, tenant.members, tenant.motions
    reps = [[tenant.slug, fresh[r % len(fresh)]] for r in range(2 * len(fresh))]
    votes = [
        [tenant.slug, motions[r % len(motions)], members[r // len(motions)]]
        for r in range(len(motions) * len(members))
    ]
    attending = min(3, len(members))
    holds = [
        [
            tenant.slug,
            meeting,
            [members[(attending * r + k) % len(members)] for k in range(attending)],
        ]
        for r, meeting in enumerate(tenant.meetings)
    ]
    return {"rep": reps, "vote": votes, "hold": holds}


def segment_files(
    tenants: list[Tenant], folder: Path, tag: str, shares: dict[str, float]
) -> dict[str, Path]:
    """One Lua data file per wrk run (`shares`: the part of every pool each run gets, in
    order); each wrk thread gets every THREADS-th tenant, its items interleaved across
    them."""
    per_tenant = [pools(t) for t in tenants]
    queues: list[dict[str, list[Any]]] = []  # each thread's items, round-robin over tenants
    for number in range(THREADS):
        mine = [o for i, o in enumerate(per_tenant) if i % THREADS == number]
        queue: dict[str, list[Any]] = {}
        for kind in ("rep", "vote", "hold"):
            lists = [o[kind] for o in mine]
            longest = max(map(len, lists), default=0)
            queue[kind] = [items[r] for r in range(longest) for items in lists if r < len(items)]
        queues.append(queue)
    files = {}
    begin = 0.0
    for name, share in shares.items():
        end = begin + share
        threads: list[dict[str, list[Any]]] = [
            {"apply": [t.slug for i, t in enumerate(tenants) if i % THREADS == number]}
            | {
                kind: items[round(begin * len(items)) : round(end * len(items))]
                for kind, items in queue.items()
            }
            for number, queue in enumerate(queues)
        ]
        begin = end
        data = {
            "run": _letters(secrets.randbelow(26**5)),  # applicants' names: unique per run
            "keys": {t.slug: t.key for t in tenants},
            "threads": threads,
        }
        path = folder / f"{tag}-{name}.lua"
        path.write_text("return " + _lua(data) + "\n")
        files[name] = path
    return files


def _lua(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"[{_lua(k)}]={_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ",".join(_lua(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


# --------------------------------------------------------------------------- wrk


@dataclass
class Result:
    requests: int
    seconds: float
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    lags: list[float]
    lagging: int
    caught_up: int
    fallback: int
    samples: list[str]
    cpu_seconds: float | None = None  # the server processes' CPU time during the run
    transactions: float | None = None  # PostgreSQL transactions a request

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.startswith("2"))

    @property
    def failed(self) -> int:
        return self.requests - self.ok

    @property
    def rate(self) -> float:
        """Successful (2xx) requests per second."""
        return self.ok / self.seconds

    def describe(self) -> str:
        errors = {k: v for k, v in self.socket_errors.items() if v}
        return (
            f"{self.rate:,.0f} ok/s, {self.requests} requests, statuses {self.statuses}"
            + (f", socket errors {errors}" if errors else "")
            + (f", {self.fallback} fell back to applications" if self.fallback else "")
            + f", latency p50 {self.latency_ms['p50']:.0f} ms p99 {self.latency_ms['p99']:.0f} ms"
            + (f", {self.cpu_ms:.1f} ms server CPU a request" if self.cpu_ms else "")
        )

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU (user + system, every process) per request answered."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return 1000 * self.cpu_seconds / self.requests


def pg_transactions(url: str) -> int:
    """Transactions committed or rolled back in this database so far (the statistics
    collector's view, which lags by up to a second: read after a pause)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str,
    script: str,
    data: Path | None,
    seconds: int,
    folder: Path,
    *,
    connections: int = CONNECTIONS,
    delay_ms: float | None = None,
    during: Callable[[], None] | None = None,
    server: Server | None = None,
) -> Result:
    pids = server.children() if server is not None else []
    cpu_before = cpu_seconds(pids)
    out = folder / f"wrk-{uuid.uuid4().hex[:8]}.json"
    env = os.environ | {"BENCH_LUA_DIR": str(LUA), "BENCH_OUT": str(out)}
    if data is not None:
        env["BENCH_DATA"] = str(data)
    if delay_ms is not None:
        env["BENCH_DELAY_MS"] = f"{delay_ms:.1f}"
    command = [
        wrk_binary(),
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA / script),
        url,
    ]
    process = subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    if during is not None:
        during()
    output, _ = process.communicate(timeout=seconds + 120)
    cpu = cpu_seconds(pids) - cpu_before if pids else None
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({process.returncode}): {output.decode()[-2000:]}")
    raw = json.loads(out.read_text())
    out.unlink()
    statuses = raw["statuses"] if isinstance(raw["statuses"], dict) else {}
    return Result(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        statuses={k: int(v) for k, v in statuses.items()},
        socket_errors=raw["socket_errors"] if isinstance(raw["socket_errors"], dict) else {},
        latency_ms=raw["latency_ms"],
        lags=[float(x) for x in raw["lags"]],
        lagging=int(raw["lagging"]),
        caught_up=int(raw["caught_up"]),
        fallback=int(raw["fallback"]),
        samples=list(raw["samples"]),
        cpu_seconds=cpu,
    )


def wrk_binary() -> str:
    found = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (Debian/Ubuntu)")
    return found


# --------------------------------------------------------------------------- profiling


def profile(server: Server, seconds: int, folder: Path, tag: str) -> list[str]:
    """py-spy on every uvicorn worker of `server` while wrk runs: the top costs, as lines."""
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not Path(spy).exists():
        return ["(py-spy not installed: .venv/bin/pip install py-spy)"]
    outputs = []
    processes = []
    for pid in server.children():
        out = folder / f"profile-{tag}-{pid}.txt"
        outputs.append(out)
        processes.append(
            subprocess.Popen(  # noqa: S603
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "97",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                    "--gil",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for process in processes:
        process.wait(timeout=seconds + 60)
    stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
    for out in outputs:
        if not out.exists():
            continue
        for line in out.read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            if frames and count.isdigit():
                stacks[tuple(frames.split(";"))] += int(count)
    merged = OUT / f"profile-{tag}.collapsed"  # for flamegraph.pl / speedscope
    merged.write_text("".join(f"{';'.join(k)} {v}\n" for k, v in stacks.most_common()))
    return summarise(stacks)


def _frame(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)"; keeps package for our code.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def summarise(stacks: collections.Counter[tuple[str, ...]], top: int = 14) -> list[str]:
    total = sum(stacks.values())
    if not total:
        return ["(no samples)"]
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    layer: collections.Counter[str] = collections.Counter()
    for frames, count in stacks.items():
        named = [_frame(f) for f in frames]
        own[named[-1]] += count
        for name in set(named):
            inclusive[name] += count
        layer[_layer(frames)] += count
    lines = [
        f"{total} samples of the thread holding the GIL (py-spy --gil), both workers",
        "the command path, inclusive (a sample counts in every bucket it is under):",
    ]
    for label, markers in COSTS:
        hits = sum(
            count
            for frames, count in stacks.items()
            if any(marker in frame for frame in frames for marker in markers)
        )
        lines.append(f"  {100 * hits / total:5.1f}%  {label}")
    lines.append("by layer (where the innermost frame is):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in layer.most_common()]
    lines.append("self time (innermost frame):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("inclusive, Concord's own functions (services/, projections/, infra/, domain/):")
    ours = [
        (name, n)
        for name, n in inclusive.most_common()
        if any(f"({p}" in name for p in ("services/", "projections/", "infra/", "domain/"))
    ]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours[:top]]
    return lines


#: Named costs of a write, each matched on frames ("function (path").
COSTS = (
    ("projection catch-up after the save (ProjectionRunner.catch_up)", ("catch_up (",)),
    ("  of it: reading the log (select_notifications)", ("select_notifications (",)),
    (
        "  of it: view transactions (PostgresViewStore/ViewStore.transaction)",
        (
            "PostgresViewStore.transaction (",
            "SqliteViewStore.transaction (",
        ),
    ),
    ("event store append (Application.save)", ("Application.save (",)),
    ("aggregate load (Repository.get)", ("Repository.get (",)),
    ("response read-back (Store.read)", ("Store.read (",)),
    ("authentication (BearerKeyMiddleware)", ("BearerKeyMiddleware", "authenticate_request (")),
    ("opentelemetry spans", ("opentelemetry",)),
    ("psycopg statement preparing (_maybe_prepare_gen)", ("_maybe_prepare_gen (",)),
    ("psycopg pool hand-out/return", ("ConnectionPool.", "psycopg_pool")),
)

LAYERS = (
    ("psycopg", "psycopg (PostgreSQL driver)"),
    ("sqlite3", "sqlite3"),
    ("/eventsourcing/", "eventsourcing (library)"),
    ("msgspec", "serialisation (msgspec/json)"),
    ("json", "serialisation (msgspec/json)"),
    ("opentelemetry", "opentelemetry"),
    ("/litestar/", "litestar/uvicorn (HTTP)"),
    ("/uvicorn/", "litestar/uvicorn (HTTP)"),
    ("/anyio/", "threads/event loop"),
    ("threading", "threads/event loop"),
    ("asyncio", "threads/event loop"),
    ("(domain/", "concord domain"),
    ("(projections/", "concord projections"),
    ("(services/", "concord services"),
    ("(infra/", "concord infra"),
)


def _layer(frames: tuple[str, ...]) -> str:
    """The layer of the innermost frame that belongs to a known one."""
    for frame in reversed(frames):
        named = _frame(frame)
        for marker, layer in LAYERS:
            if marker in frame or marker in named:
                return layer
    return "other"


# --------------------------------------------------------------------------- figures


@dataclass
class Measured:
    tenants: int
    mix: Result
    baseline: Result
    read: Result
    read_baseline: Result
    rows_a_page: int
    files: dict[str, Path]
    profile: list[str] = field(default_factory=list)


#: Each tenant, before the warm-up: two members, one motion open, two meetings to hold.
WARM_SHAPE = Shape(members=2, motions=1, meetings=2)
MARGIN = 1.6  # fresh items prepared per request expected (the warm-up's rate is rough)
PROFILE_SECONDS = 6 if QUICK else 10
ROUNDS = 3  # turns Concord and its baseline take, DURATION / ROUNDS seconds each
CALIBRATE = 6  # seconds of the lag run spent finding the delay that gives the rate


def measure_backend(  # noqa: PLR0915
    name: str,
    database_url: str | None,
    tenant_count: int,
    folder: Path,
    *,
    workers: int,
    with_profile: bool,
    with_lag: bool,
) -> Measured:
    """Figures 1 or 2, and 3, on one backend; leaves fresh items for the lag run."""
    data_dir = folder / f"{name}-data"
    env = concord_env(database_url, data_dir)
    slugs = [f"bench-{name[:2]}-{number:05d}" for number in range(tenant_count)]
    factory = "bench.bench_http:concord_app"
    profiling = with_profile and PROFILE
    with serving(f"concord-{name}", factory, env, folder, workers) as server:
        tenants = set_up(server.url, slugs, WARM_SHAPE)
        warm_files = segment_files(tenants, folder, f"{name}-warm", {"warm": 1.0})
        warm = wrk(server.url, "mix.lua", warm_files["warm"], WARMUP, folder)
        log(f"{name} warm-up: {warm.describe()}")
        rate = max(warm.requests / warm.seconds, 5.0)
        # What each run may use: its seconds at the warm-up's rate, plus the first burst
        # (every connection sends at once).
        need = {f"measure-{n}": CONNECTIONS + rate * DURATION / ROUNDS for n in range(ROUNDS)}
        need["profile"] = CONNECTIONS + rate * (PROFILE_SECONDS + 2) if profiling else 0.0
        need["lag-calibrate"] = LAG_CONNECTIONS + rate / 2 * CALIBRATE if with_lag else 0.0
        need["lag"] = LAG_CONNECTIONS + rate / 2 * DURATION if with_lag else 0.0
        total = MARGIN * sum(need.values())
        top_up(server.url, tenants, shape_for(total, len(tenants)))
        shares = {k: v / sum(need.values()) for k, v in need.items() if v}
        files = segment_files(tenants, folder, name, shares)
        page = httpx.get(
            f"{server.url}/v1/tenants/{tenants[0].slug}/members?limit=50",
            headers={"Authorization": f"Bearer {tenants[0].key}"},
        ).json()
        baseline_env = base_env()
        sqlite_path = folder / f"{name}-raw.sqlite"
        if database_url:
            baseline_env["BENCH_BASELINE_DATABASE_URL"] = database_url
        else:
            baseline_env["BENCH_BASELINE_SQLITE"] = str(sqlite_path)
            baseline_env["BENCH_BASELINE_DATA_DIR"] = str(data_dir)
        prepare(database_url, None if database_url else sqlite_path)
        raw_factory = "bench.baseline_app:create"
        with serving(f"baseline-{name}", raw_factory, baseline_env, folder, workers) as raw:
            wrk(raw.url, "insert.lua", None, WARMUP, folder)
            # Concord and its baseline take turns, ROUNDS times each, so that a change in
            # the machine's other load falls on both.
            mixes, bases = [], []
            slice_ = max(1, DURATION // ROUNDS)
            for number in range(ROUNDS):
                part = files[f"measure-{number}"]
                before = pg_transactions(database_url) if database_url and not number else 0
                mixes.append(wrk(server.url, "mix.lua", part, slice_, folder, server=server))
                if database_url and not number:
                    time.sleep(1.5)
                    done = pg_transactions(database_url) - before
                    transactions = done / max(mixes[0].requests, 1)
                bases.append(wrk(raw.url, "insert.lua", None, slice_, folder, server=raw))
            mix, base = combine(mixes), combine(bases)
            if database_url:
                mix.transactions = transactions
            log(f"{name} mix: {mix.describe()}")
            for sample in mix.samples[:3]:
                log(f"  non-2xx sample: {sample}")
            log(f"{name} baseline INSERT: {base.describe()}")
            reads, base_reads = [], []
            for _ in range(ROUNDS):
                part = files["measure-0"]  # read.lua reads the tenants' slugs only
                reads.append(wrk(server.url, "read.lua", part, slice_, folder, server=server))
                base_reads.append(wrk(raw.url, "read.lua", part, slice_, folder, server=raw))
            read, base_read = combine(reads), combine(base_reads)
            log(f"{name} member register: {read.describe()}")
            log(f"{name} baseline SELECT: {base_read.describe()}")
        prof: list[str] = []
        if profiling:
            profiled = wrk(
                server.url,
                "mix.lua",
                files["profile"],
                PROFILE_SECONDS + 2,
                folder,
                during=lambda: prof.extend(profile(server, PROFILE_SECONDS, folder, name)),
            )
            log(f"{name} profiled run: {profiled.describe()}")
    return Measured(
        tenants=tenant_count,
        mix=mix,
        baseline=base,
        read=read,
        read_baseline=base_read,
        rows_a_page=len(page["items"]),
        files=files,
        profile=prof,
    )


def combine(results: list[Result]) -> Result:
    """Several wrk runs as one (latency percentiles: the worst run's)."""
    statuses: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    for result in results:
        statuses.update(result.statuses)
        errors.update(result.socket_errors)
    cpu = [r.cpu_seconds for r in results]
    return Result(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        statuses=dict(statuses),
        socket_errors=dict(errors),
        latency_ms={key: max(r.latency_ms[key] for r in results) for key in results[0].latency_ms},
        lags=[lag for r in results for lag in r.lags],
        lagging=sum(r.lagging for r in results),
        caught_up=sum(r.caught_up for r in results),
        fallback=sum(r.fallback for r in results),
        samples=[s for r in results for s in r.samples][:5],
        cpu_seconds=None if None in cpu else sum(c for c in cpu if c is not None),
    )


def measure_lag(
    database_url: str, files: dict[str, Path], full_rate: float, folder: Path
) -> Result | None:
    """Figure 4: projections in `concord worker` processes, writes at half `full_rate`."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as error:
        log(f"figure 4 skipped: Redis at {REDIS_URL} unreachable ({error})")
        return None
    help_text = subprocess.run(  # noqa: S603
        [str(VENV_BIN / "concord"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    if " worker" not in help_text:
        log("figure 4 skipped: this Concord has no `concord worker` command yet")
        return None
    namespace = f"bench-{secrets.token_hex(4)}"
    env = concord_env(
        database_url,
        folder / "lag-data",
        CONCORD_BROKER_URL=REDIS_URL,
        CONCORD_BROKER_NAMESPACE=namespace,
    )
    workers = []
    for number in range(LAG_WORKERS):
        with (folder / f"worker-{number}.log").open("wb") as out:
            workers.append(
                subprocess.Popen(  # noqa: S603
                    [str(VENV_BIN / "concord"), "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        factory = "bench.bench_http:concord_app"
        with serving("concord-workers", factory, env, folder, PG_WORKERS) as server:
            time.sleep(2)
            # Each connection sends one request per (delay + latency): a short run at the
            # naive delay shows what the latency costs, the measured run subtracts it.
            target = full_rate / 2
            naive = LAG_CONNECTIONS * 1000 / target
            probe = wrk(
                server.url,
                "mix.lua",
                files["lag-calibrate"],
                CALIBRATE,
                folder,
                connections=LAG_CONNECTIONS,
                delay_ms=naive,
            )
            spent = LAG_CONNECTIONS * 1000 / max(probe.requests / probe.seconds, 0.1) - naive
            delay_ms = max(1.0, naive - max(0.0, spent))
            log(f"lag calibration: {probe.describe()}; delay {naive:.0f} → {delay_ms:.0f} ms")
            result = wrk(
                server.url,
                "mix.lua",
                files["lag"],
                DURATION,
                folder,
                connections=LAG_CONNECTIONS,
                delay_ms=delay_ms,
            )
            log(f"lag run (target {target:.1f}/s): {result.describe()}")
            log(f"  headers: {result.caught_up} caught-up, {result.lagging} lagging")
            for sample in result.samples[:3]:
                log(f"  non-2xx sample: {sample}")
            return result
    finally:
        for worker in workers:
            stop(worker)
        try:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{namespace}*", count=500):
                client.delete(key)
        except Exception:  # noqa: S110
            pass


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"concord_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_SERVER, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _failures(result: Result) -> str:
    bad = {k: v for k, v in result.statuses.items() if not k.startswith("2")}
    errors = sum(v for k, v in result.socket_errors.items() if k != "status")
    parts = [f"{result.failed} non-2xx of {result.requests}"]
    if bad:
        parts[0] += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) + ")"
    if errors:
        parts.append(f"{errors} socket errors")
    if result.fallback:
        parts.append(f"{result.fallback} pool-dry → applications")
    return "; ".join(parts)


def _cpu(concord: Result, baseline: Result) -> str:
    text = ""
    if concord.cpu_ms is not None and baseline.cpu_ms is not None:
        text = f"; server CPU {concord.cpu_ms:.1f} vs {baseline.cpu_ms:.2f} ms a request"
    if concord.transactions is not None:
        text += f"; {concord.transactions:.0f} PostgreSQL transactions a request"
    return text


WRITE_TARGET = "≥ 0.5×"  # noqa: RUF001
READ_TARGET = "≥ 0.7×"  # noqa: RUF001
PG_TENANTS = 20 if QUICK else 100
SQLITE_TENANTS = 8 if QUICK else 20
LAG_WORKERS = 2  # `concord worker` processes for figure 4
#: The parts of run() that failed (their rows are missing; the others are kept).
failures: list[str] = []
LAG_CONNECTIONS = 16  # fewer than 64, so each connection's pause is short and steady


def run(only: set[str] | None = None) -> list[Row]:
    """Figures 1 to 4 as table rows (see the module docstring). `only`: a subset of
    {"postgres", "sqlite"}."""
    wrk_binary()
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    failures.clear()
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        folder = Path(tmp)
        if only is None or "postgres" in only:
            try:
                rows += postgres_rows(folder)
            except Exception:
                traceback.print_exc()
                failures.append("postgres")
        if only is None or "sqlite" in only:
            try:
                rows += sqlite_rows(folder)
            except Exception:
                traceback.print_exc()
                failures.append("sqlite")
    rows.sort(key=lambda row: row.figure.split(".", 1)[0])  # stable: PostgreSQL first
    return rows


def postgres_rows(folder: Path) -> list[Row]:
    rows: list[Row] = []
    runs = f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s"
    with fresh_database() as url:
        pg = measure_backend(
            "postgres",
            url,
            PG_TENANTS,
            folder,
            workers=PG_WORKERS,
            with_profile=True,
            with_lag=True,
        )
        lag = measure_lag(url, pg.files, pg.mix.rate, folder)
    rows.append(
        Row(
            "1. command mix over HTTP, PostgreSQL",
            pg.mix.rate,
            "req/s",
            pg.baseline.rate,
            "INSERT + COMMIT",
            WRITE_TARGET,
            note=f"{pg.tenants} tenants, {runs}, {PG_WORKERS} uvicorn processes; "
            + _failures(pg.mix)
            + _cpu(pg.mix, pg.baseline),
        )
    )
    rows.append(
        Row(
            "3. member register page (limit 50), PostgreSQL",
            pg.read.rate,
            "req/s",
            pg.read_baseline.rate,
            "same SELECT",
            READ_TARGET,
            note=f"{pg.rows_a_page} rows a page; "
            + _failures(pg.read)
            + _cpu(pg.read, pg.read_baseline),
        )
    )
    if lag is not None and lag.lags:
        note = (
            f"{LAG_WORKERS} workers, {LAG_CONNECTIONS} connections; "
            f"{lag.rate:,.1f} ok/s achieved "
            f"(target {pg.mix.rate / 2:,.1f}), {len(lag.lags)} writes timed, "
            f"{lag.lagging} answered lagging; {_failures(lag)}"
        )
        rows.append(
            Row(
                "4. projection lag p50, ½ rate",
                percentile(lag.lags, 50),
                "ms",
                higher_is_better=False,
                note=note,
            )
        )
        rows.append(
            Row(
                "4. projection lag p99, ½ rate",
                percentile(lag.lags, 99),
                "ms",
                target="≤ 250 ms",
                higher_is_better=False,
            )
        )
    elif lag is not None:
        log("figure 4: no answer carried Server-Timing: projections;dur=…")
    if pg.profile:
        text = "\n".join(pg.profile)
        (OUT / "profile-postgres.txt").write_text(text + "\n")
        print("\nProfile of the command mix on PostgreSQL (py-spy):\n" + text)
    return rows


def sqlite_rows(folder: Path) -> list[Row]:
    rows: list[Row] = []
    runs = f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s"
    lite = measure_backend(
        "sqlite",
        None,
        SQLITE_TENANTS,
        folder,
        workers=SQLITE_WORKERS,
        with_profile=False,
        with_lag=False,
    )
    rows.append(
        Row(
            "2. command mix over HTTP, SQLite (embedded)",
            lite.mix.rate,
            "req/s",
            lite.baseline.rate,
            "INSERT + COMMIT, WAL",
            "",
            note=f"{lite.tenants} tenants, {runs}, {SQLITE_WORKERS} uvicorn process; "
            + _failures(lite.mix)
            + _cpu(lite.mix, lite.baseline),
        )
    )
    rows.append(
        Row(
            "3. member register page (limit 50), SQLite",
            lite.read.rate,
            "req/s",
            lite.read_baseline.rate,
            "same SELECT",
            READ_TARGET,
            note=f"{lite.rows_a_page} rows a page; "
            + _failures(lite.read)
            + _cpu(lite.read, lite.read_baseline),
        )
    )
    return rows
