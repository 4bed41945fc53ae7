"""Offline verification of an audit bundle, projection rebuild and `as_of` replay, each
beside a raw baseline measured in the same run (issue 8).

    .venv/bin/python -m bench.bench_verify [--events N] [--million] [--postgres URL] [--quick]

The log is built in process through the real domain and application layer: the demo
alliance (`services/demo.py`: onboarding, admissions, a year of meetings and minutes,
some confidential) through the use cases, then organisations joining by the ToR's route,
gaining a representative and being suspended and reinstated, made by the domain
aggregates' own commands (checked against the ToR in force) and saved with the store's
`Application.save` in large batches. Every event is a real, replayable domain event.
Nothing is cached between runs: each run builds its log in a fresh temporary folder (or
database) and drops it.

Figures:
1. `concord audit verify` of an exported bundle (events/s), against reading the same
   bundle's events.jsonl and hashing every record's stored state (SHA-256);
   with `--million`, also the time to verify a bundle of 1,000,000 events.
2. `store.runner.rebuild()` of the tenant's projections (events/s, each event counted once,
   not once per projection), against a raw paged SELECT of the same rows;
3. `services/audit/replay.state_at` (events/s) against the same raw paged SELECT.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import resource
import sqlite3
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from bench.table import Row, render
from domain.membership import MembershipApplication
from domain.rule_checks import Applicant
from domain.terms import TermsOfReference
from infra.settings import Settings
from infra.stores import events_table, schema_name
from services import tenancy
from services.audit import bundle, replay, verify
from services.demo import create_demo
from services.runtime import Runtime

SLUG = "bench-verify"
ADMIN_KEY = "bench-platform-admin-key-0123456789"
#: Aggregates saved per `Application.save` (one transaction each).
SAVE_BATCH = 200
#: Distinct signatories and representatives: people recur, as they do (keys are per person).
PEOPLE = 200
DEFAULT_EVENTS = 100_000
QUICK_EVENTS = 20_000
MILLION = 1_000_000


# --------------------------------------------------------------------------- the log


def grow(runtime: Runtime, slug: str, events: int) -> int:
    """Add organisations to the alliance until its log holds at least `events` events.
    Each joins by the ToR's route (submitted, circulated, recommended, decided), is
    admitted, names a representative, and is then suspended and reinstated. Returns the
    log's last position."""
    terms = tenancy.rules_in_force(runtime, slug)
    rules = terms.rules
    eligibility, route = rules.membership.eligibility, rules.membership.route
    kind = (eligibility.organisation_kinds or ("charity",))[0]
    region = eligibility.region or "Bench region"
    role = (route.signatory_roles or ("Chief executive",))[0]
    with runtime.tenant(slug) as store:
        assert store.app.repository.get(TermsOfReference.create_id(slug))
        last = store.app.recorder.max_notification_id() or 0
        number = 0
        pending: list[Any] = []
        while last < events:
            number += 1
            person = number % PEOPLE
            application = MembershipApplication.submit(
                terms=terms,
                applicant=Applicant(
                    name=f"Bench organisation {number}",
                    organisation_kind=kind,
                    region=region,
                    signatory_role=role,
                ),
                request_text=f"Bench organisation {number} asks to join and shares the aims.",
                signatory_name=f"Signatory {person}",
                email=None,
                submitted_by="bench",
            )
            if route.circulated_to:
                application.circulate(to_body=route.circulated_to, by="bench", terms=terms)
            if route.recommended_by:
                application.recommend(
                    by_office=route.recommended_by,
                    recommendation="admit",
                    note="Meets the criteria.",
                    by="bench",
                    terms=terms,
                )
            member = application.decide(
                by_body=route.decided_by,
                outcome="admit",
                standing=None,
                reason="Meets the membership criteria.",
                decision_ref=f"Bench decision {number}",
                by="bench",
                terms=terms,
            )
            assert member is not None
            member.add_representative(
                role="Lead representative",
                name=f"Representative {person}",
                email=f"representative{person}@example.org",
                principal=True,
                by="bench",
                terms=terms,
            )
            for round_ in range(2):
                member.suspend(
                    reason="Subscription unpaid.",
                    by_body=route.decided_by,
                    decision_ref=f"Bench suspension {number}.{round_}",
                    by="bench",
                    terms=terms,
                )
                member.reinstate(
                    by_body=route.decided_by,
                    decision_ref=f"Bench reinstatement {number}.{round_}",
                    by="bench",
                    terms=terms,
                )
            pending += [application, member]
            if len(pending) >= SAVE_BATCH:
                last = store.app.save(*pending)[-1].notification.id
                pending = []
        if pending:
            last = store.app.save(*pending)[-1].notification.id
    return last


