"""Schemathesis against the live OpenAPI document: every operation, with real keys and real
objects, answers as the document says (no 5xx; every status, content type, header and body
declared).

The app runs in-process on SQLite and on PostgreSQL with the world of the tenant-wall
checks (two alliances, a key of every role, objects in every state). Each operation is
called with the tenant-admin key of the first alliance (the platform-admin key and the
second alliance for platform operations), its path parameters mostly set to real objects
so the bodies get past 401/404 and are exercised.

CONCORD_FUZZ_EXAMPLES (examples per operation; default 30) and CONCORD_FUZZ_SEED make a
longer or different run; docs/operations.md ("Fuzzing the API") says how.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.settings import Settings
from services.api.app import create_app
from tests.conftest import ADMIN, bearer
from tests.e2e.permission_matrix import ACCESS, ANY_KEY, PUBLIC
from tests.e2e.test_tenant_walls import DEAD_WEBHOOK, World

EXAMPLES = int(os.environ.get("CONCORD_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("CONCORD_FUZZ_SEED", "20261124"))
#: Only the operations whose label ("POST /v1/tenants/{slug}/motions") contains this.
ONLY = os.environ.get("CONCORD_FUZZ_ONLY", "")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: The alliance whose tenant-admin key calls the tenant operations.
HOME = "alpha-alliance"
#: The alliance the platform operations act on (suspending it leaves HOME as it was).
PLATFORM_TARGET = "beta-alliance"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No rate limits: the fuzzer calls faster than a key may (429 is checked on its own,
    below)."""
    return msgspec.structs.replace(settings, rate_limit_per_key=0, rate_limit_per_tenant=0)


@pytest.fixture
def world(client, onboard) -> World:
    return World(client, onboard)


@dataclass
class Target:
    """Who calls an operation, on which alliance, with which real path parameters, and
    the real values body fields of these names may take."""

    headers: dict[str, str]
    path_parameters: dict[str, Any]
    references: dict[str, Any] = field(default_factory=dict)


def refer_to_real_objects(case, target: Target):
    """The generated body, with its fields that name an object (a member, a meeting, a
    body, an office) set to real ones, so a valid request gets past "no such member" to
    the handler's own rules."""
    if isinstance(case.body, dict):
        for name, value in target.references.items():
            if name in case.body:
                case.body[name] = value
    return case


@dataclass
class Run:
    """What the fuzzer saw: each operation's answers, and the first failure of each."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def real_path_parameters(world: World, client, slug: str) -> dict[str, Any]:
    """Path parameters naming real objects of this alliance."""
    objects = world.objects[slug]
    admin = world.headers(slug, "tenant-admin")
    base = f"/v1/tenants/{slug}"
    checkpoint = client.get(f"{base}/audit/checkpoints", headers=admin).json()["items"][0]
    sink = client.post(f"{base}/audit/webhooks", json={"url": DEAD_WEBHOOK}, headers=admin)
    hold = client.post(
        f"{base}/privacy/holds", json={**objects.person, "reason": "fuzz"}, headers=admin
    )
    return {
        "slug": slug,
        # A key the fuzzer may revoke: not the tenant-admin key it calls with.
        "key_id": world.keys[slug]["member"]["id"],
        "amendment_id": world.amendments[slug],
        "number": 1,
        "name": "children-in-care",
        "application_id": objects.application,
        "member_id": objects.member,
        "representative_id": objects.representative,
        "office": "chair",
        "holding_id": objects.chair,
        "body_key": "executive-committee",
        "seat_id": objects.seat[0],
        "group_id": objects.group,
        "year": objects.year,
        "item_id": objects.item,
        "meeting_id": objects.meeting,
        "minutes_id": objects.minutes,
        "action_item_id": objects.action_item,
        "motion_id": objects.motion,
        "election_id": objects.election,
        "candidate_id": objects.candidate,
        "tree_size": checkpoint["tree_size"],
        "sink_id": sink.json()["sink_id"],
        "hold_id": hold.json()["hold_id"],
    }


def target_of(operation, world: World, real: dict[str, dict[str, Any]]) -> Target:
    """The key and alliance an operation is called with: the tenant admin of HOME where
    it may call it, else the platform admin on PLATFORM_TARGET."""
    allowed = ACCESS[operation.definition.raw["operationId"]]
    names = {parameter.name for parameter in operation.path_parameters}
    if PUBLIC in allowed:
        return Target({}, {})
    if "tenant-admin" in allowed or ANY_KEY in allowed:
        slug, headers = HOME, world.headers(HOME, "tenant-admin")
    else:
        slug, headers = PLATFORM_TARGET, ADMIN
    parameters = real[slug]
    return Target(
        headers,
        {k: v for k, v in parameters.items() if k in names},
        references=references(world.objects[slug], parameters),
    )


def references(objects, parameters: dict[str, Any]) -> dict[str, Any]:
    """Body fields that name an object of the alliance, and a real one each."""
    member = objects.member
    return {
        "member_id": member,
        "proposer_member_id": member,
        "leads": [member],
        "attendance": [{"member_id": member}],
        "meeting_id": objects.held_meeting,
        "at_meeting_id": objects.held_meeting,
        "representative_id": objects.representative,
        "item_id": parameters["item_id"],
        "body": "full-membership",
        "by_body": "full-membership",
        "to_body": "executive-committee",
        "agreed_by": "full-membership",
        "presented_to": "full-membership",
        "by_office": "chair",
        "office": "vice-chair",
        "template": "kinship-care",
        "choices": [objects.candidate],
        "votes": [{"holding_id": objects.chair, "choice": "for"}],
    }


def keep_webhooks_on_loopback(case) -> None:
    """A fuzzed webhook address could name a real host that a later checkpoint would be
    sent to: every one added points at a dead loopback port instead."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str):
        try:
            host = urlsplit(body["url"].strip()).hostname
        except ValueError:
            return
        if host is not None and host != "127.0.0.1":
            body["url"] = DEAD_WEBHOOK


