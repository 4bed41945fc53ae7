"""Many tenants on one PostgreSQL: onboarding rate, store open cost, command latency,
connections and memory, at 10 tenants and at N (BENCH_TENANTS, default 1000; the
issue's full run is BENCH_TENANTS=10000).

    .venv/bin/python -m bench.bench_tenants            # N = BENCH_TENANTS or 1000
    BENCH_TENANTS=10000 .venv/bin/python -m bench.bench_tenants

One fresh database (dropped at the end). Phase 1: onboard 10 tenants (through
services/onboarding.onboard, in parallel processes), start a real server
(`concord serve`), and drive `apply to join` over HTTP with wrk, spread over those 10.
Phase 2: onboard up to N tenants in the same database, restart the server, and drive the
same command spread over all N (every request likely opens a store the LRU cache does
not hold) — then over the first 10 again. Reported: onboarding rate, p50/p99 latency,
the p50 ratio N/10 (target ≤ 1.25), the most connections the database saw
(pg_stat_activity, target ≤ 40), the API process's RSS (target ≤ 500 MB) and the
PostgreSQL backends' RSS and private memory. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.bench_http import free_port
from bench.table import Row, render
from infra.settings import Settings
from services import onboarding
from services.applications import AllianceApplication
from services.runtime import TENANT_PROJECTIONS, Runtime, Store

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get(
    "CONCORD_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ADMIN_KEY = "bench-tenants-admin-key-0123456789"
SMALL = 10
POOL_SIZE = 10
CACHE_SIZE = 256
ONBOARDERS = int(os.environ.get("BENCH_ONBOARDERS", "3"))
WRK_SECONDS = 10
ROUNDS = 3
WRK_CONNECTIONS = 8

LUA = r"""
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS")) do
  local slug, secret = line:match("^(%S+)%s+(%S+)$")
  keys[#keys + 1] = {slug, secret}
end
local limit = tonumber(os.getenv("BENCH_SPREAD")) or #keys
local run = os.getenv("BENCH_RUN")
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  n = offset * 7919
end
request = function()
  n = n + 1
  local k = keys[(n * 104729) % limit + 1]
  local body = '{"name": "Bench Organisation ' .. run .. '-' .. offset .. '-' .. n ..
    '", "request_text": "We ask to join."}'
  return wrk.format("POST", "/v1/tenants/" .. k[1] .. "/applications",
    {["Authorization"] = "Bearer " .. k[2], ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %f %f\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


# ----------------------------------------------------------------------- onboarding


def _onboard_slice(url: str, data_dir: str, slugs: list[str], out: str) -> None:
    """One onboarding process: its own Runtime (pool of 2), these slugs; keys to `out`."""
    runtime = Runtime(
        Settings(database_url=url, data_dir=data_dir, db_pool_size=2, tenant_cache_size=4)
    )
    try:
        with open(out, "w") as keys:
            for slug in slugs:
                _, key = onboarding.onboard(
                    runtime,
                    slug=slug,
                    name=f"Alliance {slug}",
                    region="South East",
                    template="children-in-care",
                    by="bench",
                )
                keys.write(f"{slug} {key.secret}\n")
    finally:
        runtime.close()


def onboard(url: str, work: Path, first: int, last: int) -> float:
    """Onboard tenants first..last-1 in parallel processes; returns seconds taken."""
    slugs = [slug_of(number) for number in range(first, last)]
    processes = []
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    for part in range(ONBOARDERS):
        share = slugs[part::ONBOARDERS]
        if not share:
            continue
        out = str(work / f"keys-{first}-{part}.txt")
        process = context.Process(target=_onboard_slice, args=(url, str(work / "var"), share, out))
        process.start()
        processes.append(process)
    try:
        for process in processes:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"an onboarding process failed ({process.exitcode})")
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    return time.perf_counter() - started


def slug_of(number: int) -> str:
    return f"bench-{number:05d}"


def all_keys(work: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted(work.glob("keys-*.txt")):
        lines += path.read_text().splitlines()
    return sorted(lines)


# ----------------------------------------------------------------------- measuring


def connections(url: str, database: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    return int(row[0]) if row else 0


def backend_pids(url: str, database: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, private) of a process in kB; private excludes shared memory (shared_buffers)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name.strip()] = int(rest.split()[0]) if rest.split() else 0
    return fields.get("Rss", 0), fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


class Sampler:
    """Samples the database's connection count and the processes' memory every 0.5 s."""

    def __init__(self, url: str, database: str, api_pid: int) -> None:
        self.url, self.database, self.api_pid = url, database, api_pid
        self.max_connections = 0
        self.max_api_rss = 0
        self.max_backend_rss = 0
        self.max_backend_private = 0

    @contextmanager
    def running(self) -> Iterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.sample()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        self.max_connections = max(self.max_connections, connections(self.url, self.database))
        self.max_api_rss = max(self.max_api_rss, memory_kb(self.api_pid)[0])
        for pid in backend_pids(self.url, self.database):
            rss, private = memory_kb(pid)
            self.max_backend_rss = max(self.max_backend_rss, rss)
            self.max_backend_private = max(self.max_backend_private, private)


class Server:
    """`concord serve` in a subprocess, stopped by its pid."""

    def __init__(self, url: str, work: Path) -> None:
        self.port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CONCORD_") or key.startswith("CONCORD_TEST_")
        }
        env |= {
            "CONCORD_DATABASE_URL": url,
            "CONCORD_DATA_DIR": str(work / "var"),
            "CONCORD_ADMIN_KEY": ADMIN_KEY,
            "CONCORD_DB_POOL_SIZE": str(POOL_SIZE),
            "CONCORD_TENANT_CACHE_SIZE": str(CACHE_SIZE),
            "CONCORD_PORT": str(self.port),
        }
        self.log = open(work / f"server-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv" / "bin" / "concord"), "serve"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=str(work),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def drive(server: Server, keys_file: Path, spread: int, seconds: int) -> dict[str, float]:
    """wrk: `apply to join` spread over the first `spread` tenants of keys_file."""
    script = keys_file.with_suffix(".lua")
    script.write_text(LUA)
    result = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{WRK_CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}",
        ],
        env={
            **os.environ,
            "BENCH_KEYS": str(keys_file),
            "BENCH_SPREAD": str(spread),
            "BENCH_RUN": uuid.uuid4().hex[:8],  # names never repeat (a repeat is a 409)
        },
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("BENCH "))
    requests, bad_status, socket_errors, duration_us, p50, p99 = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(bad_status) + int(socket_errors),
        "rate": int(requests) / (float(duration_us) / 1e6),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
    }