def build(runtime: Runtime, events: int, slug: str = SLUG) -> int:
    """The demo alliance (through the use cases), grown to `events` events."""
    create_demo(runtime, slug=slug, name="Bench Alliance", template="kinship-care", region="R")
    return grow(runtime, slug, events)


@contextmanager
def sqlite_runtime() -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory(prefix="concord-bench-verify-") as folder:
        runtime = Runtime(Settings(data_dir=str(Path(folder) / "var"), admin_key=ADMIN_KEY))
        try:
            yield runtime
        finally:
            runtime.close()


@contextmanager
def postgres_runtime(server_url: str) -> Iterator[tuple[Runtime, str]]:
    server = psycopg.connect(server_url, autocommit=True)
    name = f"concord_bench_{uuid.uuid4().hex[:8]}"
    server.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory(prefix="concord-bench-verify-") as folder:
            runtime = Runtime(Settings(database_url=url, data_dir=folder, admin_key=ADMIN_KEY))
            try:
                yield runtime, url
            finally:
                runtime.close()
    finally:
        server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        server.close()


# ------------------------------------------------------------------------- baselines


def raw_hash(path: Path) -> tuple[int, float]:
    """Read the bundle's events.jsonl and hash every record's stored state: the least any
    verifier of these bytes must do. Returns (records, seconds)."""
    started = time.perf_counter()
    with zipfile.ZipFile(path) as opened:
        lines = opened.read("events.jsonl").splitlines()
    decode = msgspec.json.Decoder().decode
    for line in lines:
        state = decode(line)["state"]
        if state is not None:
            hashlib.sha256(state.encode()).digest()
    return len(lines), time.perf_counter() - started


def raw_select_sqlite(runtime: Runtime, slug: str) -> tuple[int, float]:
    """The same rows the rebuild reads, by a bare paged SELECT on the store's file."""
    path = runtime.backend.folder(slug) / "events.sqlite"  # type: ignore[attr-defined]
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    try:
        count, after = 0, 0
        while True:
            rows = connection.execute(
                "SELECT rowid, originator_id, originator_version, topic, state"
                " FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT 1000",
                (after,),
            ).fetchall()
            if not rows:
                break
            count += len(rows)
            after = rows[-1][0]
    finally:
        connection.close()
    return count, time.perf_counter() - started


def raw_select_postgres(url: str, slug: str) -> tuple[int, float]:
    table = f'"{schema_name(slug)}"."{events_table(slug)}"'
    started = time.perf_counter()
    with psycopg.connect(url) as connection:
        count, after = 0, 0
        while True:
            rows = connection.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"  # noqa: S608
                f" FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT 1000",
                (after,),
            ).fetchall()
            if not rows:
                break
            count += len(rows)
            after = rows[-1][0]
    return count, time.perf_counter() - started


# --------------------------------------------------------------------------- figures


def timed_verify(path: Path) -> tuple[float, str]:
    """Verify the bundle (it must be intact): wall-clock seconds, and what the CPU time
    went to (this process and the helper process, which a long log gets)."""
    answers: list[Any] = []
    answer = verify._Helper._answer

    def spy(helper: Any) -> Any:
        answers.append(answer(helper))
        return answers[-1]

    verify._Helper._answer = spy  # type: ignore[method-assign,assignment]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        verdict = verify.verify_file(path)
    finally:
        verify._Helper._answer = answer  # type: ignore[method-assign]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    helper = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    assert verdict.intact, verdict.problem
    used = "helper confirmed" if answers and answers[0] and answers[0][0] == "ok" else "one process"
    return seconds, f"CPU {cpu:.1f} s here + {helper:.1f} s helper ({used})"


def verify_rows(runtime: Runtime, slug: str, folder: Path, label: str) -> list[Row]:
    path = folder / "bundle.zip"
    with path.open("wb") as out:
        bundle.export(runtime, slug, out, confidential=False)
    records, raw_seconds = raw_hash(path)
    seconds, cpu = timed_verify(path)
    path.unlink()
    print(
        f"  verify {records:,} records: {seconds:.2f} s ({cpu}); raw read+hash {raw_seconds:.2f} s"
    )
    return [
        Row(
            figure=f"offline verification of a bundle ({label})",
            concord=records / seconds,
            unit="events/s",
            baseline=records / raw_seconds,
            baseline_label="read events.jsonl + SHA-256 of each state",
            target=f"1M events in ≤ 10 s (≥ 100,000 events/s); {seconds:.1f} s here",
            note=f"{records:,} events; {cpu}",
        )
    ]


