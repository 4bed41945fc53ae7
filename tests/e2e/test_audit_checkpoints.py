"""Signed checkpoints of an alliance's log through the API, on both stores: issued on
demand and at each milestone (minutes approved, an election closed, a ToR version
adopted), listed a page at a time, signed by the platform's published key; inclusion
proofs for every record and consistency proofs between every two checkpoints that check
with RFC 9162's algorithms; checkpoint webhooks delivered in order to a real receiver
(retried once it recovers, stopped when removed); the operator's checkpoint folder; the
schedule. Every bad request is a problem naming what is wrong.

Deliveries and the schedule run on threads of the server: the tests wait for what they
expect (up to WAIT seconds), never for a fixed time.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from litestar.testing import TestClient

from infra.settings import Settings, SettingsError
from services.api.app import create_app
from services.audit import checkpoints, merkle, signing
from services.audit.signing import Checkpoint
from tests.conftest import ADMIN, bearer
from tests.e2e.test_decisions_api import (
    FM,
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    Chamber,
    expect,
    found_children_in_care,
    on,
)
from tests.e2e.test_elections_api import nominate, open_election, voted
from tests.e2e.test_membership_api import events, issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem

WAIT = 10.0
CIC = "children-in-care"
T = TypeVar("T")


# ------------------------------------------------------------------------------ helpers


def eventually(condition: Callable[[], T], what: str) -> T:
    """The condition's first true value, polled until WAIT seconds have passed."""
    deadline = time.monotonic() + WAIT
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {WAIT} s: {what}")
        time.sleep(0.02)


def deliveries_settled(slug: str) -> bool:
    """No webhook delivery run of this alliance is under way."""
    name = f"checkpoint-webhooks-{slug}"
    return not any(t.name == name and t.is_alive() for t in threading.enumerate())


def decoded(body: bytes | str) -> Checkpoint:
    return signing.decode(body)


def issue(alliance: Alliance, headers: dict[str, str] | None = None) -> Checkpoint:
    response = alliance.call("POST", "/audit/checkpoints", headers=headers)
    assert response.status_code == 201, response.text
    return decoded(response.content)


def listed(alliance: Alliance, **params: Any) -> list[Checkpoint]:
    """Every checkpoint, followed page by page."""
    found: list[Checkpoint] = []
    after = -1
    while True:
        page = alliance.get("/audit/checkpoints", after=after, **params)
        found += [msgspec.convert(c, Checkpoint, strict=False) for c in page["items"]]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def grow(alliance: Alliance, name: str) -> None:
    """One more event in the log (an application), which is no milestone."""
    alliance.apply(name)


def positions(alliance: Alliance) -> list[int]:
    return [e["position"] for e in events(alliance)]


def position_of(alliance: Alliance, event_type: str) -> int:
    [found] = [e["position"] for e in events(alliance) if e["type"] == event_type]
    return int(found)


def stored_leaves(alliance: Alliance) -> dict[int, bytes]:
    """Each record's leaf hash, computed here from its stored bytes."""
    with alliance.client.app.state.runtime.tenant(alliance.slug) as store:
        records = store.app.recorder.select_notifications(start=1, limit=10_000)
    return {
        r.id: merkle.record_leaf(r.id, r.originator_id, r.originator_version, r.topic, r.state)
        for r in records
    }


def proves_inclusion(proof: dict[str, Any], root_hash: str) -> bool:
    return proof["root_hash"] == root_hash and merkle.verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(root_hash),
    )


def webhooks(alliance: Alliance) -> list[dict[str, Any]]:
    return list(alliance.get("/audit/webhooks"))


def add_webhook(alliance: Alliance, url: str) -> dict[str, Any]:
    return dict(alliance.post("/audit/webhooks", {"url": url}, status=201))


@pytest.fixture
def cic(client, onboard) -> Chamber:
    """A children-in-care alliance founded at START with four member organisations."""
    return found_children_in_care(client, onboard)


