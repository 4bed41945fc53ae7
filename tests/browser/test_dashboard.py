"""The national dashboard in a real browser (headless Chromium), served by a real
`concord serve` on SQLite and on PostgreSQL and filled by `concord demo --umbrella` (five
alliances of every template, healthy and not) plus one alliance with hostile text made
over the HTTP API: sign-in and its cookie, the directory's filters, sorting and pages, the
detail page, the CSV download, and every way a session ends or is refused.

Screenshots go to test-artifacts/screenshots/; with CONCORD_TEST_UPDATE_SCREENSHOTS=1 the
SQLite run also refreshes the copies committed under docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from domain.api_key import ApiKey
from infra.keys import key_digest
from infra.settings import Settings
from services.api import dashboard
from services.api.dashboard import SESSION_COOKIE
from tests.browser.conftest import HOSTILE, LOCAL, ROOT, Site, Tab
from tests.browser.test_public_pages import CONTRAST_JS, MIN_CONTRAST
from tests.conftest import ADMIN_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Response

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("CONCORD_TEST_UPDATE_SCREENSHOTS") == "1"
HOSTILE_SLUG = "hostile-dashboard"
HOSTILE_NAME = f"Dashboard {HOSTILE} Alliance"
HOSTILE_REGION = "Region <b>bold</b>"
REFUSED = "Not a platform-admin key."


@pytest.fixture(scope="module")
def umbrella(umbrella_site: Site) -> Site:
    """The umbrella, and one more alliance (over the API) with markup in its name and region."""
    with umbrella_site.http() as client:
        answer = client.post(
            "/v1/tenants",
            json={
                "slug": HOSTILE_SLUG,
                "name": HOSTILE_NAME,
                "region": HOSTILE_REGION,
                "template": "kinship-care",
            },
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        assert answer.status_code == 201, answer.text
    return umbrella_site


@pytest.fixture
def tab(umbrella: Site, browser: Browser) -> Iterator[Tab]:
    assert umbrella.running()
    context = browser.new_context(java_script_enabled=True, service_workers="block")
    try:
        yield Tab(umbrella, context)
    finally:
        context.close()


def api_directory(site: Site, query: str = "") -> list[dict[str, Any]]:
    with site.http() as client:
        answer = client.get(
            f"/v1/directory?limit=200{query}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def sign_in(tab: Tab, key: str) -> Response:
    """Fill and send the sign-in form; the answer to the form's POST."""
    tab.open("/dashboard/sign-in")
    tab.page.fill("#key", key)
    with tab.page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/dashboard/sign-in")
    ) as sent:
        tab.page.click("form.sign-in button[type=submit]")
    tab.page.wait_for_load_state("load")
    return sent.value


def signed_in(tab: Tab, key: str = ADMIN_KEY) -> dict[str, Any]:
    answer = sign_in(tab, key)
    assert answer.status == 303, answer.text()
    assert tab.page.url == tab.site.url("/dashboard")
    return session_cookie(tab)


def session_cookie(tab: Tab) -> dict[str, Any]:
    found = [c for c in tab.context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(found) == 1, tab.context.cookies()
    return dict(found[0])


def has_session(tab: Tab) -> bool:
    return any(c["name"] == SESSION_COOKIE for c in tab.context.cookies())


def put_cookie(tab: Tab, value: str) -> None:
    tab.context.clear_cookies()
    tab.context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": value,
                "domain": LOCAL,
                "path": "/dashboard",
                "httpOnly": True,
                "secure": True,
                "sameSite": "Strict",
            }
        ]
    )


def shown_slugs(tab: Tab) -> list[str]:
    return [
        str(row.get_attribute("data-slug"))
        for row in tab.page.locator("table.directory tbody tr").all()
    ]


def check_dashboard_page(tab: Tab, response: Response, *, status: int = 200) -> None:
    """What every dashboard page must be: HTML under its CSP, no script, one h1, the
    landmarks, readable contrast, no dialog, no console error."""
    page = tab.page
    assert response.status == status, f"{page.url}: {response.status}"
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "form-action 'self'" in csp, csp
    assert response.headers.get("cache-control") == "no-store"
    assert page.locator("script").count() == 0
    assert page.locator("h1").count() == 1
    assert page.get_by_role("main").count() == 1
    contrast = page.evaluate(CONTRAST_JS, None)
    assert contrast["checked"] >= 5, contrast
    assert contrast["failures"] == [], f"{page.url}: contrast below {MIN_CONTRAST}: {contrast}"
    assert tab.dialogs == [], tab.dialogs
    errors = [(u, t) for u, t in tab.console_errors if status == 200 or u != page.url]
    assert errors == [], errors


