"""Secret ballots cannot be tied to their voters by anything Concord keeps, on both stores.

A children-in-care alliance of nine member organisations elects its co-chairs by secret
ballot, through the HTTP API, five times over (the co-chairs' two-year terms run out in
between). In every election each organisation casts a ballot no other casts (one blank,
the others a different choice of candidates each), in a random order, so that any link
from a ballot to its voter would show. Afterwards everything stored is gathered: every
event of the alliance's store (decoded and as the raw stored bytes), every row of every
table of the alliance's and the platform's stores (the `sealing_keys` table included),
every log record (every logger at DEBUG; what the app prints to stderr is these records,
formatted), every span and trace, and every answer the API gave to every role. Then each
attack below must fail:

1. a record holding both an organisation's identity (member id, key id or name) and its
   ballot;
2. the order of the counted ballots matched against the order of the turnout, or of the
   organisations;
3. a time, id or position carried by a counted ballot;
4. a key found anywhere that opens a sealed ballot once the count is done (and every
   sealed ballot the same length);
5. ballot content in logs, spans or answers beyond the counts;
6. a running tally in any answer while voting is open.

And the store's own bytes (SQLite's files, PostgreSQL's pages) must keep no key that
was destroyed at the count. The projections run in a real `concord worker` on Redis, so
every message the API sent (the exact bytes) and everything the worker logged join the
search.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.testing import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import sql as pgsql

from domain.elections import Election as DomainElection
from domain.elections import lot_seed
from infra.settings import Settings
from infra.stores import PLATFORM
from infra.telemetry import Telemetry
from services.api.app import create_app
from tests.brokers import (
    REDIS_URL,
    Worker,
    flush_redis,
    new_namespace,
    no_worker_left_behind,
    unavailable,
)
from tests.conftest import ADMIN, ADMIN_KEY, IN_CI, _postgres_problem, _server_url, bearer
from tests.e2e.test_membership_year import Alliance
from tests.raw_store import store_pages, store_rows

START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
SLUG = "cica"
TEMPLATE = "children-in-care"
#: Unique words, so that no name is part of another.
ORGANISATIONS = (
    "Become Charity",
    "Coram Voice",
    "Fostering Network",
    "Article Thirtynine",
    "Voices From Care",
    "Catch22 Leavers",
    "Drive Forward",
    "Rees Centre",
    "Kinship Hub",
)
#: The ballots of one election, as indices of its six candidates; each organisation casts
#: a different one. Candidate 0 gets 5 of 9 (elected alone), 1 gets 3, 2 and 3 get 2, 4
#: and 5 get 1. No ballot is a lone [0], so no ballot reads like a list the result holds
#: (`elected` is [0]; no level group is split, so there is no lot): finding a ballot's
#: text in a record means the ballot itself is there.
PATTERNS: tuple[tuple[int, ...], ...] = (
    (),
    (1,),
    (2,),
    (0, 1),
    (0, 2),
    (0, 3),
    (0, 4),
    (0, 5),
    (1, 3),
)
ELECTIONS = 5
#: The co-chairs' term is 24 months: each election starts after the last one's term ends.
BETWEEN = timedelta(days=800)
#: Runs of hex digits long enough to hold a 256-bit key (stored bytes run one value into
#: the next, so every 64-digit window of a run is tried).
HEX_RUN = re.compile(r"[0-9A-Fa-f]{64,}")
B64_KEY = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=")
AAD = b"concord/ballot/v1:"


# ---------------------------------------------------------------------------- what is kept


@dataclass(frozen=True)
class Voter:
    name: str
    member_id: str
    key_id: str
    headers: dict[str, str]

    @property
    def identities(self) -> tuple[str, ...]:
        """Everything that names this organisation: its id, its key's id, its name."""
        return (self.member_id, self.key_id, self.name)


