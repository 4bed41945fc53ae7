"""`Idempotency-Key` on writes (issue 9): a write repeated with the same key records its
events once and answers the same, also when the repeats come at once, and after the
client gave up waiting for the first.

Each test runs on SQLite and PostgreSQL. The concurrent one uses a real
`concord serve --workers 2` (two processes racing for one claim); the client-timeout ones
run the app under a real uvicorn server in this process, so that a test can hold the
first request inside its handler (a gate on Store.record) for as long as it needs,
without any timing bound of the database's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar

from infra.settings import Settings
from infra.stores import DatabaseTimeout
from infra.telemetry import Telemetry
from projections.base import ProjectionRunner
from services import idempotency
from services.api.app import create_app
from services.runtime import Runtime, Store
from tests.conftest import ADMIN, bearer, free_port
from tests.e2e.test_concurrent_writers import onboard as onboard_over_http
from tests.e2e.test_multiprocess_writes import serve

PROBLEM_JSON = "application/problem+json"
REPLAYED = "idempotent-replayed"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def amendment(marker: str, text: str = "Reworded.") -> dict[str, Any]:
    return {"rationale": marker, "clauses": [{"number": "1", "text": text}]}


def proposals(events: list[dict[str, Any]], marker: str) -> int:
    return sum(
        1
        for e in events
        if e["type"] == "TermsOfReferenceAmendmentProposed" and e["data"]["rationale"] == marker
    )


def log_of(http: Any, slug: str, secret: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = http.get(
            f"/v1/tenants/{slug}/events",
            params={"after": after, "limit": 1000},
            headers=bearer(secret),
        ).json()
        found += page["items"]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def claims_in(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    with runtime.tenant(slug) as store, store.read() as sql:
        return sql.all("SELECT * FROM idempotency_claims")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = dict(response.json())
    assert body["type"] == f"urn:concord:problem:{code}", body
    assert body["detail"]
    return body


# ------------------------------------------------------------------ one client, in turn


def test_a_repeated_write_records_its_events_once_and_answers_the_same(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    headers = bearer(secret) | key("proposal-1")
    first = client.post("/v1/tenants/kent/terms/amendments", json=amendment("m1"), headers=headers)
    again = client.post("/v1/tenants/kent/terms/amendments", json=amendment("m1"), headers=headers)

    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["concord-position"] == first.headers["concord-position"]
    assert proposals(log_of(client, "kent", secret), "m1") == 1
    # Without a key, the same write twice is two writes, as before.
    for _ in range(2):
        plain = client.post(
            "/v1/tenants/kent/terms/amendments", json=amendment("m2"), headers=bearer(secret)
        )
        assert plain.status_code == 201
        assert REPLAYED not in plain.headers
    assert proposals(log_of(client, "kent", secret), "m2") == 2


def test_a_write_that_failed_after_its_commit_is_not_recorded_again_by_a_repeat(
    client, onboard, monkeypatch
):
    secret = onboard("kent")["admin_key"]["secret"]
    headers = bearer(secret) | key("fails-after-commit")
    runner = ProjectionRunner.catch_up

    def catch_up_fails_once(self: ProjectionRunner) -> Any:
        monkeypatch.setattr(ProjectionRunner, "catch_up", runner)
        raise DatabaseTimeout("the read models did not answer in time")

    monkeypatch.setattr(ProjectionRunner, "catch_up", catch_up_fails_once)
    path = "/v1/tenants/kent/terms/amendments"

    first = client.post(path, json=amendment("late"), headers=headers)
    again = client.post(path, json=amendment("late"), headers=headers)

    assert_problem(first, 503, "database-unavailable")
    body = assert_problem(again, 409, "idempotency-recorded-without-answer")
    assert again.headers[REPLAYED] == "true"
    assert proposals(log_of(client, "kent", secret), "late") == 1
    assert body["position"] == int(again.headers["concord-position"])


def test_onboarding_repeated_with_its_key_answers_the_first_answer_not_a_conflict(client):
    body = {"slug": "surrey", "name": "Surrey", "region": "South East", "template": "kinship-care"}
    first = client.post("/v1/tenants", json=body, headers=ADMIN | key("onboard-surrey"))
    again = client.post("/v1/tenants", json=body, headers=ADMIN | key("onboard-surrey"))
    unkeyed = client.post("/v1/tenants", json=body, headers=ADMIN)

    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.headers[REPLAYED] == "true"
    assert again.json()["admin_key"]["secret"] == first.json()["admin_key"]["secret"]
    assert_problem(unkeyed, 409, "tenant-exists")


def test_kept_answers_are_sealed_so_an_issued_secret_is_not_readable_in_the_store(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    headers = bearer(secret) | key("issue-auditor")
    issue = {"role": "auditor", "label": "the auditor"}
    first = client.post("/v1/tenants/kent/keys", json=issue, headers=headers)
    again = client.post("/v1/tenants/kent/keys", json=issue, headers=headers)

    assert first.status_code == 201, first.text
    issued = first.json()["secret"]
    assert again.headers[REPLAYED] == "true" and again.json()["secret"] == issued
    rows = claims_in(client.app.state.runtime, "kent")
    assert len(rows) == 1 and rows[0]["state"] == "done"
    stored = repr(rows)
    assert issued not in stored and "issue-auditor" not in stored and "auditor" not in stored


def test_the_same_key_for_another_request_is_refused_naming_the_first(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    headers = bearer(secret) | key("reused")
    first = client.post("/v1/tenants/kent/terms/amendments", json=amendment("a"), headers=headers)
    other_body = client.post(
        "/v1/tenants/kent/terms/amendments", json=amendment("b"), headers=headers
    )
    other_path = client.post(
        "/v1/tenants/kent/meetings",
        json={
            "body": "full-membership",
            "title": "Q3",
            "starts_at": "2026-12-03T10:00:00+00:00",
            "format": "virtual",
        },
        headers=headers,
    )

    assert first.status_code == 201, first.text
    for refused in (other_body, other_path):
        problem = assert_problem(refused, 422, "idempotency-key-reused")
        assert problem["original_method"] == "POST"
        assert problem["original_path"] == "/v1/tenants/kent/terms/amendments"
        assert "POST /v1/tenants/kent/terms/amendments" in problem["detail"]
    events = log_of(client, "kent", secret)
    assert proposals(events, "a") == 1 and proposals(events, "b") == 0
    assert not any(e["type"].startswith("Meeting") for e in events)


def test_keys_are_scoped_to_the_api_key_so_alliances_and_keys_never_share_answers(client, onboard):
    kent = onboard("kent")["admin_key"]["secret"]
    essex = onboard("essex")["admin_key"]["secret"]
    officer = client.post(
        "/v1/tenants/kent/keys",
        json={"role": "officer", "label": "secretary"},
        headers=bearer(kent),
    ).json()["secret"]
    same = key("shared-key")
    by_kent = client.post(
        "/v1/tenants/kent/terms/amendments", json=amendment("kent"), headers=bearer(kent) | same
    )
    by_essex = client.post(
        "/v1/tenants/essex/terms/amendments",
        json=amendment("kent"),
        headers=bearer(essex) | same,
    )
    by_officer = client.post(
        "/v1/tenants/kent/terms/amendments", json=amendment("kent"), headers=bearer(officer) | same
    )
    # A key of one alliance naming another's path with a key in use there: still a 404.
    across = client.post(
        "/v1/tenants/essex/terms/amendments", json=amendment("kent"), headers=bearer(kent) | same
    )

    for answer in (by_kent, by_essex, by_officer):
        assert answer.status_code == 201, answer.text
        assert REPLAYED not in answer.headers
    assert by_essex.json()["amendment_id"] != by_kent.json()["amendment_id"]
    assert by_officer.json()["amendment_id"] != by_kent.json()["amendment_id"]
    assert_problem(across, 404, "not-found")
    assert proposals(log_of(client, "kent", kent), "kent") == 2
    assert proposals(log_of(client, "essex", essex), "kent") == 1
    assert len(claims_in(client.app.state.runtime, "essex")) == 1  # essex's own, only


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (b"", "1 to 255 characters"),
        (b"   ", "1 to 255 characters"),
        (b'""', "1 to 255 characters"),
        (b"k" * 256, "this one is 256"),
        ("clé".encode(), "U+00C3"),
        (b"tab\there", "U+0009"),
    ],
)
def test_a_bad_idempotency_key_is_refused_before_anything_runs(client, onboard, value, says):
    secret = onboard("kent")["admin_key"]["secret"]
    response = client.post(
        "/v1/tenants/kent/terms/amendments",
        json=amendment("bad-key"),
        headers=[("Authorization", f"Bearer {secret}"), ("Idempotency-Key", value)],
    )
    problem = assert_problem(response, 400, "invalid-idempotency-key")
    assert says in problem["detail"]
    assert proposals(log_of(client, "kent", secret), "bad-key") == 0


def test_two_idempotency_keys_on_one_request_are_refused(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    response = client.post(
        "/v1/tenants/kent/terms/amendments",
        json=amendment("two-keys"),
        headers=[
            ("Authorization", f"Bearer {secret}"),
            ("Idempotency-Key", "one"),
            ("Idempotency-Key", "two"),
        ],
    )
    problem = assert_problem(response, 400, "invalid-idempotency-key")
    # The test client joins the two into "one, two" (as a proxy may); a server may not.
    assert "not 2" in problem["detail"] or "not a list" in problem["detail"]


def test_a_quoted_key_and_a_longest_key_are_accepted(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    quoted = client.post(
        "/v1/tenants/kent/terms/amendments",
        json=amendment("quoted"),
        headers=bearer(secret) | key('"8e03978e-40d5-43e8-bc93-6894a57f9324"'),
    )
    bare = client.post(
        "/v1/tenants/kent/terms/amendments",
        json=amendment("quoted"),
        headers=bearer(secret) | key("8e03978e-40d5-43e8-bc93-6894a57f9324"),
    )
    longest = client.post(
        "/v1/tenants/kent/terms/amendments",
        json=amendment("longest"),
        headers=bearer(secret) | key("~" * 255),
    )
    assert quoted.status_code == 201 and bare.headers[REPLAYED] == "true"
    assert longest.status_code == 201, longest.text


def test_a_refused_write_gives_its_key_back_for_the_corrected_request(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    headers = bearer(secret) | key("fix-me")
    wrong = amendment("fixed", text="")  # a clause's new text may not be empty
    refused = client.post("/v1/tenants/kent/terms/amendments", json=wrong, headers=headers)
    refused_again = client.post("/v1/tenants/kent/terms/amendments", json=wrong, headers=headers)
    corrected = client.post(
        "/v1/tenants/kent/terms/amendments", json=amendment("fixed"), headers=headers
    )
    repeated = client.post(
        "/v1/tenants/kent/terms/amendments", json=amendment("fixed"), headers=headers
    )

    assert refused.status_code == 422 and REPLAYED not in refused.headers
    assert refused_again.status_code == 422 and REPLAYED not in refused_again.headers
    assert corrected.status_code == 201 and REPLAYED not in corrected.headers
    assert repeated.status_code == 201 and repeated.headers[REPLAYED] == "true"
    assert repeated.content == corrected.content
    assert proposals(log_of(client, "kent", secret), "fixed") == 1


def test_an_answer_is_kept_for_the_ttl_then_the_key_is_new_again(client, onboard):
    secret = onboard("kent")["admin_key"]["secret"]
    runtime: Runtime = client.app.state.runtime
    started = runtime.clock()
    url = "/v1/tenants/kent/terms/amendments"
    first = client.post(url, json=amendment("ttl"), headers=bearer(secret) | key("day-one"))
    client.post(url, json=amendment("other"), headers=bearer(secret) | key("day-one-other"))

    runtime.clock = lambda: started + timedelta(hours=23, minutes=59)
    within = client.post(url, json=amendment("ttl"), headers=bearer(secret) | key("day-one"))
    runtime.clock = lambda: started + timedelta(hours=24, minutes=1)
    after = client.post(url, json=amendment("ttl"), headers=bearer(secret) | key("day-one"))

    assert first.status_code == 201
    assert within.headers[REPLAYED] == "true" and within.content == first.content
    assert after.status_code == 201 and REPLAYED not in after.headers
    assert proposals(log_of(client, "kent", secret), "ttl") == 2
    # The expired claims went with the next claim: only the new one is left.
    assert len(claims_in(runtime, "kent")) == 1


# ------------------------------------------------ a first request held inside its handler


@contextmanager
def uvicorn_serving(app: Litestar) -> Iterator[tuple[str, Litestar]]:
    """The app under a real uvicorn server on a loopback port, in this process: its base
    URL, and the app (its runtime is in app.state once started)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-under-test")
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                pytest.fail("uvicorn did not start")
            thread.join(0.05)
        yield f"http://127.0.0.1:{server.config.port}", app
    finally:
        server.should_exit = True
        thread.join(60)