def open_cost(url: str, work: Path, count: int, total: int) -> float:
    """ms to open one existing tenant store that is not cached (in-process)."""
    runtime = Runtime(Settings(database_url=url, data_dir=str(work / "var"), db_pool_size=2))
    try:
        step = max(1, total // count)
        slugs = [slug_of(number) for number in range(0, total, step)][:count]
        warm = Store(
            AllianceApplication(runtime.backend, slugs[0], runtime.tracer), TENANT_PROJECTIONS
        )
        warm.close()
        started = time.perf_counter()
        for slug in slugs:
            assert runtime.backend.exists(slug)
            store = Store(
                AllianceApplication(runtime.backend, slug, runtime.tracer), TENANT_PROJECTIONS
            )
            store.close()
        return 1000 * (time.perf_counter() - started) / len(slugs)
    finally:
        runtime.close()


def phase(
    url: str, database: str, work: Path, keys_file: Path, spreads: list[int], seconds: int
) -> list[tuple[int, dict[str, float], Sampler]]:
    """Drive each spread in turn, `ROUNDS` times interleaved (other load on the machine
    then weighs on every spread alike); each spread's figures are the median round's."""
    results = []
    server = Server(url, work)
    try:
        for spread in spreads:
            drive(server, keys_file, spread, 3)  # warm-up: connections, caches, JIT of paths
        rounds: dict[int, list[dict[str, float]]] = {spread: [] for spread in spreads}
        samplers = {spread: Sampler(url, database, server.process.pid) for spread in spreads}
        for _ in range(ROUNDS):
            for spread in spreads:
                with samplers[spread].running():
                    rounds[spread].append(drive(server, keys_file, spread, seconds))
        for spread in spreads:
            ordered = sorted(rounds[spread], key=lambda r: r["p50_ms"])
            measured = ordered[len(ordered) // 2] | {"errors": sum(r["errors"] for r in ordered)}
            sampler = samplers[spread]
            results.append((spread, measured, sampler))
            print(
                f"  spread over {spread:>6} tenants: {measured['rate']:7.1f} req/s, p50 "
                f"{measured['p50_ms']:.2f} ms, p99 {measured['p99_ms']:.2f} ms, errors "
                f"{measured['errors']}; connections ≤ {sampler.max_connections}, API RSS "
                f"{sampler.max_api_rss / 1024:.0f} MB, backend RSS "
                f"{sampler.max_backend_rss / 1024:.0f} MB (private "
                f"{sampler.max_backend_private / 1024:.0f} MB)",
                flush=True,
            )
    finally:
        server.stop()
    return results


def run(quick: bool = False) -> list[Row]:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_tenants needs wrk: apt-get install wrk")
    total = 100 if quick else int(os.environ.get("BENCH_TENANTS", "1000"))
    seconds = 4 if quick else WRK_SECONDS
    database = f"concord_bench_tenants_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(SERVER)._replace(path="/" + database))
    work = Path(tempfile.mkdtemp(prefix="bench-tenants-"))
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    print(f"bench_tenants: {SMALL} then {total} tenants in {database}", flush=True)
    try:
        # The platform store first, once, as `concord serve --workers` does: processes
        # that all create it at the same moment would race on its tables.
        Runtime(Settings(database_url=url, data_dir=str(work / "var"), db_pool_size=1)).close()
        small_seconds = onboard(url, work, 0, SMALL)
        keys = work / "keys.txt"
        keys.write_text("\n".join(all_keys(work)) + "\n")
        open_small = open_cost(url, work, SMALL, SMALL)
        print(f"  onboarded {SMALL} in {small_seconds:.1f} s; open {open_small:.2f} ms", flush=True)
        small = phase(url, database, work, keys, [SMALL], seconds)

        big_seconds = onboard(url, work, SMALL, total)
        keys.write_text("\n".join(all_keys(work)) + "\n")
        rate = (total - SMALL) / big_seconds
        open_big = open_cost(url, work, 200, total)
        print(
            f"  onboarded {total - SMALL} more in {big_seconds:.0f} s ({rate:.1f}/s); "
            f"open {open_big:.2f} ms",
            flush=True,
        )
        big = phase(url, database, work, keys, [total, SMALL], seconds)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        shutil.rmtree(work, ignore_errors=True)

    at_small, at_big = small[0][1], big[0][1]
    samplers = [entry[2] for entry in small + big]
    worst_conn = max(s.max_connections for s in samplers)
    return [
        Row(
            f"onboarding rate ({ONBOARDERS} processes, {total} tenants)",
            rate,
            "tenants/s",
            note=f"{1000 / rate:.0f} ms/tenant wall",
        ),
        Row(
            f"store open, not cached, at {total} tenants",
            open_big,
            "ms",
            baseline=open_small,
            baseline_label=f"at {SMALL}",
            higher_is_better=False,
        ),
        Row(
            f"apply to join p50, spread over {total} tenants",
            at_big["p50_ms"],
            "ms",
            baseline=big[1][1]["p50_ms"],
            baseline_label=f"over {SMALL} of them, same server, interleaved",
            higher_is_better=False,
            target="ratio ≥ 0.80 (at most 1.25 times slower)",
        ),
        Row(
            f"apply to join p99, spread over {total} tenants",
            at_big["p99_ms"],
            "ms",
            baseline=big[1][1]["p99_ms"],
            baseline_label=f"over {SMALL} of them",
            higher_is_better=False,
        ),
        Row(
            f"apply to join p50, over {SMALL} tenants of {total}",
            big[1][1]["p50_ms"],
            "ms",
            baseline=at_small["p50_ms"],
            baseline_label=f"{SMALL} in the database (earlier, other load)",
            higher_is_better=False,
        ),
        Row(
            "database connections (max, pg_stat_activity)",
            worst_conn,
            "",
            target="≤ 40",
            higher_is_better=False,
            note=f"pool {POOL_SIZE}",
        ),
        Row(
            f"API process RSS at {total} tenants",
            max(s.max_api_rss for s in samplers[1:]) / 1024,
            "MB",
            baseline=small[0][2].max_api_rss / 1024,
            baseline_label=f"at {SMALL}",
            higher_is_better=False,
            target="≤ 500 MB",
        ),
        Row(
            f"postgres backend RSS at {total} tenants",
            max(s.max_backend_rss for s in samplers[1:]) / 1024,
            "MB",
            baseline=small[0][2].max_backend_rss / 1024,
            baseline_label=f"at {SMALL}",
            higher_is_better=False,
            note="includes shared_buffers pages touched",
        ),
        Row(
            f"postgres backend private memory at {total} tenants",
            max(s.max_backend_private for s in samplers[1:]) / 1024,
            "MB",
            baseline=small[0][2].max_backend_private / 1024,
            baseline_label=f"at {SMALL}",
            higher_is_better=False,
        ),
    ]


if __name__ == "__main__":
    print(render(run(quick="--quick" in sys.argv)))
