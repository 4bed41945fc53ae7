"""Request budgets per key and per alliance over HTTP: 429 with Retry-After and a problem
document, keyed by the authenticated key (a spoofed client address changes nothing), and
exact under a concurrent burst."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from litestar.testing import TestClient

from services.api.app import create_app
from tests.conftest import ADMIN, bearer


@pytest.fixture
def limited(settings):
    configured = msgspec.structs.replace(settings, rate_limit_per_key=5, rate_limit_per_tenant=8)
    with TestClient(create_app(configured)) as client:
        yield client


def onboard(client, slug):
    response = client.post(
        "/v1/tenants",
        json={"slug": slug, "name": "Kent FJA", "region": "Kent", "template": "family-justice"},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["admin_key"]["secret"])


def new_key(client, slug, key):
    response = client.post(
        f"/v1/tenants/{slug}/keys", json={"role": "auditor", "label": "audit"}, headers=key
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["secret"])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_key_over_its_budget_gets_429_with_retry_after_whatever_address_it_claims(limited):
    key = onboard(limited, "kent-fja")
    statuses = []
    for number in range(7):
        spoofed = {"X-Forwarded-For": f"10.0.0.{number}", "X-Real-IP": f"10.0.1.{number}"}
        statuses.append(limited.get("/v1/tenants/kent-fja", headers=key | spoofed))
    assert [r.status_code for r in statuses] == [200] * 5 + [429, 429]
    refused = statuses[-1]
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["type"] == "urn:concord:problem:rate-limited"
    assert body["status"] == 429 and "5 requests in a minute" in body["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_keys_of_one_alliance_share_its_budget_and_other_alliances_are_untouched(limited):
    first = onboard(limited, "kent-fja")
    second = new_key(limited, "kent-fja", first)  # 2 of the alliance's 8 spent
    assert [limited.get("/v1/tenants/kent-fja", headers=first).status_code for _ in range(3)] == [
        200
    ] * 3
    answers = [limited.get("/v1/tenants/kent-fja", headers=second).status_code for _ in range(4)]
    assert answers == [200] * 4  # the alliance's 8 are spent (1 key made + 3 + 4 reads)
    refused = limited.get("/v1/tenants/kent-fja", headers=second)  # second key: 4 of its 5
    assert refused.status_code == 429
    assert "alliance" in refused.json()["detail"]
    other = onboard(limited, "surrey-fja")
    assert limited.get("/v1/tenants/surrey-fja", headers=other).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_concurrent_burst_gets_exactly_the_budget(limited):
    key = onboard(limited, "kent-fja")
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(
                lambda _: limited.get("/v1/tenants/kent-fja", headers=key).status_code, range(24)
            )
        )
    assert sorted(statuses) == [200] * 5 + [429] * 19


@pytest.mark.parametrize("backend", ["sqlite"])
def test_requests_without_a_valid_key_are_refused_before_any_budget_is_spent(limited):
    key = onboard(limited, "kent-fja")
    for _ in range(10):
        assert (
            limited.get("/v1/tenants/kent-fja", headers=bearer("cnc_not-a-key")).status_code == 401
        )
    assert limited.get("/v1/tenants/kent-fja", headers=key).status_code == 200