def screenshot(tab: Tab, name: str, *, docs_full_page: bool = True) -> Path:
    """The whole page under test-artifacts/; when asked, a copy for docs/screenshots/ (of
    the first screen only, for a page too long to read as one picture)."""
    path = tab.screenshot(name)
    if UPDATE_SCREENSHOTS and tab.site.backend == "sqlite":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = DOCS_SCREENSHOTS / f"{name}.png"
        if docs_full_page:
            shutil.copyfile(path, target)
        else:
            tab.page.screenshot(path=str(target), full_page=False)
    return path


def concord(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("concord")), *args],
        env=site.env,
        cwd=site.stdout.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


# ----------------------------------------------------------------------------- signed in


def test_signing_in_shows_the_umbrellas_directory_with_its_health(tab):
    first = tab.open("/dashboard")
    assert tab.page.url == tab.site.url("/dashboard/sign-in")  # sent to sign in first
    check_dashboard_page(tab, first)

    answer = sign_in(tab, ADMIN_KEY)

    assert answer.status == 303
    assert tab.page.url == tab.site.url("/dashboard")
    cookie = session_cookie(tab)
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/dashboard"
    assert ADMIN_KEY not in cookie["value"] and key_digest(ADMIN_KEY) not in cookie["value"]
    lifetime = cookie["expires"] - datetime.now(UTC).timestamp()
    assert 7 * 3600 < lifetime <= 8 * 3600
    page = tab.page
    response = tab.open("/dashboard")
    check_dashboard_page(tab, response)
    expected = {slug: state for slug, (state, _) in tab.site.umbrella.items()}
    for slug, state in expected.items():
        row = page.locator(f'tr[data-slug="{slug}"]')
        assert row.count() == 1, slug
        words = dashboard.STATES[state]
        assert row.locator(".health .state").inner_text().strip().endswith(words), slug
    # Worst first: every at-risk alliance before every other.
    states = [
        page.locator(f'tr[data-slug="{s}"] .health .state').inner_text() for s in shown_slugs(tab)
    ]
    ranks = [2 if "At risk" in s else 1 if "Needs attention" in s else 0 for s in states]
    assert ranks == sorted(ranks, reverse=True)
    count = len(tab.site.umbrella) + 1
    assert page.locator("#count").inner_text().startswith(f"{count} alliances match")
    assert page.locator("table.directory caption").count() == 1
    assert page.locator('table.directory thead th[scope="col"]').count() == 11
    # The hostile alliance's markup is shown as text, never run or rendered.
    hostile = page.locator(f'tr[data-slug="{HOSTILE_SLUG}"] th[scope="row"] a')
    assert hostile.inner_text().strip() == HOSTILE_NAME
    assert page.locator(f'tr[data-slug="{HOSTILE_SLUG}"] td').nth(0).inner_text() == (
        HOSTILE_REGION
    )
    assert page.locator("table.directory img, table.directory b").count() == 0
    screenshot(tab, "dashboard")


def test_the_filters_narrow_the_directory_to_what_the_api_lists(tab):
    signed_in(tab)
    umbrella = tab.site.umbrella
    a_region = next(
        i["region"] for i in api_directory(tab.site) if i["slug"] in umbrella and i["health"]
    )
    page = tab.page

    page.select_option("#f-region", a_region)
    tab.follow(lambda: page.click("form.filters button[type=submit]"))
    by_region = shown_slugs(tab)
    page.select_option("#f-region", "")
    page.select_option("#f-template", "kinship-care")
    tab.follow(lambda: page.click("form.filters button[type=submit]"))
    by_template = shown_slugs(tab)
    page.select_option("#f-template", "")
    page.select_option("#f-state", "at-risk")
    tab.follow(lambda: page.click("form.filters button[type=submit]"))
    at_risk = shown_slugs(tab)

    api = api_directory(tab.site)
    assert sorted(by_region) == sorted(i["slug"] for i in api if i["region"] == a_region)
    assert sorted(by_template) == sorted(i["slug"] for i in api if i["template"] == "kinship-care")
    assert HOSTILE_SLUG in by_template
    assert sorted(at_risk) == sorted(s for s, (state, _) in umbrella.items() if state == "at-risk")
    assert len(at_risk) >= 1
    assert "state=at-risk" in page.url
    assert page.locator("#f-state").input_value() == "at-risk"  # the form shows the filter
    check_dashboard_page(tab, tab.open(page.url.removeprefix(tab.site.base)))
    screenshot(tab, "dashboard-filtered")


