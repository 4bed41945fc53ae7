"""Concurrent writers, seeded: many threads changing one aggregate at once, and many
alliances written at once.

A real `concord serve` process (SQLite, then PostgreSQL), real HTTP clients on their own
connections started together by a barrier. Each run draws its shape (how many writers,
which writes, in what order) from a seed; a failure names the seed, and
CONCORD_TEST_SEED=<seed> replays that shape.

- One aggregate: every answer is a success or a 409 `concurrent-change`; each version of
  the aggregate was won by exactly one writer (the successes, one event each, versions
  without gaps) and nothing of a refused write is anywhere.
- Many alliances: each alliance's log and read models hold its own writes and nothing of
  another's.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN, bearer
from tests.e2e.test_multiprocess_writes import CONCURRENT_CHANGE, PROBLEM_JSON, serve

#: Seeded iterations per test (each a fresh shape on the same server).
ITERATIONS = 3


def seeds(test: str) -> list[int]:
    """The seeds of this run: CONCORD_TEST_SEED replays one; otherwise fresh ones, printed."""
    if "CONCORD_TEST_SEED" in os.environ:
        return [int(os.environ["CONCORD_TEST_SEED"])]
    chosen = [random.SystemRandom().randrange(2**32) for _ in range(ITERATIONS)]
    print(f"\n{test}: seeds {chosen} (replay one with CONCORD_TEST_SEED=<seed>)")
    return chosen


@dataclass
class Answer:
    marker: str
    status: int
    body: dict[str, Any]


class Alliance:
    """One alliance as its tenant-admin sees it over HTTP."""

    def __init__(self, base: str, slug: str, secret: str) -> None:
        self.base, self.slug, self.secret = base, slug, secret

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base}/v1/tenants/{self.slug}", headers=bearer(self.secret), timeout=60
        )

    def all_events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = 0
        with self.client() as http:
            while True:
                page = http.get("/events", params={"after": after, "limit": 1000}).json()
                found += page["items"]
                if page["next_after"] is None:
                    return found
                after = page["next_after"]


def onboard(base: str, slug: str) -> Alliance:
    created = httpx.post(
        f"{base}/v1/tenants",
        json={"slug": slug, "name": slug.title(), "region": "Kent", "template": "kinship-care"},
        headers=ADMIN,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    return Alliance(base, slug, created.json()["admin_key"]["secret"])


def propose(http: httpx.Client, marker: str) -> Answer:
    """An amendment: every proposal is a new event on the alliance's one ToR aggregate."""
    change = {"number": "1", "text": f"Reworded by {marker}."}
    response = http.post("/terms/amendments", json={"rationale": marker, "clauses": [change]})
    if response.status_code >= 300:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    return Answer(marker, response.status_code, response.json())


def at_once(writers: list[tuple[Alliance, list[str]]]) -> list[Answer]:
    """Each writer on its own connection; all start together, each sends its markers."""
    start = threading.Barrier(len(writers))

    def write(writer: tuple[Alliance, list[str]]) -> list[Answer]:
        alliance, markers = writer
        with alliance.client() as http:
            start.wait(timeout=60)
            return [propose(http, marker) for marker in markers]

    with ThreadPoolExecutor(len(writers)) as pool:
        return [answer for done in pool.map(write, writers) for answer in done]


def proposals(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(
        e["data"]["rationale"] for e in events if e["type"] == "TermsOfReferenceAmendmentProposed"
    )


def test_writers_racing_for_one_aggregate_win_one_version_each(settings, tmp_path):
    with serve(settings, tmp_path, workers=1) as server:
        alliance = onboard(server.base, "one-record")
        for seed in seeds("one aggregate"):
            shape = random.Random(seed)
            threads = shape.randint(8, 20)
            writes = [shape.randint(1, 4) for _ in range(threads)]
            writers = [
                (alliance, [f"s{seed}-t{t}-w{w}" for w in range(writes[t])]) for t in range(threads)
            ]
            before = alliance.all_events()
            answers = at_once(writers)
            after = alliance.all_events()

            why = f"seed {seed} ({threads} writers): replay with CONCORD_TEST_SEED={seed}"
            statuses = dict(Counter(a.status for a in answers))
            print(f"seed {seed}: {threads} writers, answers {statuses}")
            assert {a.status for a in answers} <= {201, 409}, (why, answers)
            for refused in (a for a in answers if a.status == 409):
                assert refused.body["type"] == CONCURRENT_CHANGE, (why, refused.body)
            won = {a.marker for a in answers if a.status == 201}
            assert won, why  # someone always wins
            # Exactly the winners were recorded, once each; every new version of the ToR
            # is one winner's proposal (no version won twice, none lost).
            new = after[len(before) :]
            assert after[: len(before)] == before, why
            assert proposals(new) == Counter(won), why
            terms = {e["aggregate_id"] for e in new}
            assert len(terms) == 1, why
            versions = [e["version"] for e in new]
            first = versions[0]
            assert versions == list(range(first, first + len(won))), why
        log = server.log.read_text(errors="replace")
    assert " 500 " not in log and "Traceback" not in log, log


def test_many_alliances_written_at_once_keep_to_their_own(settings, tmp_path):
    with serve(settings, tmp_path, workers=1) as server:
        alliances = [onboard(server.base, f"wall-{n}") for n in range(5)]
        for seed in seeds("many alliances"):
            shape = random.Random(seed)
            writers = [
                (alliance, [f"s{seed}-{alliance.slug}-t{t}-w{w}" for w in range(3)])
                for alliance in alliances
                for t in range(shape.randint(1, 4))
            ]
            shape.shuffle(writers)
            answers = at_once(writers)

            why = f"seed {seed}: replay with CONCORD_TEST_SEED={seed}"
            assert {a.status for a in answers} <= {201, 409}, (why, answers)
            for alliance in alliances:
                recorded = proposals(alliance.all_events())
                mine = {
                    a.marker
                    for a in answers
                    if a.status == 201 and f"-{alliance.slug}-" in a.marker
                }
                ours = {m for m in recorded if m.startswith(f"s{seed}-")}
                assert ours == mine, (why, alliance.slug)
                assert all(recorded[m] == 1 for m in ours), (why, alliance.slug)
                with alliance.client() as http:
                    listed = http.get("/terms/amendments", params={"limit": 200}).json()
                strangers = [
                    a["rationale"]
                    for a in listed["items"]
                    if a["rationale"].startswith(f"s{seed}-")
                    and f"-{alliance.slug}-" not in a["rationale"]
                ]
                assert not strangers, (why, alliance.slug, strangers)
        log = server.log.read_text(errors="replace")
    assert " 500 " not in log and "Traceback" not in log, log