@dataclass
class Election:
    election_id: str
    #: Candidate index (as in PATTERNS) -> candidate id.
    candidates: list[str]
    #: Member id -> the choices it sent, in its order.
    ballots: dict[str, list[str]] = field(default_factory=dict)
    #: Member ids in the order they voted.
    cast_order: list[str] = field(default_factory=list)

    def texts(self, member_id: str) -> set[str]:
        """Every way a store, log or answer could write this organisation's ballot. A
        blank ballot has none: "[]" is written everywhere for other reasons."""
        return ballot_texts(self.ballots[member_id])


def ballot_texts(choices: list[str]) -> set[str]:
    if not choices:
        return set()
    texts = set()
    for order in (choices, choices[::-1], sorted(choices)):
        texts |= {
            json.dumps(order),
            json.dumps(order, separators=(",", ":")),
            repr(order),
            repr(tuple(order)),
            "{" + ",".join(order) + "}",  # a PostgreSQL array
        }
    return texts


@dataclass(frozen=True)
class Found:
    """One thing kept, as text: where it is, and what it says."""

    where: str
    text: str


class Recording(Alliance):
    """The alliance driven through the API, keeping every answer the API gave."""

    def __init__(self, client: Any, secret: str) -> None:
        super().__init__(client, TEMPLATE, secret, slug=SLUG)
        self.answers: list[Found] = []

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = super().call(method, path, body, **kwargs)
        self.answers.append(Found(f"answer to {method} {path}", response.text))
        return response

    def read(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        return self.call("GET", path, headers=headers, params=params or None)


@dataclass
class Record:
    alliance: Recording
    voters: list[Voter]
    elections: list[Election]
    #: Role -> headers of a key of the alliance with that role (and the platform admin).
    keys: dict[str, dict[str, str]]
    #: The last election once every ballot was cast, before the count: the rows of every
    #: table of the store, and the API's answers (role, path, status, body).
    rows_while_voting: list[Found]
    answers_while_voting: list[tuple[str, str, int, Any]]
    #: What every role read of the elections and the event log once all were counted.
    answers_after: list[tuple[str, str, int, Any]]
    logs: list[Found]
    spans: list[Found]
    traces: list[Found]
    #: Every message the API sent to the broker (encoded, as sent), and the worker's output.
    messages: list[Found]

    def voter(self, member_id: str) -> Voter:
        return next(v for v in self.voters if v.member_id == member_id)


__all__ = ["no_worker_left_behind"]  # a fixture: no worker outlives a failed setup

# ---------------------------------------------------------------------------- the elections


class KeptLogs(logging.Handler):
    """Every log record of every logger, at DEBUG, including those that do not propagate."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed: list[tuple[logging.Logger, int, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> KeptLogs:
        loggers = [logging.getLogger()] + [
            logger
            for logger in list(logging.root.manager.loggerDict.values())
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            attach = logger is logging.root or not logger.propagate
            self._changed.append((logger, logger.level, attach))
            logger.setLevel(logging.DEBUG)
            if attach:
                logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for logger, level, attached in self._changed:
            logger.setLevel(level)
            if attached:
                logger.removeHandler(self)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped after it (as tests/conftest.py
    does for one test): skipped outside CI when PostgreSQL is unreachable, failed in CI."""
    problem = _postgres_problem()
    if problem is not None:
        message = f"PostgreSQL not reachable at {_server_url()} ({problem})"
        if IN_CI:
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    server = _server_url()
    name = f"concord_ballots_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which store the module runs on (one set of elections per store: every test here
    only reads what they left)."""
    return str(request.param)


@pytest.fixture(scope="module")
def settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {REDIS_URL}", type(error).__name__)
    namespace = new_namespace()
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database()) if backend == "postgres" else None
        yield Settings(
            database_url=database_url,
            data_dir=str(tmp_path_factory.mktemp(f"ballots-{backend}") / "var"),
            admin_key=ADMIN_KEY,
            tenant_cache_size=8,
            db_pool_size=4,
            broker_url=REDIS_URL,
            broker_namespace=namespace,
            sweep_interval=1.0,
        )
    flush_redis(REDIS_URL, namespace)


def on(moment: datetime, days: int) -> str:
    return (moment + timedelta(days=days)).isoformat()


def join(alliance: Recording, name: str) -> str:
    """Admit an organisation on the children-in-care route: recommended by the co-chairs,
    decided by the full membership."""
    application_id = alliance.apply(name)
    alliance.take_step(application_id, "recommend", "co-chair")
    return str(alliance.take_step(application_id, "decide", "full-membership")["member_id"])


def issue(alliance: Recording, role: str, member_id: str | None = None) -> tuple[str, str]:
    body = {"role": role, "label": f"{role} key"}
    if member_id is not None:
        body["member_id"] = member_id
    issued = alliance.post("/keys", body, status=201)
    return str(issued["id"]), str(issued["secret"])


def run_election(
    alliance: Recording, voters: list[Voter], opened_at: datetime, rng: random.Random
) -> Election:
    """One co-chair election up to the last ballot: six candidates from six organisations,
    then every organisation votes, in a random order, a ballot of its own."""
    alliance.move_clock_to(opened_at)
    opened = alliance.post(
        "/elections",
        {
            "office": "co-chair",
            "nominations_close": on(opened_at, 7),
            "voting_opens": on(opened_at, 7),
            "voting_closes": on(opened_at, 14),
        },
        status=201,
    )
    assert opened["secret_ballot"] is True and opened["seats"] == 2, opened
    election_id = opened["election_id"]
    for number, voter in enumerate(rng.sample(voters, 6)):
        nominated = alliance.post(
            f"/elections/{election_id}/nominations",
            {
                "member_id": voter.member_id,
                "person_name": f"Candidate {number} of {voter.name}",
                "statement": "I will listen to care leavers and speak with them.",
            },
            status=201,
        )
    election = Election(election_id, [c["candidate_id"] for c in nominated["candidates"]])
    assert len(election.candidates) == 6
    alliance.move_clock_to(opened_at + timedelta(days=8))
    alliance.post(f"/elections/{election_id}/voting")

    patterns = rng.sample(PATTERNS, len(PATTERNS))
    for voter, pattern in zip(voters, patterns, strict=True):
        election.ballots[voter.member_id] = [election.candidates[i] for i in pattern]
    election.cast_order = [v.member_id for v in rng.sample(voters, len(voters))]
    for member_id in election.cast_order:
        response = alliance.call(
            "POST",
            f"/elections/{election_id}/ballots",
            {"choices": election.ballots[member_id]},
            headers=next(v for v in voters if v.member_id == member_id).headers,
        )
        assert response.status_code == 202, response.text
    return election


def read_as_everyone(
    alliance: Recording, keys: dict[str, dict[str, str]], election_ids: list[str]
) -> list[tuple[str, str, int, Any]]:
    """What every key of the alliance, and the platform admin, reads of the elections:
    the list, each election, each recount and the whole event log where its role may."""
    seen = []
    for role, headers in keys.items():
        paths = ["/elections", *(f"/elections/{e}" for e in election_ids)]
        paths += [f"/elections/{e}/recount" for e in election_ids]
        for path in paths:
            response = alliance.read(path, headers)
            seen.append((role, path, response.status_code, response.json()))
        after = 0
        while True:
            response = alliance.read("/events", headers, after=after, limit=200)
            seen.append((role, f"/events?after={after}", response.status_code, response.json()))
            if response.status_code != 200 or response.json()["next_after"] is None:
                break
            after = response.json()["next_after"]
    return seen


@pytest.fixture(scope="module")
def record(settings: Settings, backend: str) -> Iterator[Record]:
    """Five secret co-chair elections of nine organisations, and everything kept after."""
    spans = InMemorySpanExporter()
    worker = Worker(settings, Path(settings.data_dir).parent / "worker.log").start()
    sent: list[bytes] = []
    with (
        TestClient(
            create_app(settings, telemetry=Telemetry("none", span_exporter=spans))
        ) as client,
        KeptLogs() as logs,
    ):
        client.app.state.runtime.clock = lambda: START
        broker = client.app.state.runtime.waker.broker
        send = broker.enqueue

        def enqueue(message: Any, *, delay: int | None = None) -> Any:
            sent.append(message.encode())  # the bytes that go to Redis
            return send(message, delay=delay)

        broker.enqueue = enqueue
        onboarded = client.post(
            "/v1/tenants",
            json={
                "slug": SLUG,
                "name": "Children in Care Alliance",
                "region": "England",
                "template": TEMPLATE,
            },
            headers=ADMIN,
        )
        assert onboarded.status_code == 201, onboarded.text
        alliance = Recording(client, onboarded.json()["admin_key"]["secret"])
        voters = []
        for name in ORGANISATIONS:
            member_id = join(alliance, name)
            key_id, member_secret = issue(alliance, "member", member_id)
            voters.append(Voter(name, member_id, key_id, bearer(member_secret)))
        keys = {"tenant-admin": alliance.headers, "platform-admin": ADMIN}
        for role in ("officer", "auditor"):
            keys[role] = bearer(issue(alliance, role)[1])
        keys["member"] = voters[0].headers

        rng = random.Random(20300115)  # it only orders the voters and deals their ballots
        elections: list[Election] = []
        for number in range(ELECTIONS):
            elections.append(run_election(alliance, voters, START + number * BETWEEN, rng))
            if number == ELECTIONS - 1:
                rows_while_voting = table_rows(alliance, settings, backend, SLUG)
                answers_while_voting = read_as_everyone(alliance, keys, [elections[-1].election_id])
            closed = alliance.post(f"/elections/{elections[-1].election_id}/close")
            assert closed["status"] == "closed", closed
        answers_after = read_as_everyone(alliance, keys, [e.election_id for e in elections])

        worker.stop()
        by_trace: dict[int, list[str]] = defaultdict(list)
        for span in spans.get_finished_spans():
            by_trace[span.context.trace_id].append(span.to_json())
        yield Record(
            alliance=alliance,
            voters=voters,
            elections=elections,
            keys=keys,
            rows_while_voting=rows_while_voting,
            answers_while_voting=answers_while_voting,
            answers_after=answers_after,
            logs=[Found(f"log {r.name}", f"{r.getMessage()} {r.__dict__}") for r in logs.records],
            spans=[Found(f"span {s.name}", s.to_json()) for s in spans.get_finished_spans()],
            traces=[Found(f"trace {t:032x}", "\n".join(s)) for t, s in by_trace.items()],
            messages=[Found(f"message {n}", m.decode()) for n, m in enumerate(sent)]
            + [Found("worker output", worker.output())],
        )


# ---------------------------------------------------------------------------- gathering


def stored_events(alliance: Recording) -> list[tuple[Any, Any]]:
    """Every event of the alliance's store: (the stored record, the decoded event)."""
    runtime = alliance.client.app.state.runtime
    with runtime.tenant(SLUG) as store:
        app = store.app
        notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
        return [(n, app.mapper.to_domain_event(n)) for n in notifications]