class Gate:
    """Holds every Store.record at its start while closed (the write then waits, as one
    behind a long write would); says when a write has reached it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.open.set()
        self.reached = threading.Event()
        original = Store.record

        def record(store: Store, *aggregates: Any) -> int:
            if not self.open.is_set():
                self.reached.set()
                assert self.open.wait(120), "the test never opened the gate"
            return original(store, *aggregates)

        monkeypatch.setattr(Store, "record", record)


def watch_waiting(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set when a repeat has looked at its key and found the first still running."""
    waiting = threading.Event()
    original = idempotency.find

    def find(*args: Any, **kwargs: Any) -> idempotency.Claim | None:
        found = original(*args, **kwargs)
        if found is not None and found.state == "pending":
            waiting.set()
        return found

    monkeypatch.setattr(idempotency, "find", find)
    return waiting


@pytest.fixture
def gated(settings: Settings, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch):
    def start(**changes: Any) -> Any:
        """The app with these settings changed, under uvicorn."""
        return uvicorn_serving(create_app(msgspec.structs.replace(settings, **changes)))

    return start, Gate(monkeypatch)


def test_a_retry_after_the_client_timed_out_waits_and_gets_the_first_answer(gated, monkeypatch):
    start, gate = gated
    waiting = watch_waiting(monkeypatch)
    with start(idempotency_wait_seconds=60) as (base, _):
        secret = onboard_over_http(base, "slow-write").secret
        url = f"{base}/v1/tenants/slow-write/terms/amendments"
        headers = bearer(secret) | key("retry-me")
        gate.open.clear()
        with pytest.raises(httpx.ReadTimeout):  # the client gives up; the server goes on
            httpx.post(url, json=amendment("once"), headers=headers, timeout=0.5)
        assert gate.reached.wait(60)

        with ThreadPoolExecutor(1) as pool:
            retry = pool.submit(
                httpx.post, url, json=amendment("once"), headers=headers, timeout=120
            )
            assert waiting.wait(60)  # the retry found the first request still running
            gate.open.set()
            answer = retry.result(timeout=120)

        assert answer.status_code == 201, answer.text
        assert answer.headers[REPLAYED] == "true"
        assert answer.headers["concord-position"]
        with httpx.Client(base_url=base) as http:
            events = log_of(http, "slow-write", secret)
        assert proposals(events, "once") == 1
        assert answer.json()["amendment_id"] in {e["data"].get("amendment_id") for e in events}