def test_sorting_by_a_column_header_and_paging_with_next_links(tab):
    signed_in(tab)
    page = tab.page
    tab.open("/dashboard?sort=name&order=asc&limit=2")
    names_by_api = [i["slug"] for i in sorted(api_directory(tab.site), key=lambda i: i["name"])]

    pages: list[list[str]] = []
    while True:
        pages.append(shown_slugs(tab))
        following = page.locator('a[rel="next"]')
        if following.count() == 0:
            break
        tab.follow(following.click)

    assert [len(p) for p in pages[:-1]] == [2] * (len(pages) - 1)
    assert [s for p in pages for s in p] == names_by_api
    # The Health header sorts by state; a second click turns the order round.
    tab.open("/dashboard?sort=name&order=asc")
    tab.follow(lambda: page.locator("thead th a", has_text="Health").click())
    worst_first = shown_slugs(tab)
    assert page.locator('th[aria-sort="descending"]').inner_text().startswith("Health")
    tab.follow(lambda: page.locator("thead th a", has_text="Health").click())
    best_first = shown_slugs(tab)
    assert page.locator('th[aria-sort="ascending"]').inner_text().startswith("Health")
    at_risk = {s for s, (state, _) in tab.site.umbrella.items() if state == "at-risk"}
    assert set(worst_first[: len(at_risk)]) == at_risk
    assert set(best_first[-len(at_risk) :]) == at_risk