def event_data(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k != "originator_topic"}


def of_type(events: list[tuple[Any, Any]], name: str) -> list[tuple[Any, Any]]:
    return [(n, e) for n, e in events if n.topic.endswith(":" + name)]


def sealed_ballots(events: list[tuple[Any, Any]], election_id: str) -> list[str]:
    """The ciphertexts in an election's ballot box, as its events hold them."""
    box = DomainElection.box_id(election_id)
    return [e.sealed for n, e in of_type(events, "BallotBox.Sealed") if n.originator_id == box]


def table_rows(alliance: Recording, settings: Any, backend: str, store: str) -> list[Found]:
    """Every row of every table of a store (events, views, tracking, sealing keys)."""
    runtime = alliance.client.app.state.runtime
    return [Found(where, row) for where, row in store_rows(runtime, settings.database_url, store)]


def stored_bytes(alliance: Recording, settings: Any, backend: str) -> list[Found]:
    """The alliance's store as bytes (tests/raw_store.py: files, or every PostgreSQL page)."""
    runtime = alliance.client.app.state.runtime
    return [
        Found(where, data.decode("latin-1"))
        for where, data in store_pages(runtime, settings.database_url, SLUG)
    ]


def answers(found: Iterable[tuple[str, str, int, Any]]) -> list[Found]:
    """API answers as records: a page of a list or of the event log is one record per
    item (a page holds many unrelated events, as a table holds many rows)."""
    records = []
    for role, path, status, body in found:
        where = f"answer to {role}: GET {path} -> {status}"
        rest = body
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            records += [Found(where, json.dumps(item)) for item in body["items"]]
            rest = {k: v for k, v in body.items() if k != "items"}
        records.append(Found(where, json.dumps(rest)))
    return records