def million_row(folder: Path) -> Row:
    """Build a log of 1,000,000 events, export it, verify it (the time is the figure)."""
    with sqlite_runtime() as runtime:
        started = time.perf_counter()
        build(runtime, MILLION)
        print(f"  built 1M events in {time.perf_counter() - started:.0f} s")
        path = folder / "million.zip"
        with path.open("wb") as out:
            bundle.export(runtime, SLUG, out, confidential=False)
    records, raw_seconds = raw_hash(path)
    seconds, cpu = timed_verify(path)
    path.unlink()
    print(f"  verify 1M: {seconds:.2f} s wall, {cpu}")
    return Row(
        figure="offline verification of a 1,000,000-event bundle",
        concord=seconds,
        unit="s",
        baseline=raw_seconds,
        baseline_label="read events.jsonl + SHA-256 of each state",
        target="≤ 10 s",
        higher_is_better=False,
        note=f"{records:,} events, wall clock, {cpu} (built once with --million)",
    )


def rebuild_rows(runtime: Runtime, slug: str, raw: tuple[int, float], label: str) -> list[Row]:
    raw_count, raw_seconds = raw
    with runtime.tenant(slug) as store:
        events = store.app.recorder.max_notification_id() or 0
        started = time.perf_counter()
        applied = store.runner.rebuild()
        seconds = time.perf_counter() - started
    assert applied == events * len(store.runner.projections), (applied, events)
    started = time.perf_counter()
    state = replay.state_at(runtime, slug)
    replay_seconds = time.perf_counter() - started
    print(
        f"  rebuild {events:,} events x {len(store.runner.projections)} projections: "
        f"{seconds:.2f} s; state_at: {replay_seconds:.2f} s; raw SELECT {raw_seconds:.2f} s"
    )
    assert state.counts.events == events and raw_count == events
    base = dict(
        unit="events/s",
        baseline=raw_count / raw_seconds,
        baseline_label="raw paged SELECT of the same rows",
    )
    return [
        Row(
            figure=f"rebuild of one tenant's projections ({label})",
            concord=events / seconds,
            target="≥ 20,000 events/s",
            note=f"{events:,} events, each counted once (not once per projection)",
            **base,  # type: ignore[arg-type]
        ),
        Row(
            figure=f"as_of replay, state_at ({label})",
            concord=events / replay_seconds,
            note=f"{events:,} events",
            **base,  # type: ignore[arg-type]
        ),
    ]


def run(
    quick: bool = False,
    *,
    events: int | None = None,
    million: bool = False,
    postgres: str | None = "postgresql://postgres@127.0.0.1:5432/postgres",
) -> list[Row]:
    """Every figure of issue 8 this bench measures, each beside its raw baseline."""
    count = events or (QUICK_EVENTS if quick else DEFAULT_EVENTS)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="concord-bench-verify-") as folder:
        print(f"SQLite: building a log of {count:,} events")
        with sqlite_runtime() as runtime:
            build(runtime, count)
            rows += verify_rows(runtime, SLUG, Path(folder), "SQLite-built")
            raw = raw_select_sqlite(runtime, SLUG)
            rows += rebuild_rows(runtime, SLUG, raw, "SQLite")
        if postgres:
            pg_count = max(QUICK_EVENTS, count // 4)
            print(f"PostgreSQL: building a log of {pg_count:,} events")
            try:
                with postgres_runtime(postgres) as (runtime, url):
                    build(runtime, pg_count)
                    rows += rebuild_rows(
                        runtime, SLUG, raw_select_postgres(url, SLUG), "PostgreSQL"
                    )
            except psycopg.OperationalError as error:
                print(f"  PostgreSQL skipped: {error}")
        if million:
            rows.append(million_row(Path(folder)))
    return rows


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--events", type=int, default=None, help="events in the log")
    parser.add_argument("--million", action="store_true", help="also verify a 1M bundle")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server URL to measure rebuild and replay on too ('' to skip)",
    )
    args = parser.parse_args()
    rows = run(args.quick, events=args.events, million=args.million, postgres=args.postgres)
    print()
    print(render(rows))


if __name__ == "__main__":
    main()