def test_a_repeat_of_a_running_request_answers_in_progress_then_unknown_past_the_lease(
    gated,
):
    start, gate = gated
    app_settings = {"idempotency_wait_seconds": 0.2, "idempotency_lease_seconds": 60}
    with start(**app_settings) as (base, app):
        secret = onboard_over_http(base, "held").secret
        url = f"{base}/v1/tenants/held/terms/amendments"
        headers = bearer(secret) | key("held-key")
        gate.open.clear()
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(
                httpx.post, url, json=amendment("held"), headers=headers, timeout=120
            )
            assert gate.reached.wait(60)
            in_progress = httpx.post(url, json=amendment("held"), headers=headers, timeout=60)
            problem = assert_problem(in_progress, 409, "idempotency-request-in-progress")
            assert in_progress.headers["retry-after"] == "1"

            runtime: Runtime = app.state.runtime
            real = runtime.clock
            runtime.clock = lambda: real() + timedelta(seconds=61)
            unknown = httpx.post(url, json=amendment("held"), headers=headers, timeout=60)
            problem = assert_problem(unknown, 409, "idempotency-outcome-unknown")
            assert "may or may not have been recorded" in problem["detail"]
            assert problem["original_path"] == "/v1/tenants/held/terms/amendments"
            runtime.clock = real

            gate.open.set()
            done = first.result(timeout=120)
        replayed = httpx.post(url, json=amendment("held"), headers=headers, timeout=60)
        assert done.status_code == 201, done.text
        assert replayed.headers[REPLAYED] == "true" and replayed.content == done.content
        with httpx.Client(base_url=base) as http:
            assert proposals(log_of(http, "held", secret), "held") == 1


