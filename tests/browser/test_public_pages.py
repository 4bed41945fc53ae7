"""Each alliance's public pages in a real browser (headless Chromium), served by a real
`concord serve` on SQLite and on PostgreSQL: structure and landmarks, what each page
shows, colour contrast, hostile text shown as text, 404 pages, and the demo's
confidential text reaching neither a page nor the server's output."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from services.demo import CONFIDENTIAL_TEXT, ORGANISATIONS
from tests.browser.conftest import (
    DEMO_NAME,
    DEMO_SLUG,
    HOSTILE,
    RLO,
    ROOT,
    XSS_DECISION,
    XSS_ITEM_TEXT,
    XSS_ITEM_TITLE,
    XSS_MEETING_TITLE,
    XSS_MINUTES,
    XSS_NAME,
    XSS_ORGANISATION,
    XSS_SLUG,
    Site,
    Tab,
)
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.browser

DEMO = f"/a/{DEMO_SLUG}"
XSS = f"/a/{XSS_SLUG}"
#: Page name -> (path under the alliance, the main navigation entry marked current).
DEMO_PAGES = {
    "home": ("/", "Home"),
    "terms": ("/terms", "Terms of Reference"),
    "terms-1": ("/terms/1", "Terms of Reference"),
    "members": ("/members", "Members"),
    "minutes": ("/minutes", "Minutes"),
}
#: Distinctive parts of the canary: neither is in any template, notice or ToR text.
CANARY_PARTS = ("CONFIDENTIAL DEMO TEXT", "discussion of an individual family")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
MIN_CONTRAST = 4.5

#: WCAG 2 contrast of every visible element with text of its own: its colour (with the
#: opacity of it and its ancestors) against the backgrounds behind it, composited from the
#: nearest opaque one (the white canvas when none is).
CONTRAST_JS = r"""
(exclude) => {
  const parse = (value) => {
    if (!/^rgba?\(/.test(value)) return null;
    const p = value.match(/[\d.]+%?/g);
    if (!p || p.length < 3) return null;
    const a = p.length < 4 ? 1 : p[3].endsWith('%') ? parseFloat(p[3]) / 100 : parseFloat(p[3]);
    return { r: +p[0], g: +p[1], b: +p[2], a };
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const contrast = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c === null) return null;
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let n = el; n; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity);
    return o;
  };
  const css = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
  const out = { checked: 0, failures: [] };
  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join('').trim();
    if (!text || (exclude && el.closest(exclude))) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible' || el.getClientRects().length === 0) continue;
    const alpha = opacity(el);
    if (alpha === 0) continue;
    const bg = backdrop(el);
    const color = parse(style.color);
    if (bg === null || color === null) {
      out.failures.push({ tag: el.tagName, text: text.slice(0, 50), color: style.color,
                          background: 'unreadable', ratio: 0 });
      continue;
    }
    const fg = over({ ...color, a: color.a * alpha }, bg);
    const ratio = contrast(fg, bg);
    out.checked += 1;
    if (ratio < MIN_CONTRAST) {
      out.failures.push({ tag: el.tagName, text: text.slice(0, 50), color: css(fg),
                          background: css(bg), ratio: Math.round(ratio * 100) / 100 });
    }
  }
  return out;
}
""".replace("MIN_CONTRAST", str(MIN_CONTRAST))


# ----------------------------------------------------------------------------- checks


def check_page(
    tab: Tab,
    response: Any,
    *,
    status: int = 200,
    current: str | None,
    contrast_exclude: str | None = None,
) -> str:
    """What every public page must be; returns the text of its <main>. `contrast_exclude`:
    a selector left out of the contrast check."""
    page = tab.page
    assert response.status == status, f"{page.url}: {response.status}"
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp, f"{page.url}: Content-Security-Policy {csp!r}"
    assert "<script" not in response.text().lower()
    assert page.locator("script").count() == 0
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").count() == 1, f"{page.url}: not exactly one h1"
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("contentinfo").count() == 1
    # The stylesheet loaded under the policy: headings take the brand colour.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == (
        "rgb(11, 79, 108)"
    )
    if current is not None:
        nav = page.get_by_role("navigation", name="Main")
        assert nav.count() == 1
        marked = nav.locator('[aria-current="page"]')
        assert marked.count() == 1, f"{page.url}: {marked.count()} nav entries marked current"
        assert marked.inner_text().strip() == current
    contrast = page.evaluate(CONTRAST_JS, contrast_exclude)
    assert contrast["checked"] >= 5, contrast
    assert contrast["failures"] == [], f"{page.url}: contrast below {MIN_CONTRAST}"
    assert tab.dialogs == [], tab.dialogs
    # A 404 page reports its own status in the console; nothing else may go wrong.
    errors = [(url, text) for url, text in tab.console_errors if status == 200 or url != page.url]
    assert errors == [], errors
    return str(page.get_by_role("main").inner_text())


def minutes_links(tab: Tab) -> list[tuple[str, str]]:
    """(href, date) of each card on a minutes index page, in page order."""
    links = tab.page.locator(".cards li.card h2 a")
    found = []
    for i in range(links.count()):
        link = links.nth(i)
        text = link.inner_text()
        day = re.search(r"\d{4}-\d{2}-\d{2}$", text.strip())
        assert day is not None, text
        found.append((str(link.get_attribute("href")), day.group(0)))
    return found


def canary_in(text: str) -> list[str]:
    """Which forms of the canary appear in the text (raw or HTML-escaped)."""
    hits = []
    for form in {text, html.unescape(text)}:
        for part in (CONFIDENTIAL_TEXT, html.escape(CONFIDENTIAL_TEXT), *CANARY_PARTS):
            if part in form:
                hits.append(part)
    return hits


# ----------------------------------------------------------------------------- the demo


@pytest.mark.parametrize("name", list(DEMO_PAGES))
def test_each_page_of_the_demo_alliance_is_well_formed(tab: Tab, name: str) -> None:
    path, current = DEMO_PAGES[name]

    response = tab.open(DEMO + path)

    check_page(tab, response, current=current)
    assert tab.page.title().endswith(DEMO_NAME)
    tab.screenshot(f"demo-{name}")


def test_home_shows_the_name_purpose_meetings_minutes_and_clauses(tab: Tab) -> None:
    tab.open(DEMO + "/")
    page = tab.page

    purpose = page.locator("section[aria-labelledby=about] p.prose").inner_text()
    first_clause = page.locator("ol.clauses > li").first.locator("p.prose").inner_text()
    meetings = page.locator("section[aria-labelledby=meetings] li.card")
    latest = page.locator("section[aria-labelledby=latest] li a")

    assert page.locator("h1").inner_text() == DEMO_NAME
    assert page.locator(".brand").inner_text() == DEMO_NAME
    assert purpose.startswith("The Alliance is a group of organisations") and purpose == (
        first_clause
    )
    assert meetings.count() == 2
    assert [meetings.nth(i).locator("h3").inner_text() for i in range(2)] == [
        "Quarterly meeting (1 month ahead)",
        "Quarterly meeting (3 months ahead)",
    ]
    starts = [meetings.nth(i).locator("time").get_attribute("datetime") or "" for i in range(2)]
    assert date.today().isoformat() < starts[0] < starts[1]
    assert latest.count() == 3
    assert page.locator("ol.clauses > li").count() >= 5
    assert "Read them in full" in page.get_by_role("main").inner_text()


def test_minutes_are_newest_first_and_each_link_opens_its_minutes(tab: Tab) -> None:
    tab.open(DEMO + "/minutes")
    links = minutes_links(tab)
    days = [day for _, day in links]

    assert len(links) == 5  # 7 meetings minuted; the last of each body awaits approval
    assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
    assert tab.page.get_by_role("navigation", name="Pages of minutes").count() == 0
    for number, (href, day) in enumerate(links, start=1):
        tab.open(DEMO + "/minutes")
        response = tab.follow(lambda href=href: tab.page.locator(f'a[href="{href}"]').click())
        main = check_page(tab, response, current="Minutes")
        assert tab.page.url == tab.site.url(href)
        assert tab.page.locator("h1").inner_text().endswith(day)
        assert "Commitment" in main and "Digest of these minutes" in main
        tab.screenshot(f"demo-minutes-{number}-{day}")


def test_confidential_items_show_a_notice_and_commitment_never_their_text(tab: Tab) -> None:
    tab.open(DEMO + "/minutes")
    confidential_seen = 0
    for href, _ in minutes_links(tab):
        tab.open(href)
        main = tab.page.get_by_role("main").inner_text()
        assert not canary_in(main) and not canary_in(tab.page.content())
        assert "Case discussion" not in main  # the item's own title is withheld too
        items = tab.page.locator("ol.items > li")
        for i in range(items.count()):
            item = items.nth(i)
            commitment = item.locator("p.commitment code").inner_text()
            assert HEX64.match(commitment), commitment
            if item.locator("h2").inner_text() == "Confidential item":
                confidential_seen += 1
                notice = item.locator('p.notice[role="note"]').inner_text()
                assert "confidential" in notice.lower()
                assert item.locator("p.prose").count() == 0
        digest = tab.page.locator("main > p.commitment code").inner_text()
        assert HEX64.match(digest), digest

    assert confidential_seen == 4  # quarters 2 and 3, of both bodies


def test_members_lists_the_six_organisations_and_no_people(tab: Tab) -> None:
    tab.open(DEMO + "/members")

    names = [n.strip() for n in tab.page.locator("ul.members > li").all_inner_texts()]
    page_text = tab.page.locator("body").inner_text()
    source = tab.page.content()

    assert names == sorted(ORGANISATIONS, key=str.casefold)
    for personal in ("Representative 1", "example.org", "@", "Chief Executive of"):
        assert personal not in page_text and personal not in source


def test_terms_show_the_clauses_and_the_version_history(tab: Tab) -> None:
    for path in ("/terms", "/terms/1"):
        tab.open(DEMO + path)
        page = tab.page
        clauses = page.locator("ol.clauses > li")
        history = page.locator("section[aria-labelledby=history] table")
        headers = history.locator("thead th").all_inner_texts()
        rows = history.locator("tbody tr")

        assert page.locator("h1").inner_text() == "Terms of Reference"
        assert page.locator("p.lead").inner_text().startswith("Version 1, in force from ")
        assert clauses.count() >= 5
        assert clauses.first.locator("h3").inner_text().endswith("Who we are")
        assert clauses.first.get_attribute("id") == "clause-1"
        assert headers == ["Version", "In force from", "Adopted by"]
        assert rows.count() == 1
        assert rows.first.locator("td").all_inner_texts()[0] == "Version 1"
        assert rows.first.locator("td").all_inner_texts()[2] == "Founding"
        assert rows.first.locator('a[aria-current="page"]').count() == 1


def test_the_stylesheet_is_served_as_css(site: Site) -> None:
    with site.http() as client:
        response = client.get("/site.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "--brand: #0b4f6c" in response.text


# ----------------------------------------------------------------------------- 404 pages


@pytest.mark.parametrize(
    ("name", "path", "status", "message"),
    [
        ("not-found-alliance", "/a/no-such-alliance/", 404, "no alliance with the slug"),
        ("not-found-minutes", f"{DEMO}/minutes/not-an-id", 404, "no published minutes"),
        ("not-found-terms", f"{DEMO}/terms/99", 404, "no ToR version 99"),
        ("not-found-page", f"{DEMO}/no-such-page", 404, "no such page"),
        ("bad-page-number", f"{DEMO}/minutes?page=0", 400, "check the page number"),
        ("bad-page-text", f"{DEMO}/minutes?page=two", 400, "check the page number"),
        ("past-the-last-page", f"{DEMO}/minutes?page=2", 404, "there is no page 2"),
    ],
)
def test_an_unknown_alliance_record_or_address_is_an_error_page(
    tab: Tab, name: str, path: str, status: int, message: str
) -> None:
    response = tab.open(path)

    main = check_page(tab, response, status=status, current=None)
    heading = "Page not found" if status == 404 else "Bad address"
    assert tab.page.locator("h1").inner_text() == heading
    assert message in main
    tab.screenshot(name)


def test_a_suspended_alliance_is_a_404_page(tab: Tab, site: Site) -> None:
    slug = "suspended-alliance"
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with site.http() as client:
        onboarded = client.post(
            "/v1/tenants",
            json={
                "slug": slug,
                "name": "Soon Suspended",
                "region": "Kent",
                "template": "kinship-care",
            },
            headers=admin,
        )
        assert onboarded.status_code == 201, onboarded.text
        check_page(tab, tab.open(f"/a/{slug}/"), current="Home")

        suspended = client.post(
            f"/v1/tenants/{slug}/suspend", json={"reason": "Browser test"}, headers=admin
        )
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"

    for path in ("/", "/minutes", "/members", "/terms", "/terms/1"):
        response = tab.open(f"/a/{slug}{path}")
        main = check_page(tab, response, status=404, current=None)
        assert tab.page.locator("h1").inner_text() == "Page not found"
        assert "Soon Suspended" not in tab.page.content(), path
        assert f"no alliance with the slug '{slug}'" in main
    tab.screenshot("suspended-home")


# ----------------------------------------------------------------------------- hostile text

#: Page name -> the main navigation entry marked current.
XSS_PAGES = {
    "home": "Home",
    "members": "Members",
    "minutes": "Minutes",
    "minutes-item": "Minutes",
    "terms": "Terms of Reference",
}


@pytest.mark.parametrize("name", list(XSS_PAGES))
def test_hostile_text_is_shown_as_text_and_never_runs(tab: Tab, site: Site, name: str) -> None:
    path = {
        "home": "/",
        "members": "/members",
        "minutes": "/minutes",
        "minutes-item": f"/minutes/{site.xss_minutes[0]}",
        "terms": "/terms",
    }[name]

    response = tab.open(XSS + path)
    check_page(tab, response, current=XSS_PAGES[name])
    page = tab.page
    body = page.locator("body").inner_text()

    assert tab.dialogs == []
    assert page.locator("img").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.locator(".brand").inner_text() == XSS_NAME
    assert page.title().endswith(XSS_NAME)
    if name == "home":
        assert page.locator("h1").inner_text() == XSS_NAME
        card = page.locator("section[aria-labelledby=meetings] li.card")
        assert card.count() == 1
        assert card.locator("h3").inner_text() == XSS_MEETING_TITLE
        assert f"in person, Hall {RLO}{HOSTILE}" in card.inner_text()
    if name == "members":
        assert page.locator("ul.members > li").all_inner_texts() == [XSS_ORGANISATION]
        assert RLO in body and XSS_ORGANISATION in body
    if name == "minutes-item":
        assert page.locator("ol.items > li h2").all_inner_texts() == [
            XSS_ITEM_TITLE,
            "Confidential item",
        ]
        assert page.locator("ol.items p.prose").inner_text() == XSS_ITEM_TEXT
        assert page.locator("ol.items ul li").inner_text() == XSS_DECISION
        assert page.locator("p.lead").inner_text() == XSS_MEETING_TITLE
        assert RLO in body and "<b>bold</b>" in body
        assert page.locator("main b, main i").count() == 0
        assert not canary_in(page.content())
    assert HOSTILE in body
    tab.screenshot(f"xss-{name}")


def test_minutes_pages_are_twenty_each_newest_first(tab: Tab) -> None:
    response = tab.open(XSS + "/minutes")
    first = minutes_links(tab)
    pager = tab.page.get_by_role("navigation", name="Pages of minutes")

    check_page(tab, response, current="Minutes")
    assert len(first) == 20
    assert "Page 1 of 2" in pager.inner_text()
    assert tab.page.locator('a[rel="prev"]').count() == 0
    tab.screenshot("xss-minutes-page-1")

    response = tab.follow(lambda: tab.page.locator('a[rel="next"]').click())
    second = minutes_links(tab)
    check_page(tab, response, current="Minutes")
    assert tab.page.url.endswith("/minutes?page=2")
    assert len(second) == XSS_MINUTES - 20
    assert "Page 2 of 2" in pager.inner_text()
    assert tab.page.locator('a[rel="next"]').count() == 0
    tab.screenshot("xss-minutes-page-2")

    days = [day for _, day in first + second]
    assert days == sorted(days, reverse=True) and len(set(days)) == XSS_MINUTES

    response = tab.follow(lambda: tab.page.locator('a[rel="prev"]').click())
    assert response.status == 200 and minutes_links(tab) == first


# ----------------------------------------------------------------------------- the pager


def test_the_minutes_pager_is_legible(tab: Tab) -> None:
    response = tab.open(XSS + "/minutes")

    check_page(tab, response, current="Minutes")


def test_a_minutes_page_past_the_last_does_not_deny_that_minutes_exist(tab: Tab) -> None:
    response = tab.open(DEMO + "/minutes?page=2")

    main = check_page(tab, response, status=response.status, current=None)
    assert response.status == 404 or "No minutes have been published yet" not in main


# ----------------------------------------------------------------------------- the skip policy


def test_without_a_browser_the_tests_skip_in_one_line_or_fail_in_ci() -> None:
    """Run this module without a browser: one skip line; under CI=true, every test fails
    and none is skipped (no server is started either way, so this takes a second)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CONCORD_TEST_CHROMIUM"] = "/nonexistent/chromium"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rs",
        __file__,
    ]

    skipped = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    failed = subprocess.run(
        command,
        env=env | {"CI": "true"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    skip_lines = [line for line in skipped.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert len(skip_lines) == 1, skipped.stdout
    assert "apt-get install chromium" in skip_lines[0]
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "CI=true: browser tests need Chromium" in failed.stdout
    assert "skipped" not in failed.stdout.splitlines()[-1]


# ----------------------------------------------------------------------------- last: no leak


def crawl(site: Site, start: str) -> dict[str, str]:
    """Every page of an alliance reachable by its links, as the server sends it."""
    seen: dict[str, str] = {}
    queue = [start]
    prefix = start.rstrip("/")
    with site.http() as client:
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            response = client.get(path)
            assert response.status_code == 200, path
            seen[path] = response.text
            for href in re.findall(r'href="([^"]+)"', response.text):
                target = html.unescape(href)
                if target.startswith(prefix) and target not in seen:
                    queue.append(target)
    return seen


def test_the_confidential_text_reaches_no_page_and_no_server_output(site: Site) -> None:
    """Runs last for its server: it stops it, so that every span is flushed to stdout."""
    pages = {site.url(p): body for p, body in crawl(site, DEMO + "/").items()}
    pages |= {site.url(p): body for p, body in crawl(site, XSS + "/").items()}
    pages |= site.fetched
    site.stop()
    output = site.output()

    assert len(pages) >= 5 + 5 + XSS_MINUTES + 4
    assert f"{DEMO}/minutes/" in " ".join(pages)
    leaks = {url: canary_in(body) for url, body in pages.items() if canary_in(body)}
    assert leaks == {}
    assert '"name": ' in output and '"trace_id"' in output  # the console spans are there
    assert "GET /a/" in output and "POST /v1/tenants/" in output  # and the access log
    assert canary_in(output) == []
    assert canary_in(site.demo_output) == []
    assert ADMIN_KEY not in output and site.xss_key not in output