def everything(record: Record, settings: Any, backend: str) -> list[Found]:
    """Everything kept after the elections, one record at a time: each event (decoded,
    and as stored), each row of each table of the alliance's and the platform's stores,
    each log record, span and trace, and each answer the API gave (the event log's
    pages split into their events)."""
    found = []
    for notification, event in stored_events(record.alliance):
        where = f"event {notification.id} {notification.topic}"
        found.append(Found(where + " as stored", repr(notification.state)))
        found.append(Found(where, json.dumps(event_data(event), default=str)))
    found += table_rows(record.alliance, settings, backend, SLUG)
    found += table_rows(record.alliance, settings, backend, PLATFORM)
    found += record.logs + record.spans + record.traces + record.messages
    found += [a for a in record.alliance.answers if "/events" not in a.where]
    found += answers(record.answers_while_voting) + answers(record.answers_after)
    return found


def links(records: Iterable[Found], record: Record) -> list[str]:
    """Each record that names an organisation together with its own ballot."""
    texts = {t for e in record.elections for m in e.ballots for t in e.texts(m)}
    any_ballot = re.compile("|".join(map(re.escape, sorted(texts))))
    found = []
    for kept in records:
        if not any_ballot.search(kept.text):
            continue
        for election in record.elections:
            for member_id in election.ballots:
                voter = record.voter(member_id)
                names = [i for i in voter.identities if i in kept.text]
                ballots = [b for b in election.texts(member_id) if b in kept.text]
                if names and ballots:
                    found.append(f"{kept.where}: {names[0]} with its ballot {ballots[0]}")
    return found