def test_the_detail_page_shows_indicators_reasons_calendar_and_misses(tab):
    signed_in(tab)
    page = tab.page
    slug = next(s for s, (state, _) in tab.site.umbrella.items() if state == "at-risk")
    with tab.site.http() as client:
        client.post("/v1/directory/refresh", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        api = client.get(
            f"/v1/directory/{slug}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()

    tab.follow(lambda: page.locator(f'tr[data-slug="{slug}"] th a').click())

    assert page.url == tab.site.url(f"/dashboard/a/{slug}")
    check_dashboard_page(tab, tab.open(f"/dashboard/a/{slug}"))
    assert page.locator("h1").inner_text() == api["name"]
    assert page.locator(".state-line .state").inner_text().strip().endswith("At risk")
    assert [r.strip() for r in page.locator("#reasons li").all_inner_texts()] == (
        api["health"]["reasons"]
    )
    headers = page.locator("table.obligations thead th").all_inner_texts()
    assert headers == ["Due", "Kind", "Obligation", "Owner", "State", "Clause"]
    rows = page.locator("table.obligations tbody tr")
    assert rows.count() == len(api["obligations"])
    first = api["obligations"][0]
    cells = rows.nth(0).locator("td").all_inner_texts()
    assert cells[0] == first["due_on"] and cells[1] == first["kind"]
    assert cells[2] == first["title"]
    assert cells[5] == (first["clause"] or "\u2013")
    assert page.locator("table.missed tbody tr").count() == len(api["missed"])
    assert len(api["missed"]) >= 1
    screenshot(tab, "dashboard-detail", docs_full_page=False)
    missing = tab.open("/dashboard/a/no-such-alliance")
    check_dashboard_page(tab, missing, status=404)


def test_the_csv_download_holds_the_filtered_rows(tab):
    signed_in(tab)
    page = tab.page
    tab.open("/dashboard?template=kinship-care&sort=slug&order=asc")

    with page.expect_download() as started:
        page.click("a.export")
    download = started.value
    text = Path(download.path()).read_text(encoding="utf-8")

    assert download.suggested_filename == "concord-directory.csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    api = api_directory(tab.site, "&template=kinship-care&sort=slug&order=asc")
    assert [r["slug"] for r in rows] == [i["slug"] for i in api]
    assert {r["template"] for r in rows} == {"kinship-care"}
    for row, item in zip(rows, api, strict=True):
        assert row["state"] == (item["health"] or {"state": "unknown"})["state"]
    hostile = next(r for r in rows if r["slug"] == HOSTILE_SLUG)
    assert hostile["name"] == HOSTILE_NAME


# ----------------------------------------------------------------------------- refusals


def test_sign_in_is_refused_for_a_tenant_key_and_for_garbage(tab):
    tenant_key = next(iter(tab.site.umbrella.values()))[1]

    for key in (tenant_key, "garbage-that-is-no-key-at-all"):
        answer = sign_in(tab, key)
        assert answer.status == 403
        assert tab.page.locator('[role="alert"]').inner_text().strip() == REFUSED
        assert not has_session(tab)
        assert tab.page.url == tab.site.url("/dashboard/sign-in")
    check_dashboard_page(tab, tab.open("/dashboard/sign-in"))


def test_a_tampered_or_expired_cookie_is_refused(tab):
    value = signed_in(tab)["value"]
    payload, signature = value.split(".")
    secret = dashboard.session_secret(Settings(data_dir=tab.site.env["CONCORD_DATA_DIR"]))
    key_id = str(ApiKey.create_id(key_digest(ADMIN_KEY)))
    now = int(datetime.now(UTC).timestamp())
    expired = dashboard.Token(
        key_id=key_id, session_id="e" * 24, issued_at=now - 9 * 3600, expires_at=now - 3600
    )
    fresh = dashboard.Token(
        key_id=key_id, session_id="f" * 24, issued_at=now - 60, expires_at=now + 3600
    )
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    for bad in (f"{payload}.{flipped}", dashboard.seal(secret, expired), "garbage"):
        put_cookie(tab, bad)
        tab.open("/dashboard")
        assert tab.page.url == tab.site.url("/dashboard/sign-in"), bad
        assert not has_session(tab)  # the refusal cleared it
    # The same secret signing a token in its lifetime is let in: the refusals above were
    # for the tampering and the expiry, not for a secret the test got wrong.
    put_cookie(tab, dashboard.seal(secret, fresh))
    assert tab.open("/dashboard").status == 200
    assert tab.page.url == tab.site.url("/dashboard")


def test_signing_out_ends_the_session(tab):
    value = signed_in(tab)["value"]
    page = tab.page

    tab.follow(lambda: page.click("form.sign-out button[type=submit]"))

    assert page.url.startswith(tab.site.url("/dashboard/sign-in"))
    assert "You have signed out." in page.get_by_role("main").inner_text()
    assert not has_session(tab)
    tab.open("/dashboard")
    assert page.url == tab.site.url("/dashboard/sign-in")
    put_cookie(tab, value)  # a copy of the signed-out cookie is worth nothing
    tab.open("/dashboard")
    assert page.url == tab.site.url("/dashboard/sign-in")


def test_revoking_a_key_ends_its_session(tab):
    created = concord(tab.site, "keys", "create", "--platform", "--label", "browser test")
    secret = created.stdout.strip().splitlines()[-1]
    key_id = created.stderr.strip().rpartition("key id: ")[2].split()[0]
    signed_in(tab, secret)
    assert tab.open("/dashboard").status == 200

    concord(tab.site, "keys", "revoke", key_id)

    tab.open("/dashboard")
    assert tab.page.url == tab.site.url("/dashboard/sign-in")
    assert not has_session(tab)
    with httpx.Client(base_url=tab.site.base, trust_env=False) as client:
        assert (
            client.get("/v1/directory", headers={"Authorization": f"Bearer {secret}"}).status_code
            == 401
        )


def test_no_session_cookie_ever_held_a_key_secret(tab):
    signed_in(tab)
    cookies = tab.context.cookies()

    for cookie in cookies:
        assert "cnc_" not in cookie["value"]
        assert ADMIN_KEY not in cookie["value"]
    assert {c["name"] for c in cookies} == {SESSION_COOKIE}