@pytest.fixture
def fresh(client, onboard) -> Alliance:
    """A children-in-care alliance just founded (its log: the founding and its ToR)."""
    secret = onboard("fresh", template=CIC)["admin_key"]["secret"]
    return Alliance(client, CIC, secret, slug="fresh")


# ----------------------------------------------------------------------------- receiver


@dataclass(frozen=True)
class Delivery:
    path: str
    answered: int
    #: By lower-case name.
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An auditor's webhook receiver on 127.0.0.1: records every POST and answers with
    `status` (which a test may change)."""

    def __init__(self) -> None:
        self.status = 200
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    answer = receiver.status
                    receiver.deliveries.append(
                        Delivery(
                            self.path, answer, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet: the test reads what was received instead."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def received(self, path: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.path == path]

    def accepted(self, path: str) -> list[int]:
        """The tree sizes of the checkpoints this path acknowledged, in order received."""
        return [decoded(d.body).tree_size for d in self.received(path) if d.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    started.thread.start()
    try:
        yield started
    finally:
        started.server.shutdown()
        started.server.server_close()
        started.thread.join()


# ---------------------------------------------------------------------- issue and read


def test_a_checkpoint_is_signed_by_the_published_platform_key_over_the_whole_log(cic, client):
    alliance = cic.alliance
    key = client.get("/v1/audit/signing-key")  # public: no key needed
    assert key.status_code == 200, key.text

    made = issue(alliance)

    assert signing.signature_problem(made) is None
    assert key.json() == {
        "algorithm": "Ed25519",
        "key_id": made.key_id,
        "public_key": made.public_key,
    }
    logged = positions(alliance)
    assert (made.tenant, made.reason) == (alliance.slug, "on-demand")
    assert (made.tree_size, made.last_position) == (len(logged), logged[-1])
    leaves = stored_leaves(alliance)
    assert made.root_hash == merkle.root([leaves[p] for p in logged]).hex()
    assert decoded(alliance.call("GET", f"/audit/checkpoints/{made.tree_size}").content) == made
    # Tampering with any signed field breaks the signature.
    for change in (
        {"root_hash": "00" * 32},
        {"tree_size": made.tree_size + 1},
        {"last_position": made.last_position - 1},
        {"reason": "schedule"},
        {"tenant": "another-alliance"},
    ):
        assert signing.signature_problem(msgspec.structs.replace(made, **change)) is not None


def test_issuing_again_before_the_log_grows_returns_the_same_checkpoint(fresh):
    alliance = fresh
    first = issue(alliance)

    again = issue(alliance, headers=issue_key(alliance, "auditor"))

    assert again == first
    assert [c.tree_size for c in listed(alliance)][-1] == first.tree_size
    grow(alliance, "Become Two")
    assert issue(alliance).tree_size == first.tree_size + 1


def test_checkpoints_are_listed_smallest_first_a_page_at_a_time(fresh):
    alliance = fresh
    for number in range(4):
        grow(alliance, f"Applicant {number}")
        issue(alliance)
    everything = listed(alliance, limit=1000)

    paged = listed(alliance, limit=2)

    sizes = [c.tree_size for c in everything]
    assert len(everything) >= 5 and sizes == sorted(set(sizes))
    assert paged == everything
    page = alliance.get("/audit/checkpoints", after=sizes[1], limit=2)
    assert [c["tree_size"] for c in page["items"]] == sizes[2:4]
    assert page["next_after"] == sizes[3]
    last = alliance.get("/audit/checkpoints", after=sizes[-2], limit=2)
    assert [c["tree_size"] for c in last["items"]] == sizes[-1:] and last["next_after"] is None
    for made in everything:
        assert decoded(alliance.call("GET", f"/audit/checkpoints/{made.tree_size}").content) == made


def test_the_founding_leaves_a_terms_adopted_checkpoint(fresh):
    [first] = listed(fresh)

    assert first.reason == "terms-adopted"
    assert first.last_position == position_of(fresh, "TermsOfReferenceAdopted")
    assert first.tree_size == len(positions(fresh))  # the whole founding, signed at once


# ---------------------------------------------------------------------------- milestones


def assert_milestone(alliance: Alliance, event_type: str, reason: str) -> Checkpoint:
    """The latest checkpoint was issued for `reason`, at once: it covers the whole log,
    the event that caused it included, and proves that event in it."""
    latest = listed(alliance)[-1]
    logged = positions(alliance)
    caused_by = position_of(alliance, event_type)
    assert latest.reason == reason
    assert (latest.tree_size, latest.last_position) == (len(logged), logged[-1])
    assert caused_by <= latest.last_position
    proof = alliance.get("/audit/proofs/inclusion", position=caused_by)
    assert proof["tree_size"] == latest.tree_size and proves_inclusion(proof, latest.root_hash)
    assert signing.signature_problem(latest) is None
    return latest


def test_approving_minutes_leaves_a_checkpoint_covering_the_approval(cic):
    alliance = cic.alliance
    meeting = cic.meeting(7)
    minutes = alliance.post(
        "/minutes",
        {"meeting_id": meeting, "items": [{"title": "Welcome", "text": "Hello."}]},
        status=201,
    )
    before = listed(alliance)[-1]

    alliance.post(f"/minutes/{minutes['minutes_id']}/approve", {"by_body": FM})

    after = assert_milestone(alliance, "MinutesApproved", "minutes-approved")
    assert after.tree_size > before.tree_size


def test_closing_an_election_leaves_a_checkpoint_covering_the_close(cic):
    alliance = cic.alliance
    election_id = open_election(alliance)["election_id"]
    ka, kb, kc, kd = cic.keys
    amira = nominate(alliance, election_id, "Amira Khan", key=ka)
    lee = nominate(alliance, election_id, "Lee Grant", key=kb)
    cic.at(on(10))
    alliance.post(f"/elections/{election_id}/voting")
    for key in (ka, kb, kc, kd):
        voted(alliance, election_id, [amira, lee], key)

    closed = alliance.post(f"/elections/{election_id}/close")

    assert closed["status"] == "closed"
    assert_milestone(alliance, "ElectionClosed", "election-closed")


def test_adopting_a_tor_amendment_leaves_a_checkpoint_covering_the_adoption(cic):
    alliance = cic.alliance
    proposed = alliance.post(
        "/terms/amendments",
        {
            "rationale": "longer terms for co-chairs",
            "rules": [{"path": "offices.co-chair.term_months", "value": 36}],
            "clauses": [],
        },
        status=201,
    )

    alliance.post(
        f"/terms/amendments/{proposed['amendment_id']}/approve",
        {"body": FM, "decision_ref": "main meeting, item 5", "effective_from": "2030-02-01"},
    )

    assert_milestone(alliance, "TermsOfReferenceAmendmentApproved", "terms-adopted")


# -------------------------------------------------------------------------------- proofs


@pytest.fixture
def history(cic) -> Chamber:
    """The alliance with several checkpoints over a log of some length."""
    for number in range(5):
        for extra in range(number + 1):
            grow(cic.alliance, f"Applicant {number}.{extra}")
        issue(cic.alliance)
    return cic


def test_every_record_is_proved_in_every_checkpoint_that_covers_it(history):
    alliance = history.alliance
    leaves = stored_leaves(alliance)
    logged = positions(alliance)

    for made in listed(alliance):
        for index, position in enumerate(logged[: made.tree_size]):
            proof = alliance.get(
                "/audit/proofs/inclusion", position=position, tree_size=made.tree_size
            )

            assert (proof["position"], proof["leaf_index"]) == (position, index)
            assert proof["leaf_hash"] == leaves[position].hex()  # it commits to the bytes
            assert proves_inclusion(proof, made.root_hash), (made.tree_size, position)
    # The proof is no formality: another leaf, or another root, does not check.
    latest = listed(alliance)[-1]
    proof = alliance.get("/audit/proofs/inclusion", position=logged[3])
    assert proof["tree_size"] == latest.tree_size  # the latest checkpoint's, by default
    assert not proves_inclusion({**proof, "leaf_hash": leaves[logged[4]].hex()}, latest.root_hash)
    assert not proves_inclusion(proof, listed(alliance)[-2].root_hash)


def test_every_checkpoint_is_proved_a_prefix_of_every_later_one(history):
    alliance = history.alliance
    made = listed(alliance)
    assert len(made) >= 6

    for first, second in itertools.combinations_with_replacement(made, 2):
        proof = alliance.get(
            "/audit/proofs/consistency", first=first.tree_size, second=second.tree_size
        )

        assert (proof["first_root"], proof["second_root"]) == (first.root_hash, second.root_hash)
        assert merkle.verify_consistency(
            first.tree_size,
            second.tree_size,
            bytes.fromhex(first.root_hash),
            bytes.fromhex(second.root_hash),
            [bytes.fromhex(p) for p in proof["proof"]],
        ), (first.tree_size, second.tree_size)
    proof = alliance.get(
        "/audit/proofs/consistency", first=made[1].tree_size, second=made[-1].tree_size
    )
    assert not merkle.verify_consistency(
        made[1].tree_size,
        made[-1].tree_size,
        bytes.fromhex(made[2].root_hash),  # not the first tree's root: it does not check
        bytes.fromhex(made[-1].root_hash),
        [bytes.fromhex(p) for p in proof["proof"]],
    )


def test_bad_proof_and_checkpoint_requests_are_problems_naming_what_is_wrong(history):
    alliance = history.alliance
    logged = positions(alliance)
    size = len(logged)

    def refused(path: str, status: int, *words: str, **params: Any) -> None:
        problem = assert_problem(alliance.call("GET", path, params=params), status)
        assert problem["type"] == (INVALID if status == 422 else NOT_FOUND), problem
        for word in words:
            assert word in problem["detail"], problem

    inclusion, consistency = "/audit/proofs/inclusion", "/audit/proofs/consistency"
    refused(inclusion, 422, "position", position=0)
    refused(inclusion, 422, "position", position=-3)
    refused(inclusion, 422, "position", position="first")
    refused(inclusion, 422, "position")  # missing
    refused(inclusion, 422, f"no record at position {logged[-1] + 1}", position=logged[-1] + 1)
    refused(
        inclusion, 422, f"tree_size {size + 1} is beyond the log", position=1, tree_size=size + 1
    )
    refused(inclusion, 422, "among the first 2 records", position=logged[2], tree_size=2)
    refused(inclusion, 422, "tree_size", position=1, tree_size=-1)
    refused(consistency, 422, "first (3) must not be larger than second (2)", first=3, second=2)
    refused(consistency, 422, f"tree_size {size + 5} is beyond the log", first=1, second=size + 5)
    refused(consistency, 422, "second", first=1)
    refused(consistency, 422, "first", first="x", second=2)
    refused(f"/audit/checkpoints/{size + 100}", 404, f"tree size {size + 100}")
    refused("/audit/checkpoints/3", 404, "tree size 3")  # within the log, never checkpointed
    refused("/audit/checkpoints", 422, "limit", limit=0)
    refused("/audit/checkpoints", 422, "limit", limit=1001)
    refused("/audit/checkpoints", 422, "after", after=-2)


def test_audit_endpoints_are_for_the_alliances_admins_and_auditors_only(cic, client, onboard):
    alliance = cic.alliance
    auditor, officer = issue_key(alliance, "auditor"), issue_key(alliance, "officer")
    stranger = bearer(onboard("other-alliance")["admin_key"]["secret"])
    issue(alliance)
    before = listed(alliance)
    paths = [
        ("POST", "/audit/checkpoints", None),
        ("GET", "/audit/checkpoints", None),
        ("GET", "/audit/proofs/inclusion?position=1", None),
        ("GET", "/audit/proofs/consistency?first=1&second=2", None),
        ("GET", "/audit/webhooks", None),
        ("POST", "/audit/webhooks", {"url": "http://127.0.0.1:9/hook"}),
    ]

    for method, path, body in paths:
        assert alliance.call(method, path, body, headers=auditor).status_code in (200, 201)
        expect(alliance.call(method, path, body, headers=officer), 403, FORBIDDEN, "auditor")
        expect(alliance.call(method, path, body, headers=cic.keys[0]), 403, FORBIDDEN)
        expect(alliance.call(method, path, body, headers=stranger), 404, NOT_FOUND)
        assert_problem(alliance.call(method, path, body, headers={}), 401)
    assert listed(alliance) == before  # nobody's refusal issued anything
    assert len(webhooks(alliance)) == 1  # the auditor's
    eventually(lambda: deliveries_settled(alliance.slug), "the auditor's webhook tried")


# ------------------------------------------------------------------------------ webhooks


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://x", "http:// or https://"),
        ("not a url", "http:// or https://"),
        ("http://", "with a host"),
        ("https://user:secret@receiver.example.org/hook", "user name or password"),
        ("https://:secret@receiver.example.org/hook", "user name or password"),
        ("https://user@receiver.example.org/hook", "user name or password"),
        ("", "url"),
        ("https://receiver.example.org/" + "x" * 2000, "url"),
    ],
)
def test_a_webhook_must_be_an_http_address_with_a_host_and_no_credentials(fresh, url, words):
    alliance = fresh

    problem = expect(alliance.call("POST", "/audit/webhooks", {"url": url}), 422, INVALID, words)

    assert "secret" not in problem["detail"]  # a refused password is not echoed back
    assert webhooks(alliance) == []


def test_a_webhook_request_with_an_unknown_field_is_refused(fresh):
    body = {"url": "https://receiver.example.org/hook", "secret": "s3cret"}

    expect(fresh.call("POST", "/audit/webhooks", body), 422, INVALID, "secret")

    assert webhooks(fresh) == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "http://[::1",
        ),
        pytest.param(
            "http://127.0.0.1:99999/hook",
        ),
    ],
)
def test_a_malformed_webhook_address_is_refused_by_name(fresh, url):
    response = fresh.call("POST", "/audit/webhooks", {"url": url})

    expect(response, 422, INVALID, "url")
    assert webhooks(fresh) == []


def test_an_alliance_has_at_most_ten_webhooks(fresh, receiver):
    alliance = fresh
    for number in range(10):
        add_webhook(alliance, receiver.url(f"/hook/{number}"))

    eleventh = alliance.call("POST", "/audit/webhooks", {"url": receiver.url("/hook/10")})

    expect(eleventh, 422, INVALID, "at most 10")
    assert len(webhooks(alliance)) == 10
    eventually(lambda: deliveries_settled(alliance.slug), "deliveries finished")


def test_a_new_webhook_gets_every_checkpoint_so_far_in_order_then_each_new_one(fresh, receiver):
    alliance = fresh
    for number in range(3):
        grow(alliance, f"Applicant {number}")
        issue(alliance)
    so_far = [c.tree_size for c in listed(alliance)]

    added = add_webhook(alliance, receiver.url("/concord"))

    assert added["url"] == receiver.url("/concord")
    # Delivery starts on its own thread as the webhook is added: the answer may already
    # show some of it.
    assert added["delivered_size"] in (0, *so_far)
    eventually(lambda: receiver.accepted("/concord") == so_far, "the earlier checkpoints")
    grow(alliance, "Latecomer")
    latest = issue(alliance)
    eventually(lambda: receiver.accepted("/concord") == [*so_far, latest.tree_size], "the new one")
    delivery = receiver.received("/concord")[-1]
    assert decoded(delivery.body) == latest and signing.signature_problem(latest) is None
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-concord-checkpoint"] == f"{alliance.slug}/{latest.tree_size}"
    [row] = eventually(
        lambda: [w for w in webhooks(alliance) if w["delivered_size"] == latest.tree_size],
        "the delivery recorded",
    )
    assert row["last_error"] is None and row["sink_id"] == added["sink_id"]


def test_a_failing_receiver_is_shown_and_gets_the_missed_checkpoints_in_order_on_recovery(
    fresh, receiver
):
    alliance = fresh
    first = listed(alliance)
    receiver.status = 500

    add_webhook(alliance, receiver.url("/down"))

    [row] = eventually(
        lambda: [w for w in webhooks(alliance) if w["last_error"] == "HTTP 500"],
        "the failure shown",
    )
    assert row["delivered_size"] == 0 and row["last_attempt_at"] is not None
    grow(alliance, "While Down")
    issue(alliance)  # the next checkpoint retries, and fails again
    eventually(lambda: len(receiver.received("/down")) >= 2, "a retry")
    eventually(lambda: deliveries_settled(alliance.slug), "the retry finished")
    # Each attempt stopped at the first checkpoint not yet delivered: none skipped ahead.
    assert {decoded(d.body).tree_size for d in receiver.received("/down")} == {first[0].tree_size}
    assert webhooks(alliance)[0]["last_error"] == "HTTP 500"

    receiver.status = 200
    grow(alliance, "After Recovery")
    issue(alliance)

    everything = [c.tree_size for c in listed(alliance)]
    eventually(lambda: receiver.accepted("/down") == everything, "the missed ones, in order")
    [row] = eventually(
        lambda: [w for w in webhooks(alliance) if w["last_error"] is None], "the error cleared"
    )
    assert row["delivered_size"] == everything[-1]


def test_a_removed_webhook_gets_nothing_more(fresh, receiver):
    alliance = fresh
    kept = add_webhook(alliance, receiver.url("/kept"))
    removed = add_webhook(alliance, receiver.url("/removed"))
    so_far = [c.tree_size for c in listed(alliance)]
    for path in ("/kept", "/removed"):
        eventually(lambda p=path: receiver.accepted(p) == so_far, f"{path} caught up")
    eventually(lambda: deliveries_settled(alliance.slug), "deliveries finished")

    response = alliance.call("DELETE", f"/audit/webhooks/{removed['sink_id']}")

    assert response.status_code == 204, response.text
    assert [w["sink_id"] for w in webhooks(alliance)] == [kept["sink_id"]]
    grow(alliance, "After Removal")
    latest = issue(alliance)
    eventually(lambda: receiver.accepted("/kept") == [*so_far, latest.tree_size], "kept one")
    eventually(lambda: deliveries_settled(alliance.slug), "deliveries finished")
    assert receiver.accepted("/removed") == so_far
    again = alliance.call("DELETE", f"/audit/webhooks/{removed['sink_id']}")
    expect(again, 404, NOT_FOUND, removed["sink_id"])


# ------------------------------------------------- webhooks are not a way into the network
#: Addresses a key holder might aim a webhook at to reach what the platform can reach and
#: they cannot: loopback, private networks, cloud metadata, IPv6 forms of them.
PRIVATE_ADDRESSES = [
    "http://127.0.0.1:9/hook",
    "http://localhost:8080/hook",
    "http://api.localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
]


@pytest.mark.parametrize("url", PRIVATE_ADDRESSES)
def test_a_webhook_to_a_private_address_is_refused_by_default(settings, url):
    default = msgspec.structs.replace(settings, outbound_private_networks="")
    with alliance_served_with(default) as alliance:
        response = alliance.call("POST", "/audit/webhooks", {"url": url})

        expect(response, 422, INVALID, "not a public address")
        assert "CONCORD_OUTBOUND_PRIVATE_NETWORKS" in response.json()["detail"]
        assert webhooks(alliance) == []


def test_a_name_that_resolves_to_a_private_address_is_never_sent_to(settings, receiver):
    host = socket.gethostname()  # named in /etc/hosts: a loopback or private address
    resolved = {ipaddress.ip_address(i[4][0]) for i in socket.getaddrinfo(host, 80)}
    assert not any(a.is_global for a in resolved), (host, resolved)
    port = receiver.server.server_address[1]
    default = msgspec.structs.replace(settings, outbound_private_networks="")
    with alliance_served_with(default) as alliance:
        add_webhook(alliance, f"http://{host}:{port}/by-name")  # a name: checked when used

        [row] = eventually(
            lambda: [w for w in webhooks(alliance) if w["last_error"]], "the refusal shown"
        )
        eventually(lambda: deliveries_settled(alliance.slug), "deliveries finished")

    assert "not public" in row["last_error"], row
    assert row["delivered_size"] == 0
    assert receiver.received("/by-name") == []


def test_the_operator_may_allow_a_private_network(settings, receiver):
    allowed = msgspec.structs.replace(settings, outbound_private_networks="10.0.0.0/8, 127.0.0.1")
    with alliance_served_with(allowed) as alliance:
        add_webhook(alliance, receiver.url("/allowed"))
        eventually(lambda: receiver.accepted("/allowed"), "a delivery")
        refused = alliance.call("POST", "/audit/webhooks", {"url": "http://192.168.0.1/hook"})
        eventually(lambda: deliveries_settled(alliance.slug), "deliveries finished")

    expect(refused, 422, INVALID, "not a public address")


def test_a_redirect_is_not_followed(fresh, receiver):
    receiver.status = 302

    add_webhook(fresh, receiver.url("/moved"))

    [row] = eventually(
        lambda: [w for w in webhooks(fresh) if w["last_error"]], "the answer recorded"
    )
    eventually(lambda: deliveries_settled(fresh.slug), "deliveries finished")
    assert row["last_error"] == "HTTP 302 (redirects are not followed)"
    assert row["delivered_size"] == 0


def test_a_bad_private_network_setting_is_named():
    with pytest.raises(SettingsError, match=r"CONCORD_OUTBOUND_PRIVATE_NETWORKS.*'ten'"):
        Settings.from_env({"CONCORD_OUTBOUND_PRIVATE_NETWORKS": "10.0.0.0/8,ten"})


# ----------------------------------------------------------- the operator's folder, schedule


@contextmanager
def alliance_served_with(settings: Settings) -> Iterator[Alliance]:
    """The API started on settings of the test's own, with one alliance onboarded."""
    with TestClient(create_app(settings)) as client:
        body = {"slug": "shipped", "name": "Shipped", "region": "Kent", "template": CIC}
        response = client.post("/v1/tenants", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        yield Alliance(client, CIC, response.json()["admin_key"]["secret"], slug="shipped")


def test_every_checkpoint_is_also_written_to_the_checkpoint_folder(settings):
    folder = Path(settings.data_dir).parent / "shipped-checkpoints"
    with alliance_served_with(
        msgspec.structs.replace(settings, checkpoint_dir=str(folder))
    ) as alliance:
        for number in range(2):
            grow(alliance, f"Applicant {number}")
            issue(alliance)
        issue(alliance)  # nothing new: no new file
        made = listed(alliance)

    files = sorted((folder / alliance.slug).iterdir())

    assert [f.name for f in files] == [f"{c.tree_size:012d}-{c.key_id}.json" for c in made]
    assert [decoded(f.read_bytes()) for f in files] == made
    assert len(made) == 3  # founding, then the two on demand


def test_the_schedule_checkpoints_an_alliance_whose_log_grew_and_no_other(client, onboard):
    runtime = client.app.state.runtime
    steady, growing = (
        Alliance(client, CIC, onboard(slug, template=CIC)["admin_key"]["secret"], slug=slug)
        for slug in ("a-steady", "b-growing")
    )
    steady_before = listed(steady)
    grow(growing, "New Applicant")
    size = len(positions(growing))
    schedule = checkpoints.CheckpointSchedule(runtime, 1)

    schedule.start()
    try:
        made = eventually(
            lambda: [c for c in listed(growing) if c.reason == "schedule"], "a scheduled checkpoint"
        )
    finally:
        schedule.stop()

    assert [(c.tree_size, c.last_position) for c in made] == [(size, positions(growing)[-1])]
    assert signing.signature_problem(made[0]) is None
    # Each run goes through the alliances in slug order, so the run that checkpointed
    # b-growing had already passed a-steady, whose log had not grown: nothing for it.
    assert listed(steady) == steady_before
    assert checkpoints.checkpoint_all(runtime) == 0  # nothing grew since
    assert listed(growing)[-1] == made[0]