def send(client, case, headers: dict[str, str]):
    """Send a generated case through the app's test client; the answer, for the checks."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif "data" in kwargs:
        body["content"] = kwargs["data"]
    return client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        cookies=kwargs.get("cookies") or None,
        **body,
    )


def fuzz(client, operation, target: Target, run: Run) -> None:
    """Call one operation EXAMPLES times (same seed each run); record its first failure."""
    label = operation.label
    statuses = run.statuses.setdefault(label, Counter())
    # Mostly valid requests on real objects (to reach the handlers' rules), and some that
    # break the document's own schema; with and without real path parameters.
    real = {"path_parameters": target.path_parameters}
    strategies = [
        operation.as_strategy(**real),
        operation.as_strategy(**real).map(lambda case: refer_to_real_objects(case, target)),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, **real),
    ]
    if target.path_parameters:
        strategies += [
            operation.as_strategy(),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=st.one_of(strategies))
    def call(case) -> None:
        keep_webhooks_on_loopback(case)
        response = send(client, case, target.headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=target.headers)
        except (AssertionError, BaseExceptionGroup) as failure:
            # Kept, not raised: the app has state, so hypothesis replaying the example
            # would not see the same answer (and would report a flaky test instead).
            run.failures.setdefault(label, f"{type(failure).__name__}: {failure}"[:3000])

    call()


# The app's own threads (the connection pool's jitter, trace ids) use the `random` module
# while a case is being drawn; hypothesis reads that as the strategy using it.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
def test_every_operation_answers_as_its_openapi_document_says(client, world, capsys):
    document = client.get("/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    real = {slug: real_path_parameters(world, client, slug) for slug in (HOME, PLATFORM_TARGET)}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(ACCESS)
    operations = [op for op in operations if ONLY in op.label]
    # Reads first, so they see the objects before the writes change them.
    operations.sort(key=lambda op: (op.method.upper() != "GET", op.path, op.method))
    run = Run()
    for operation in operations:
        fuzz(client, operation, target_of(operation, world, real), run)

    answered = {label for label, seen in run.statuses.items() if any(s < 300 for s in seen)}
    with capsys.disabled():
        print(
            f"\nschemathesis: seed {SEED}, {EXAMPLES} examples an operation, "
            f"{len(operations)} operations, {sum(c.total() for c in run.statuses.values())} calls; "
            f"{len(answered)} operations answered 2xx at least once"
        )
        for label, seen in sorted(run.statuses.items()):
            if label not in answered:
                print(f"  never 2xx: {label} {dict(seen)}")
    assert not run.failures, "\n\n".join(f"{k}\n{v}" for k, v in run.failures.items())
    # Every call carried a key allowed to make it: a 401 or 403 means the fuzzer was
    # refused at the door, and the answers above checked nothing behind it.
    refused = {k: v for k, v in run.statuses.items() if v[401] or v[403]}
    assert not refused, refused


# ------------------------------------------------------------------ what the fuzzer found
# Each defect the first runs found, pinned by a test of its own.


def conforms(client, method: str, path: str, response, **path_parameters: Any) -> None:
    """The answer is one the live document declares for this operation (status, content
    type, headers, body), or the checks' failure."""
    schema = schemathesis.openapi.from_dict(client.get("/schema/openapi.json").json())
    case = schema[path][method].Case(path_parameters=path_parameters)
    case.validate_response(response, checks=CHECKS[1:])