def keys_in(records: Iterable[Found]) -> set[bytes]:
    """Every 32-byte value written anywhere: as 64 hex digits, or in base64."""
    keys = set()
    for kept in records:
        for run in HEX_RUN.findall(kept.text):
            keys |= {bytes.fromhex(run[i : i + 64]) for i in range(len(run) - 63)}
        for text in B64_KEY.findall(kept.text):
            keys.add(base64.b64decode(text))
    return keys


def opened(sealed: str, election_id: str, keys: Iterable[bytes]) -> list[str] | None:
    """The ballot inside a sealed one, if one of the keys opens it."""
    raw = base64.b64decode(sealed)
    for key in keys:
        try:
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], AAD + election_id.encode())
        except InvalidTag:
            continue
        return list(json.loads(plain.rstrip(b" ")))
    return None


def recovered(events: list[tuple[Any, Any]], record: Record, keys: set[bytes]) -> list[str]:
    """The sealed-ballot attack: open each sealed ballot with any key found, and name its
    voter by the turnout event saved with it (each BallotBox.Sealed is saved in the same
    transaction as its organisation's BallotCast, right after it). Returns each ballot so
    tied to its voter that is the ballot that organisation cast."""
    at = {n.id: (n, e) for n, e in events}
    found = []
    for election in record.elections:
        box = DomainElection.box_id(election.election_id)
        sealed = [(n, e) for n, e in of_type(events, "BallotBox.Sealed") if n.originator_id == box]
        assert len(sealed) == len(PATTERNS)
        # Only a key that opens one of the election's ballots can open the others.
        opening = [k for k in keys if opened(sealed[0][1].sealed, election.election_id, [k])]
        for notification, event in sealed:
            ballot = opened(event.sealed, election.election_id, opening)
            turnout, cast = at[notification.id - 1]
            assert turnout.topic.endswith(":Election.BallotCast")
            if ballot is not None and sorted(ballot) == sorted(election.ballots[cast.member_id]):
                found.append(f"{record.voter(cast.member_id).name} voted {ballot}")
    return found


