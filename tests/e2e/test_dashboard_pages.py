"""The national dashboard's pages over HTTP (no browser), on SQLite and PostgreSQL: sign-in
and its refusals, the session cookie and what ends it, CSRF, bad addresses, and what the
directory, detail and CSV pages show. The same pages in Chromium: tests/browser/."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.values import Role
from infra.keys import key_digest
from infra.rate_limits import TokenBuckets
from infra.settings import Settings
from services import access
from services.api import dashboard
from services.api.dashboard import FORM_COOKIE, SESSION_COOKIE
from tests.conftest import ADMIN, ADMIN_KEY, bearer

SIGN_IN = "/dashboard/sign-in"
#: A founding officer's name: personal data the umbrella must never be shown.
PERSON = "Zenobia Canary-Person"


@pytest.fixture
def web(client: TestClient[Any]) -> TestClient[Any]:
    """The test client as a browser on HTTPS: it keeps the Secure cookies it is given and
    sends them back (only) under /dashboard."""
    client.base_url = "https://testserver.local"  # type: ignore[assignment]
    return client


def runtime_of(client: TestClient[Any]) -> Any:
    return client.app.state.runtime


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return html.unescape(found.group(1))


def alert_of(page: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', page)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1)).strip()


def slugs_of(page: str) -> list[str]:
    return re.findall(r'<tr data-slug="([^"]+)"', page)


def sign_in(web: TestClient[Any], key: str) -> Any:
    form = web.get(SIGN_IN)
    assert form.status_code == 200
    return web.post(SIGN_IN, data={"key": key, "csrf": csrf_of(form.text)}, follow_redirects=False)


def session_cookie(web: TestClient[Any]) -> str | None:
    return web.cookies.get(SESSION_COOKIE, path="/dashboard")


def use_cookie(web: TestClient[Any], value: str) -> None:
    web.cookies.delete(SESSION_COOKIE)
    web.cookies.set(SESSION_COOKIE, value, domain="testserver.local", path="/dashboard")


def signed_in(web: TestClient[Any], key: str = ADMIN_KEY) -> str:
    answer = sign_in(web, key)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard"
    cookie = session_cookie(web)
    assert cookie
    return cookie


def refused_to_sign_in(web: TestClient[Any]) -> None:
    """Redirected to the sign-in form (and the cookie cleared), as a browser would be."""
    answer = web.get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == SIGN_IN


def platform_key(client: TestClient[Any], label: str) -> access.IssuedKey:
    return access.issue_key(
        runtime_of(client), tenant=None, role=Role.PLATFORM_ADMIN, label=label, issued_by="test"
    )


def onboard(client: TestClient[Any], slug: str, **fields: Any) -> dict[str, Any]:
    body = {"slug": slug, "name": f"{slug.title()} Alliance", **fields}
    answer = client.post("/v1/tenants", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def today(client: TestClient[Any]) -> Any:
    return runtime_of(client).clock().date()


def onboard_several(client: TestClient[Any]) -> None:
    """Five alliances over the API: healthy ones, one with vacant required seats (needs
    attention), two that held none of the meetings their ToR required since a start
    date months ago (at risk)."""
    start = today(client)
    onboard(client, "alpha", region="North", template="kinship-care")
    onboard(client, "bravo", region="North", template="children-in-care")
    onboard(client, "charlie", region="South", template="family-justice")
    onboard(
        client,
        "delta",
        region="South",
        template="separated-families",
        start_date=(start - timedelta(days=330)).isoformat(),
    )
    onboard(
        client,
        "echo",
        region="East",
        template="children-in-care",
        start_date=(start - timedelta(days=300)).isoformat(),
        officers=[{"office": "co-chair", "organisation": "Coram Voice", "person_name": PERSON}],
    )


# ----------------------------------------------------------------------------- sign-in


def test_signing_in_sets_a_strict_http_only_secure_cookie_that_never_holds_the_key(web):
    answer = sign_in(web, ADMIN_KEY)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard"
    [header] = [
        h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")
    ]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=strict" in header
    assert "Path=/dashboard;" in header + ";"
    assert "Max-Age=28800" in header  # 8 hours, the default
    value = session_cookie(web)
    assert value is not None
    assert ADMIN_KEY not in value and key_digest(ADMIN_KEY) not in value
    payload = json.loads(base64.urlsafe_b64decode(value.split(".")[0] + "=="))
    assert payload[0] == access.authenticate(runtime_of(web), ADMIN_KEY).key_id
    page = web.get("/dashboard")
    assert page.status_code == 200
    assert "<h1>National directory</h1>" in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text.lower()


def test_the_sign_in_form_carries_a_token_tied_to_a_strict_nonce_cookie(web):
    form = web.get(SIGN_IN)

    assert form.status_code == 200
    [header] = form.headers.get_list("set-cookie")
    assert header.startswith(FORM_COOKIE + "=")
    assert "HttpOnly" in header and "Secure" in header and "SameSite=strict" in header
    assert 'type="password"' in form.text
    assert "form-action 'self'" in form.headers["content-security-policy"]


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_a_sign_in_without_the_forms_token_is_refused(web, token):
    web.get(SIGN_IN)

    answer = web.post(SIGN_IN, data={"key": ADMIN_KEY, "csrf": token}, follow_redirects=False)

    assert answer.status_code == 403
    assert "did not come from this site" in alert_of(answer.text)
    assert session_cookie(web) is None


def test_a_sign_in_token_is_worth_nothing_with_another_nonce(web, client):
    token = csrf_of(web.get(SIGN_IN).text)
    web.cookies.delete(FORM_COOKIE)
    web.cookies.set(FORM_COOKIE, "A" * 24, domain="testserver.local", path="/dashboard")

    answer = web.post(SIGN_IN, data={"key": ADMIN_KEY, "csrf": token}, follow_redirects=False)

    assert answer.status_code == 403
    assert session_cookie(web) is None


def test_sign_in_refuses_a_tenant_key_a_revoked_key_and_garbage_alike(web, client):
    tenant_key = onboard(client, "alpha", region="North", template="kinship-care")["admin_key"]
    revoked = platform_key(client, "to be revoked")
    access.revoke_key(runtime_of(client), key_id=revoked.key_id, tenant=None, revoked_by="test")

    answers = {
        "tenant admin key": sign_in(web, tenant_key["secret"]),
        "revoked platform key": sign_in(web, revoked.secret),
        "garbage": sign_in(web, "garbage-garbage-garbage"),
        "nothing": sign_in(web, "   "),
    }

    for what, answer in answers.items():
        assert answer.status_code == 403, what
        assert alert_of(answer.text) == "Not a platform-admin key.", what
        assert session_cookie(web) is None, what
    # The same page whatever the reason: it says nothing of which it was.
    bodies = {re.sub(r'value="[^"]*"', "", a.text) for a in answers.values()}
    assert len(bodies) == 1


def test_sign_in_attempts_are_budgeted_per_client(web, client):
    client.app.state["dashboard_sign_ins"] = TokenBuckets(3)

    statuses = [sign_in(web, "garbage-garbage-garbage").status_code for _ in range(3)]
    over = sign_in(web, ADMIN_KEY)

    assert statuses == [403, 403, 403]
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in alert_of(over.text)
    assert session_cookie(web) is None


def test_the_bearer_header_is_no_way_into_the_dashboard(web):
    answer = web.get("/dashboard", headers=ADMIN, follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == SIGN_IN


# ----------------------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    "path", ["/dashboard", "/dashboard/a/alpha", "/dashboard/export.csv?sort=name"]
)
def test_a_page_without_a_session_redirects_to_sign_in(web, path):
    answer = web.get(path, follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == SIGN_IN


def test_a_form_sent_without_a_session_is_401(web):
    answer = web.post("/dashboard/sign-out", data={"csrf": "x"}, follow_redirects=False)

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "Sign in" in alert_of(answer.text)


def tampered(value: str) -> list[str]:
    payload, signature = value.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=="))
    longer = [fields[0], fields[1], fields[2], fields[3] + 3600]
    forged = base64.urlsafe_b64encode(json.dumps(longer).encode()).decode().rstrip("=")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [f"{forged}.{signature}", f"{payload}.{flipped}", payload, "garbage", f"{payload}."]


def test_a_tampered_session_cookie_is_refused(web):
    value = signed_in(web)

    for bad in tampered(value):
        use_cookie(web, bad)
        refused_to_sign_in(web)
    use_cookie(web, value)
    assert web.get("/dashboard").status_code == 200


def test_a_session_expires_after_its_lifetime(web, client):
    runtime = runtime_of(client)
    start = runtime.clock().replace(microsecond=0)
    runtime.clock = lambda: start
    signed_in(web)
    runtime.clock = lambda: start + timedelta(hours=8) - timedelta(seconds=1)
    assert web.get("/dashboard").status_code == 200

    runtime.clock = lambda: start + timedelta(hours=8)

    refused_to_sign_in(web)


def test_a_session_signed_with_another_secret_is_refused(web, client):
    runtime = runtime_of(client)
    key_id = access.authenticate(runtime, ADMIN_KEY).key_id
    now = int(runtime.clock().timestamp())
    token = dashboard.Token(key_id=key_id, session_id="s" * 24, issued_at=now, expires_at=now + 60)
    use_cookie(web, dashboard.seal(b"another secret entirely, 32 bytes", token))
    refused_to_sign_in(web)
    use_cookie(web, dashboard.seal(dashboard.session_secret(runtime.settings), token))
    assert web.get("/dashboard").status_code == 200


def test_revoking_the_key_ends_its_sessions(web, client):
    second = platform_key(client, "second admin")
    signed_in(web, second.secret)
    assert web.get("/dashboard").status_code == 200

    access.revoke_key(runtime_of(client), key_id=second.key_id, tenant=None, revoked_by="test")

    refused_to_sign_in(web)
    assert session_cookie(web) is None  # the refusal cleared the cookie


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(web):
    copy = signed_in(web)
    page = web.get("/dashboard")
    assert "Sign out" in page.text

    bad = web.post("/dashboard/sign-out", data={"csrf": "forged"}, follow_redirects=False)
    assert bad.status_code == 403
    assert web.get("/dashboard").status_code == 200  # a forged form ended nothing

    out = web.post("/dashboard/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)

    assert out.status_code == 303
    assert out.headers["location"].startswith(SIGN_IN)
    assert session_cookie(web) is None
    assert "You have signed out." in web.get(out.headers["location"]).text
    use_cookie(web, copy)
    refused_to_sign_in(web)


def test_one_sessions_form_token_is_refused_by_another_session(web, client):
    signed_in(web)
    first_token = csrf_of(web.get("/dashboard").text)
    web.cookies.clear()
    signed_in(web)

    answer = web.post("/dashboard/sign-out", data={"csrf": first_token}, follow_redirects=False)

    assert answer.status_code == 403
    assert web.get("/dashboard").status_code == 200


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("sort=bogus", "sort: must be one of slug, name"),
        ("order=up", "order: must be one of asc, desc"),
        ("state=sad", "state: must be one of healthy, needs-attention, at-risk, unknown"),
        ("status=gone", "status: must be one of active, suspended"),
        ("limit=0", "limit: must be a whole number from 1 to 200"),
        ("limit=many", "limit: must be a whole number from 1 to 200"),
        ("after=%25%25%25", "after: not a cursor of this listing"),
        ("after=WyJ4IiwieSJd&sort=state", "after: not a cursor of this listing"),
        ("sate=healthy", "sate: not something the dashboard understands"),
        ("region=North&region=South", "region: given more than once"),
        ("region=" + "x" * 150, "region:"),
    ],
)
def test_bad_query_values_get_a_400_page_saying_what_is_wrong(web, query, says):
    signed_in(web)

    for path in ("/dashboard", "/dashboard/export.csv"):
        answer = web.get(f"{path}?{query}")
        assert answer.status_code == 400, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
        assert alert_of(answer.text).startswith(says), alert_of(answer.text)


def test_an_unknown_alliance_or_page_gets_the_404_page(web):
    signed_in(web)

    for path in ("/dashboard/a/no-such-alliance", "/dashboard/nothing/here"):
        answer = web.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>Not found</h1>" in answer.text


def test_the_pages_are_not_operations_of_the_api(web):
    schema = web.get("/schema/openapi.json").json()

    assert not [p for p in schema["paths"] if p.startswith("/dashboard")]


# ----------------------------------------------------------------------------- content


def test_the_directory_filters_counts_and_sorts_by_state(web, client):
    onboard_several(client)
    signed_in(web)

    everything = web.get("/dashboard")
    at_risk = web.get("/dashboard?state=at-risk")
    south = web.get("/dashboard?region=South&sort=name&order=asc")
    cic = web.get("/dashboard?template=children-in-care&sort=slug&order=asc")
    attention = web.get("/dashboard?state=needs-attention")

    # Worst first by default: at risk, then needs attention, then healthy (slug breaks ties).
    assert slugs_of(everything.text) == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert "5 alliances match" in everything.text
    assert sorted(slugs_of(at_risk.text)) == ["delta", "echo"]
    assert "2 alliances match" in at_risk.text
    assert slugs_of(south.text) == ["charlie", "delta"]
    assert slugs_of(cic.text) == ["bravo", "echo"]
    assert slugs_of(attention.text) == ["charlie"]
    assert "Needs attention" in attention.text  # the state in words, not colour alone
    assert "required seat(s) or office(s) vacant" in attention.text
    assert "<caption>" in everything.text and 'scope="col"' in everything.text
    assert 'aria-sort="descending"' in everything.text
    assert slugs_of(web.get("/dashboard?state=unknown").text) == []
    assert '<a href="/dashboard/a/delta">' in everything.text


def test_the_directory_pages_with_next_page_links_until_the_last(web, client):
    onboard_several(client)
    signed_in(web)
    path: str | None = "/dashboard?sort=name&order=asc&limit=2"
    seen: list[list[str]] = []

    while path is not None:
        page = web.get(path)
        assert page.status_code == 200
        seen.append(slugs_of(page.text))
        found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', page.text)
        path = html.unescape(found.group(1)) if found else None

    assert seen == [["alpha", "bravo"], ["charlie", "delta"], ["echo"]]


def test_the_csv_link_carries_the_filters_and_gives_the_apis_csv(web, client):
    onboard_several(client)
    signed_in(web)
    page = web.get("/dashboard?region=South&sort=name&order=asc")
    link = html.unescape(re.search(r'<a href="([^"]+)" class="export"', page.text).group(1))

    mine = web.get(link)
    api = client.get("/v1/directory/export.csv?region=South&sort=name&order=asc", headers=ADMIN)

    assert link.startswith("/dashboard/export.csv?")
    assert mine.status_code == 200
    assert mine.headers["content-type"].startswith("text/csv")
    assert "attachment" in mine.headers["content-disposition"]
    assert mine.text == api.text
    rows = mine.text.strip().split("\r\n")
    assert [r.split(",")[0] for r in rows[1:]] == ["charlie", "delta"]


def test_the_detail_page_shows_the_health_the_calendar_and_the_misses(web, client):
    onboard_several(client)
    signed_in(web)
    # Misses are recorded when health is computed (after each change, daily, or now):
    assert client.post("/v1/directory/refresh", headers=ADMIN).status_code == 200
    api = client.get("/v1/directory/delta", headers=ADMIN).json()

    page = web.get("/dashboard/a/delta")

    assert page.status_code == 200
    text = page.text
    assert "At risk" in text
    for reason in api["health"]["reasons"]:
        assert html.escape(reason) in text
    calendar = re.search(r'<table class="obligations">.*?</table>', text, re.S).group(0)
    assert calendar.count("<tr class=") == len(api["obligations"])
    for obligation in api["obligations"]:
        assert html.escape(obligation["title"]) in calendar
    missed = re.search(r'<table class="missed">.*?</table>', text, re.S).group(0)
    assert len(api["missed"]) > 0
    assert missed.count("<code>") == len(api["missed"])
    assert "Due</th>" in calendar and "Clause</th>" in calendar and "Owner</th>" in calendar


def test_no_persons_name_reaches_a_dashboard_page_or_the_csv(web, client):
    onboard_several(client)
    signed_in(web)

    pages = [
        web.get("/dashboard").text,
        web.get("/dashboard/a/echo").text,
        web.get("/dashboard/export.csv").text,
    ]

    assert (
        PERSON
        in client.get(
            "/v1/tenants/echo/offices/co-chair",
            headers=bearer(platform_tenant_key(client, "echo")),
        ).text
    )
    for text in pages:
        assert PERSON not in text
        assert "Coram Voice" not in text


def platform_tenant_key(client: TestClient[Any], slug: str) -> str:
    issued = access.issue_key(
        runtime_of(client), tenant=slug, role=Role.TENANT_ADMIN, label="t", issued_by="test"
    )
    return issued.secret


# ----------------------------------------------------------------------------- known bug


def test_the_apis_cursor_of_another_sort_is_refused_with_a_4xx(client):
    for slug in ("alpha", "bravo"):
        onboard(client, slug, region="North", template="kinship-care")
    cursor = client.get("/v1/directory?sort=state&limit=1", headers=ADMIN).json()["next_after"]

    answer = client.get(f"/v1/directory?sort=name&limit=1&after={cursor}", headers=ADMIN)

    assert 400 <= answer.status_code < 500


def test_the_session_secret_is_the_configured_one_or_the_signing_keys_own(tmp_path):
    shared = str(tmp_path / "shared")
    one = dashboard.session_secret(Settings(data_dir=shared))
    other_process = dashboard.session_secret(Settings(data_dir=shared, port=8001))
    elsewhere = dashboard.session_secret(Settings(data_dir=str(tmp_path / "elsewhere")))
    configured = dashboard.session_secret(
        Settings(data_dir=shared, dashboard_session_secret="s" * 32)
    )

    assert one == other_process  # every process with the same signing key agrees
    assert one != elsewhere  # another signing key: another secret
    assert configured not in (one, elsewhere)
    assert len({one, configured}) == 2 and len(one) == 32


def test_an_oversized_or_foreign_sign_in_body_is_refused_with_a_page(web):
    csrf = csrf_of(web.get(SIGN_IN).text)

    huge = web.post(SIGN_IN, data={"key": "k" * 70_000, "csrf": csrf}, follow_redirects=False)
    as_json = web.post(SIGN_IN, json={"key": ADMIN_KEY, "csrf": csrf}, follow_redirects=False)

    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("text/html")
    assert as_json.status_code == 403  # not the form: no token, no session
    assert session_cookie(web) is None