# --------------------------------------------------------- many processes racing at once


def test_writers_sending_one_key_at_once_record_it_once_and_all_get_one_answer(settings, tmp_path):
    threads = 8
    # PostgreSQL: two API processes race for the claim; SQLite is served by one process
    # (its request threads race).
    workers = 2 if settings.uses_postgres else 1
    with serve(settings, tmp_path, workers=workers) as server:
        alliance = onboard_over_http(server.base, "racing")
        for round_ in range(3):
            marker = f"race-{round_}"
            barrier = threading.Barrier(threads)

            def send(_: int, marker: str = marker, barrier: threading.Barrier = barrier) -> Any:
                with alliance.client() as http:
                    barrier.wait(timeout=60)
                    return http.post(
                        "/terms/amendments", json=amendment(marker), headers=key(marker)
                    )

            with ThreadPoolExecutor(threads) as pool:
                answers = list(pool.map(send, range(threads)))

            assert [a.status_code for a in answers] == [201] * threads, (
                [(a.status_code, a.text[:300]) for a in answers if a.status_code != 201],
                server.log.read_text(errors="replace")[-6000:],
            )
            assert len({a.content for a in answers}) == 1
            assert sum(REPLAYED not in a.headers for a in answers) == 1
            assert proposals(alliance.all_events(), marker) == 1