def cast_in_order(events: list[tuple[Any, Any]], election_id: str) -> list[str]:
    """The turnout as the log records it: member ids, in the order they voted."""
    return [
        e.member_id
        for n, e in of_type(events, "Election.BallotCast")
        if str(n.originator_id) == election_id
    ]


def counted(events: list[tuple[Any, Any]], election_id: str) -> Any:
    [(_, closed)] = [
        (n, e) for n, e in of_type(events, "Election.Closed") if str(n.originator_id) == election_id
    ]
    return closed


def true_counts(election: Election) -> dict[str, int]:
    counts = dict.fromkeys(election.candidates, 0)
    for choices in election.ballots.values():
        for choice in choices:
            counts[choice] += 1
    return counts


# ---------------------------------------------------------------------------- the attacks


def test_no_record_names_an_organisation_beside_its_ballot(record, settings, backend):
    kept = everything(record, settings, backend)
    events = stored_events(record.alliance)

    assert links(kept, record) == []
    # The search sees both halves: every organisation is named in the turnout, and every
    # ballot but the blank one is written, unlinked, in its election's count.
    text = "\n".join(k.text for k in kept)
    for election in record.elections:
        closed = json.dumps(event_data(counted(events, election.election_id)), default=str)
        for member_id in election.ballots:
            assert record.voter(member_id).member_id in text
            texts = election.texts(member_id)
            assert not texts or any(t in closed for t in texts), member_id
    assert sum(1 for b in record.elections[0].ballots.values() if not b) == 1
    # ... and would find a link where one is written.
    bad = record.elections[0]
    member_id = next(m for m, b in bad.ballots.items() if b)
    leak = Found("a leak", json.dumps({"member_id": member_id, "choices": bad.ballots[member_id]}))
    assert len(links([leak], record)) == 1


def test_the_order_of_the_counted_ballots_says_nothing_of_who_cast_them(record):
    """Each election's counted ballots, position by position, against three orders an
    attacker knows: the turnout as recorded, the same reversed, and the electorate (the
    member ids sorted, as VotingOpened lists them). A shuffle matches about one position
    per election by chance (the fixed points of a random permutation: mean 1, and the
    sum over independent elections has factorial moments at most those of Poisson(5)),
    so P(at least 25 of 45 positions match) <= e^(25-5) (5/25)^25 < 2e-9, by the Chernoff
    bound; for the three orders on both stores, below 1.2e-8. An order kept from the
    turnout, or the electorate, matches all 45."""
    events = stored_events(record.alliance)
    matches: dict[str, int] = defaultdict(int)
    for election in record.elections:
        turnout = cast_in_order(events, election.election_id)
        assert turnout == election.cast_order  # what the attacker knows, from the record
        ballots = counted(events, election.election_id).ballots
        assert len(ballots) == len(turnout) == len(PATTERNS)
        for name, order in (
            ("turnout", turnout),
            ("turnout reversed", turnout[::-1]),
            ("electorate", sorted(turnout)),
        ):
            for member_id, ballot in zip(order, ballots, strict=True):
                matches[name] += sorted(ballot) == sorted(election.ballots[member_id])

    assert set(matches) == {"turnout", "turnout reversed", "electorate"}
    assert max(matches.values()) < 25, dict(matches)


