"""Bad input gets a clear 4xx problem answer and changes nothing; never a 500 or a trace."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN

GOOD = {"slug": "kent-fja", "name": "Kent", "region": "Kent", "template": "family-justice"}
JSON = {**ADMIN, "Content-Type": "application/json"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def assert_nothing_onboarded(client) -> None:
    assert client.get("/v1/tenants", headers=ADMIN).json()["items"] == []


@pytest.mark.parametrize(
    "slug",
    [
        "K",  # too short and upper case
        "Kent-FJA",  # upper case
        "1kent",  # starts with a digit
        "-kent",  # starts with a hyphen
        "kent_fja",  # underscore
        "kent fja",  # space
        "a" * 41,  # too long
        "kent;drop table directory",  # SQL
        'tenant_x"; DROP SCHEMA platform CASCADE; --',
        "kënt",  # non-ASCII
        "",
    ],
)
def test_bad_slugs_are_refused_before_anything_is_built(client, slug):
    response = client.post("/v1/tenants", json={**GOOD, "slug": slug}, headers=ADMIN)

    body = assert_problem(response, 422)
    assert "slug" in body["detail"]
    assert_nothing_onboarded(client)


def test_malformed_json_is_a_bad_request(client):
    response = client.post("/v1/tenants", content=b'{"slug": "kent-fja",', headers=JSON)

    body = assert_problem(response, 400)
    assert "JSON" in body["title"]
    assert_nothing_onboarded(client)


def test_unknown_fields_are_refused_by_name(client):
    response = client.post("/v1/tenants", json={**GOOD, "status": "active"}, headers=ADMIN)

    body = assert_problem(response, 422)
    assert "status" in body["detail"]
    assert_nothing_onboarded(client)


@pytest.mark.parametrize(
    "change",
    [
        {"name": 42},
        {"name": ""},
        {"name": "x" * 201},
        {"region": None},
        {"template": ["family-justice"]},
        {"slug": {"$ne": ""}},
    ],
)
def test_wrong_types_and_lengths_are_refused(client, change):
    response = client.post("/v1/tenants", json={**GOOD, **change}, headers=ADMIN)

    assert_problem(response, 422)
    assert_nothing_onboarded(client)


def test_missing_fields_are_named(client):
    response = client.post("/v1/tenants", json={"slug": "kent-fja"}, headers=ADMIN)

    body = assert_problem(response, 422)
    assert "name" in body["detail"]


@pytest.mark.parametrize("payload", [b"[]", b'"kent"', b"null", b"42"])
def test_a_body_that_is_not_an_object_is_refused(client, payload):
    response = client.post("/v1/tenants", content=payload, headers=JSON)

    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_an_oversize_body_is_refused_before_it_is_read_whole(client):
    huge = b'{"slug": "kent-fja", "name": "' + b"x" * 200_000 + b'"}'

    response = client.post("/v1/tenants", content=huge, headers=JSON)

    assert_problem(response, 413)
    assert_nothing_onboarded(client)


def test_a_suspension_needs_a_reason(client, onboard):
    onboard("kent-fja")

    for body in ({}, {"reason": ""}, {"reason": "x", "by": "someone else"}):
        assert_problem(client.post("/v1/tenants/kent-fja/suspend", json=body, headers=ADMIN), 422)
    assert client.get("/v1/tenants/kent-fja", headers=ADMIN).json()["tenant"]["status"] == "active"


@pytest.mark.parametrize(
    "params", [{"after": "-1"}, {"after": "abc"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}]
)
def test_bad_log_paging_is_refused(client, onboard, params):
    key = onboard("kent-fja")["admin_key"]["secret"]

    response = client.get(
        "/v1/tenants/kent-fja/events", params=params, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_unknown_paths_and_methods_are_problems_too(client):
    assert_problem(client.get("/v1/nothing-here", headers=ADMIN), 404)
    assert_problem(client.put("/v1/tenants", json={}, headers=ADMIN), 405)


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/tenants/kent-fja/work-plans/{HUGE}",
        "/v1/tenants/kent-fja/work-plans/1999",
        f"/v1/tenants/kent-fja/terms/versions/{HUGE}",
        f"/v1/tenants/kent-fja/events?after={HUGE}",
        f"/v1/tenants/kent-fja/applications?after={HUGE}",
        f"/v1/tenants/kent-fja/members?after={HUGE}",
        f"/v1/tenants/kent-fja/working-groups?after={HUGE}",
        f"/v1/tenants/kent-fja/terms/amendments?after={HUGE}",
        "/v1/tenants/kent-fja/members?after=-1",
    ],
)
def test_numbers_out_of_range_are_refused_not_crashed(client, onboard, path):
    key = onboard("kent-fja")["admin_key"]["secret"]

    body = assert_problem(client.get(path, headers={"Authorization": f"Bearer {key}"}), 422)

    assert body["type"] == "urn:concord:problem:invalid-request"