def test_every_operation_declares_the_problems_the_app_wide_layers_answer(client):
    """Found: 422 from the parameter limits on operations that declared none, 400 declared
    as litestar's JSON instead of a problem, 429 declared nowhere."""
    document = client.get("/schema/openapi.json").json()
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert "422" in responses, where
            if ACCESS[operation["operationId"]] != {PUBLIC}:
                assert {"401", "429"} <= set(responses), where
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), where
            for status, answer in responses.items():
                if status.startswith("4"):
                    assert answer["content"] == {"application/problem+json": problem}, (
                        where,
                        status,
                    )


def test_a_control_character_in_any_query_is_a_declared_problem(client):
    """/v1/me takes no parameters, yet the parameter limits answer its query: 422."""
    response = client.get("/v1/me", params={"note": "bell\x07"}, headers=ADMIN)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    conforms(client, "GET", "/v1/me", response)


def test_a_rate_limited_call_is_a_declared_problem(settings, telemetry):
    limited = msgspec.structs.replace(settings, rate_limit_per_key=1)
    with TestClient(create_app(limited, telemetry=telemetry)) as client:
        first = client.get("/v1/tenants", headers=ADMIN)
        second = client.get("/v1/tenants", headers=ADMIN)

        assert (first.status_code, second.status_code) == (200, 429)
        assert "Retry-After" in second.headers
        conforms(client, "GET", "/v1/tenants", second)


def test_health_declares_its_answer_when_the_store_cannot_be_reached(client, monkeypatch):
    def unreachable() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(client.app.state.runtime.backend, "ping", unreachable)
    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["reachable"] is False
    conforms(client, "GET", "/health", response)


def test_an_amendment_answer_matches_its_declared_schema(client, onboard):
    """Found: the changes were documented as `oneOf: [RuleChange, {}]` (litestar's reading
    of a variadic tuple), which every real change matches twice, so no answer was valid."""
    admin = bearer(onboard("gamma-alliance")["admin_key"]["secret"])
    body = {
        "rationale": "fuzz finding",
        "rules": [{"path": "membership.max_representatives", "value": 4}],
        "clauses": [{"number": "1", "heading": "Name"}],
    }
    proposed = client.post("/v1/tenants/gamma-alliance/terms/amendments", json=body, headers=admin)
    amendment_id = proposed.json()["amendment_id"]
    read = client.get(f"/v1/tenants/gamma-alliance/terms/amendments/{amendment_id}", headers=admin)

    assert proposed.status_code == 201, proposed.text
    assert read.json()["changes"]["rules"] == body["rules"]
    conforms(client, "POST", "/v1/tenants/{slug}/terms/amendments", proposed, slug="gamma-alliance")
    conforms(
        client,
        "GET",
        "/v1/tenants/{slug}/terms/amendments/{amendment_id}",
        read,
        slug="gamma-alliance",
        amendment_id=amendment_id,
    )


#: Beyond every integer a database column holds.
HUGE = "17248211572540167317094400"


@pytest.mark.parametrize(
    "path",
    [
        f"/terms/diff?from={HUGE}&to=1",
        f"/terms/diff?from=1&to={HUGE}",
        f"/audit/checkpoints/{HUGE}",
    ],
)
def test_a_number_beyond_the_store_is_a_declared_problem_not_a_500(client, onboard, path):
    """Found: these numbers reached the store unbounded (SQLite: OverflowError, a 500)."""
    admin = bearer(onboard("delta-alliance")["admin_key"]["secret"])
    response = client.get(f"/v1/tenants/delta-alliance{path}", headers=admin)

    assert response.status_code == 422, response.text
    assert "<=" in response.json()["detail"]


@pytest.mark.parametrize("page", ["review", "review.html"])
def test_a_review_period_ending_in_the_year_1_is_a_declared_problem_not_a_500(
    client, onboard, page
):
    """Found: the default period (the review cadence before `to`) started in the year 0,
    which no date can hold (ValueError, a 500)."""
    admin = bearer(onboard("epsilon-alliance")["admin_key"]["secret"])
    response = client.get(
        f"/v1/tenants/epsilon-alliance/audit/{page}", params={"to": "0001-01-01"}, headers=admin
    )

    assert response.status_code == 422, response.text
    assert "before the year 1" in response.json()["detail"]