def test_a_counted_ballot_carries_its_choices_and_nothing_else(record, settings, backend):
    events = stored_events(record.alliance)
    for election in record.elections:
        closed = counted(events, election.election_id)
        for ballot in closed.ballots:
            assert isinstance(ballot, list)
            assert all(isinstance(c, str) and c in election.candidates for c in ballot), ballot
        assert sorted(map(sorted, closed.ballots)) == sorted(map(sorted, election.ballots.values()))
        # Nothing else on the count has one entry per ballot, or names a voter.
        others = {k: v for k, v in event_data(closed).items() if k != "ballots"}
        per_ballot = [
            k for k, v in others.items() if isinstance(v, list | dict) and len(v) == len(PATTERNS)
        ]
        assert per_ballot == []
        named = [v.name for v in record.voters if any(i in repr(others) for i in v.identities)]
        assert named == []
        # The lot's seed, and so the whole count, does not depend on the batch's order.
        assert closed.seed == lot_seed(election.election_id, closed.ballots[::-1], closed.lot_nonce)
        assert closed.counts == true_counts(election)
        assert closed.elected == [election.candidates[0]] and closed.lot == []
    # The turnout and the sealed ballots carry nothing that points from one to the other.
    for _, event in of_type(events, "Election.BallotCast"):
        assert set(event_data(event)) == {
            "member_id",
            "by",
            "originator_id",
            "originator_version",
            "timestamp",
        }
    for _, event in of_type(events, "BallotBox.Sealed"):
        assert set(event_data(event)) == {
            "sealed",
            "originator_id",
            "originator_version",
            "timestamp",
        }
    # The read side keeps who voted, never what: no per-ballot rows.
    turnout = [
        r for r in table_rows(record.alliance, settings, backend, SLUG) if "turnout" in r.where
    ]
    assert len(turnout) == ELECTIONS * len(PATTERNS)
    assert all(r.text.endswith("None)") for r in turnout), turnout[0]


def test_no_key_kept_anywhere_opens_a_sealed_ballot_after_the_count(record, settings, backend):
    events = stored_events(record.alliance)
    keys = keys_in(everything(record, settings, backend))
    sealed = [e.sealed for _, e in of_type(events, "BallotBox.Sealed")]
    rows = table_rows(record.alliance, settings, backend, SLUG)

    assert len(sealed) == ELECTIONS * len(PATTERNS)
    assert len({len(s) for s in sealed}) == 1, "every sealed ballot is the same length"
    assert len(keys) > ELECTIONS, "the search finds 32-byte values (seeds, digests)"
    assert recovered(events, record, keys) == []
    assert [r for r in rows if "sealing_keys" in r.where] == []
    # While the last election was voting, the same search found its key in its table,
    # and with it named every voter of that election: the attack works where a key is kept.
    kept_then = keys_in(r for r in record.rows_while_voting if "sealing_keys" in r.where)
    assert len(recovered(events, record, kept_then)) == len(PATTERNS)


def test_no_destroyed_key_is_left_in_the_store_files(record, settings, backend):
    events = stored_events(record.alliance)
    keys = keys_in(stored_bytes(record.alliance, settings, backend))

    assert recovered(events, record, keys) == []


