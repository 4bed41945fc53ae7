"""Text that looks like something else, in a real browser: homoglyphs, right-to-left
overrides, zero-width characters, combining accents and markup that tries to break out of
an attribute. The public pages show each exactly as stored (the DOM's textContent equals
what the API recorded) and nothing in it becomes an element, an attribute or a script.

test_public_pages.py already proves that <script> and <img onerror> from the API are shown
as text and never run; this module adds the characters that deceive the eye and the
attribute and template break-outs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Site, Tab
from tests.browser.test_public_pages import check_page
from tests.conftest import ADMIN_KEY

SLUG = "unicode-alliance"
#: "Kent" and "Family" with Cyrillic "e" (U+0435) and "a" (U+0430); a right-to-left
#: override (U+202E) that makes "exe.pdf" read as "fdp.exe", closed by U+202C.
ALLIANCE_NAME = "K\u0435nt F\u0430mily Justice \u202eexe.pdf\u202c Alliance"
#: Zero-width joiner, zero-width space and non-joiner; "e" + combining acute (not NFC);
#: an astral character; markup that tries to leave an attribute and the <title>.
ORGANISATION = 'Grand\u200dparents\u200b Plus\u200c cafe\u0301 \U0001d518 "><svg onload=alert(3)>'
ITEM_TITLE = "Item </title><script>window.__pwned = 1</script>"
ITEM_TEXT = (
    "{{ 7 * 7 }} {% raw %} ${7*7} <iframe src=javascript:alert(4)></iframe> "
    '\'><img src=x onerror="window.__pwned=2"> \u202eevil\u202c K\u0435nt'
)
DECISION = "Decided \u2067\u05e9\u05dc\u05d5\u05dd\u2069 <a href=javascript:alert(5)>link</a>"
CLAUSE_HEADING = "Heading \u200b<style>*{display:none}</style>"
CLAUSE_TEXT = "Clause text <math><mi xlink:href=javascript:alert(6)>x</mi></math> K\u0435nt"


@dataclass
class Unicode:
    """The alliance of deceptive text, as the API recorded it."""

    minutes_id: str
    recorded: dict[str, Any]


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return dict(response.json())


@pytest.fixture(scope="module")
def unicode_alliance(site: Site) -> Iterator[Unicode]:
    """Over the HTTP API: the alliance, a member, a ToR clause and published minutes."""
    with site.http() as client:
        onboarded = _ok(
            client.post(
                "/v1/tenants",
                json={
                    "slug": SLUG,
                    "name": ALLIANCE_NAME,
                    "region": "Kent",
                    "template": "kinship-care",
                },
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            ),
            201,
        )
        tenant = {"Authorization": f"Bearer {onboarded['admin_key']['secret']}"}
        api = f"/v1/tenants/{SLUG}"

        def post(path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
            return _ok(client.post(api + path, json=body, headers=tenant), status)

        application = post(
            "/applications",
            {
                "name": ORGANISATION,
                "request_text": "We ask to join.",
                "signatory_name": "Ada Price",
                "signatory_role": "Chief executive",
            },
            201,
        )
        base = f"/applications/{application['application_id']}"
        post(f"{base}/circulate", {"to_body": "executive-committee"})
        member = post(
            f"{base}/decide",
            {"by_body": "executive-committee", "outcome": "admit", "decision_ref": "d"},
        )["member_id"]
        amendment = post(
            "/terms/amendments",
            {
                "rationale": "a clause of deceptive text",
                "clauses": [{"number": "40", "heading": CLAUSE_HEADING, "text": CLAUSE_TEXT}],
            },
            201,
        )
        post(
            f"/terms/amendments/{amendment['amendment_id']}/approve",
            {"body": "full-membership", "decision_ref": "d"},
        )
        yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        meeting = post(
            "/meetings",
            {
                "body": "full-membership",
                "title": "Meeting",
                "starts_at": yesterday.isoformat(),
                "format": "virtual",
            },
            201,
        )
        post(f"/meetings/{meeting['meeting_id']}/hold", {"attendance": [{"member_id": member}]})
        item = {"title": ITEM_TITLE, "text": ITEM_TEXT, "decisions": [DECISION]}
        minutes = post("/minutes", {"meeting_id": meeting["meeting_id"], "items": [item]}, 201)
        post(f"/minutes/{minutes['minutes_id']}/approve", {"by_body": "full-membership"})
        post(f"/minutes/{minutes['minutes_id']}/publish")
        recorded = {
            "alliance": _ok(client.get(api, headers=tenant))["tenant"]["name"],
            "member": _ok(client.get(f"{api}/members/{member}", headers=tenant))["name"],
            "minutes": _ok(client.get(f"{api}/minutes/{minutes['minutes_id']}", headers=tenant)),
        }
    yield Unicode(minutes_id=minutes["minutes_id"], recorded=recorded)


def test_the_api_reads_back_every_character_as_sent(unicode_alliance: Unicode) -> None:
    recorded = unicode_alliance.recorded

    assert recorded["alliance"] == ALLIANCE_NAME
    assert recorded["member"] == ORGANISATION
    (item,) = recorded["minutes"]["items"]
    assert (item["title"], item["text"], item["decisions"]) == (ITEM_TITLE, ITEM_TEXT, [DECISION])


#: What no page of the alliance may hold: anything the text tried to inject.
INJECTED_JS = """
() => ({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  elements: [...document.querySelectorAll(
    'script, svg, iframe, img, math, style, main a[href^="javascript"]'
  )].map((e) => e.tagName),
  handlers: [...document.querySelectorAll('*')]
    .flatMap((e) => [...e.attributes].map((a) => a.name))
    .filter((name) => name.startsWith('on') || name.includes('href') && name !== 'href'),
})
"""


def assert_nothing_injected(tab: Tab) -> None:
    found = tab.page.evaluate(INJECTED_JS)
    assert found == {"pwned": None, "elements": [], "handlers": []}, found
    assert tab.dialogs == []


def text_of(tab: Tab, selector: str) -> list[str]:
    """The exact textContent of each match: no trimming, no whitespace folding."""
    return list(tab.page.eval_on_selector_all(selector, "els => els.map((e) => e.textContent)"))


@pytest.mark.parametrize("path", ["/", "/members", "/terms", "/minutes", "/minutes/{id}"])
def test_deceptive_text_is_shown_verbatim_and_injects_nothing(
    tab: Tab, unicode_alliance: Unicode, path: str
) -> None:
    response = tab.open(f"/a/{SLUG}{path.replace('{id}', unicode_alliance.minutes_id)}")

    check_page(tab, response, current=None if "{id}" in path else tab_name(path))
    assert_nothing_injected(tab)
    assert text_of(tab, ".brand bdi") == [ALLIANCE_NAME]
    assert tab.page.title().endswith(ALLIANCE_NAME)
    if path == "/":
        assert text_of(tab, "h1") == [ALLIANCE_NAME]
    if path == "/members":
        assert text_of(tab, "ul.members > li bdi") == [ORGANISATION]
    if path in ("/", "/terms"):
        clause = "#clause-40"
        assert text_of(tab, f"{clause} h3") == [f"40 {CLAUSE_HEADING}"]
        assert text_of(tab, f"{clause} p.prose") == [CLAUSE_TEXT]
    if path == "/minutes/{id}":
        assert text_of(tab, "ol.items > li h2 bdi") == [ITEM_TITLE]
        assert text_of(tab, "ol.items p.prose") == [ITEM_TEXT]
        assert text_of(tab, "ol.items ul li") == [DECISION]
    # The server sent the markup escaped, never as markup.
    source = response.text()
    for raw in ("<svg", "<iframe", "<math", "<style>*", "</title><script"):
        assert raw not in source, raw


def tab_name(path: str) -> str:
    return {
        "/": "Home",
        "/members": "Members",
        "/terms": "Terms of Reference",
        "/minutes": "Minutes",
    }[path]