def test_logs_spans_and_answers_carry_no_ballot_beyond_the_counts(record):
    candidates = [c for e in record.elections for c in e.candidates]
    said = record.logs + record.spans + record.messages
    assert any("/ballots" in s.text for s in record.logs), "the ballots were logged"
    assert any(s.where == "span command.cast_ballot" for s in record.spans)

    assert [s.where for s in said if any(c in s.text for c in candidates)] == []
    # Answers: a voter's answer is the same whatever it voted (but for the turnout) ...
    for election in record.elections:
        casts = [
            json.loads(a.text)
            for a in record.alliance.answers
            if a.where == f"answer to POST /elections/{election.election_id}/ballots"
        ]
        assert len(casts) == len(PATTERNS)
        for answer in casts:
            assert answer["result"] is None
            assert {c["votes"] for c in answer["candidates"]} == {None}
            del answer["turnout"], answer["voted"]
        assert all(answer == casts[0] for answer in casts)
    # ... and once counted, the API gives the counts, never a ballot. (The event log is
    # the record itself: it shows the shuffled batch of the count, which the first test
    # searches event by event.)
    shown = [a for a in record.alliance.answers if "/events" not in a.where]
    for election in record.elections:
        texts = set().union(*(election.texts(m) for m in election.ballots))
        assert [a.where for a in shown if any(t in a.text for t in texts)] == []
        final = record.alliance.get(f"/elections/{election.election_id}")
        assert final["result"]["counts"] == true_counts(election)
        assert final["result"]["ballots"] == len(PATTERNS) and final["result"]["blank"] == 1
        assert {c["candidate_id"]: c["votes"] for c in final["candidates"]} == true_counts(election)


def test_while_voting_no_answer_shows_a_running_tally(record):
    last = record.elections[-1]
    for role, path, status, body in record.answers_while_voting:
        if path == "/elections" or (path.startswith("/elections/") and "recount" not in path):
            assert status == 200, (role, path)
            items = body["items"] if path == "/elections" else [body]
            current = [i for i in items if i["election_id"] == last.election_id]
            assert len(current) == 1 and current[0]["status"] == "voting", (role, path)
            assert current[0]["turnout"] == len(PATTERNS)
            assert current[0]["result"] is None, (role, path)
            for candidate in current[0].get("candidates", []):
                assert candidate["votes"] is None and candidate["elected"] is None
            assert current[0].get("open_votes") is None
        elif "recount" in path:
            expected = 422 if role in ("tenant-admin", "auditor") else 403
            assert status == expected, (role, path, body)
            assert "counts" not in json.dumps(body)
    # The event log, for those who read it: after voting opened, nothing names a candidate.
    for role in ("tenant-admin", "auditor"):
        log = [
            item
            for r, path, status, body in record.answers_while_voting
            if r == role and path.startswith("/events") and status == 200
            for item in body["items"]
        ]
        [opening] = [
            i["position"]
            for i in log
            if i["type"] == "ElectionVotingOpened" and i["aggregate_id"] == last.election_id
        ]
        later = [i for i in log if i["position"] > opening]
        assert sorted({i["type"] for i in later}) == ["BallotBoxSealed", "ElectionBallotCast"]
        assert len(later) == 2 * len(PATTERNS)
        text = json.dumps(later)
        assert [c for c in last.candidates if c in text] == []
        assert "counts" not in text
    readers = {
        r
        for r, path, status, _ in record.answers_while_voting
        if path.startswith("/events") and status == 200
    }
    assert readers == {"tenant-admin", "auditor"}


def test_the_broker_is_searched_and_carries_ids_and_positions_only(record):
    """The projections ran in the worker, woken by messages naming the store, its
    projections and a position; the alliance's governance refreshes name the alliance
    only: no member, key, ballot or candidate in any of them."""
    messages = [m for m in record.messages if m.where.startswith("message")]
    assert len(messages) > 100  # every write of the five elections woke the worker
    actors = set()
    for found in messages:
        body = json.loads(found.text)
        actors.add(body["actor_name"])
        if body["actor_name"] == "concord_refresh_governance":
            assert body["args"] == [SLUG]
        else:
            assert body["actor_name"] == "concord_catch_up"
            store, projections, position = body["args"]
            assert store in (SLUG, PLATFORM) and isinstance(position, int)
            assert all(re.fullmatch(r"[a-z_]+", name) for name in projections)
        assert set(body["options"]) <= {"otel", "redis_message_id"}
    assert actors == {"concord_catch_up", "concord_refresh_governance"}
    worker = next(m for m in record.messages if m.where == "worker output")
    assert "concord worker ready" in worker.text
    assert all(
        v.member_id not in m.text and v.name not in m.text
        for v in record.voters
        for m in record.messages
    )
