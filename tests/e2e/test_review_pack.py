"""Review packs through the API, on both stores: a family-justice alliance's year, seeded
through the API so that every answer is known (a quarter with no meeting of the full
membership, minutes approved and published, minutes left a draft and minutes never
drafted, a motion carried by consensus, admissions and a resignation, the chair's term
cut short by an amendment and left without a successor, a review concluded); the pack's
findings, each checked against the events its positions point at; the HTML page, parsed;
no confidential text anywhere; bad periods and the wrong keys refused.

The year is set in the recent past: events carry the moment they were recorded (the
system's clock), while the acts carry the days the runtime's clock gave them, and a pack
dates an act that records no day of its own (an admission, a decision) by the former. So
the history is made with the runtime's clock moved through the last 300 days, and the pack
is read with the clock back at today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from domain.terms import add_months
from services.demo import CONFIDENTIAL_TEXT, create_demo
from tests.conftest import ADMIN, bearer
from tests.e2e.test_membership_api import issue_key
from tests.e2e.test_membership_year import Alliance, assert_problem

SLUG = "kent-fja"
FM, SG = "full-membership", "steering-group"
#: Today, and the day the alliance was founded (and its ToR took effect) 300 days before.
TODAY = datetime.now(UTC).date()
FOUNDED = TODAY - timedelta(days=300)
START = datetime.combine(FOUNDED, time(9), tzinfo=UTC)
LINK = "https://meet.example.org/kent"
SECRET_TITLE = "The Smith children's placement"
SECRET_TEXT = "The Smith children were moved to a new placement after the hearing."
SECRET_ACTION = "Call the Smiths' social worker about contact"
MOTION = "The alliance will publish a guide to mediation for families."
INVALID = "urn:concord:problem:invalid-request"
ORGANISATIONS = ("Kent Family Mediation", "Medway Citizens Advice", "Dover Contact Centre")


def on(days: int, hour: int = 10) -> datetime:
    """A moment `days` after the founding, at `hour` o'clock UTC."""
    return datetime.combine(FOUNDED + timedelta(days=days), time(hour), tzinfo=UTC)


@dataclass
class Year:
    """The seeded year: the alliance, and the ids of what the findings are about."""

    alliance: Alliance
    members: list[str]
    meetings: dict[str, str]
    minutes: dict[str, str]
    motion_id: str
    amendment_id: str
    holding_id: str

    def pack(self, headers: dict[str, str] | None = None, **period: str) -> dict[str, Any]:
        response = self.alliance.call("GET", "/audit/review", headers=headers, params=period)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def event_at(self, position: int) -> dict[str, Any]:
        """The event at a log position, read the way the pack's links read it."""
        page = self.alliance.get("/events", after=position - 1, limit=1)
        [event] = page["items"]
        assert event["position"] == position
        return dict(event)


def seed(client: Any, onboard: Any) -> Year:
    """The year, through the API, with the runtime's clock moved through it."""
    runtime = client.app.state.runtime
    runtime.clock = lambda: START
    secret = onboard(SLUG, template="family-justice", name="Kent Family Justice Alliance")
    alliance = Alliance(client, "family-justice", secret["admin_key"]["secret"], slug=SLUG)
    members = []
    for name in ORGANISATIONS:
        application_id = alliance.apply(name, region="Kent")
        decided = alliance.take_step(application_id, "decide", SG)
        members.append(str(decided["member_id"]))

    # Day 1: the chair's term is set at three months (version 2), then a review concludes.
    alliance.move_clock_to(on(1))
    proposed = alliance.post(
        "/terms/amendments",
        {
            "rationale": "the chair should rotate",
            "rules": [{"path": "offices.chair.term_months", "value": 3}],
        },
        status=201,
    )
    amendment_id = str(proposed["amendment_id"])
    approved = alliance.post(
        f"/terms/amendments/{amendment_id}/approve",
        {"body": FM, "decision_ref": "Special meeting, item 1"},
    )
    assert approved["version"] == 2
    alliance.post("/terms/review/open")
    alliance.post("/terms/review/conclude", {"outcome": "no-change", "notes": "Fit for purpose."})

    # Day 2: the steering group appoints the chair, for three months; no one follows.
    alliance.move_clock_to(on(2))
    chair = alliance.appoint("chair", members[0], "Pat Quinn", by_body=SG)
    holding_id = str(chair["holders"][0]["holding_id"])

    def held(day: int) -> str:
        request = {
            "body": FM,
            "title": "Quarterly meeting",
            "starts_at": on(day).isoformat(),
            "format": "virtual",
            "link": LINK,
        }
        meeting_id = str(alliance.post("/meetings", request, status=201)["meeting_id"])
        alliance.move_clock_to(on(day))
        attendance = [{"member_id": m} for m in members[:2]]
        alliance.post(f"/meetings/{meeting_id}/hold", {"attendance": attendance})
        return meeting_id

    # The first quarter's meeting, minuted with a confidential item. No meeting in the
    # second quarter.
    meetings = {"q1": held(10)}
    items = [
        {"item_id": "welcome", "title": "Welcome", "text": "The chair welcomed the members."},
        {
            "item_id": "smith-case",
            "title": SECRET_TITLE,
            "text": SECRET_TEXT,
            "confidential": True,
            "actions": [
                {
                    "description": SECRET_ACTION,
                    "owner_kind": "office",
                    "owner": "chair",
                    "due_on": (FOUNDED + timedelta(days=40)).isoformat(),
                }
            ],
        },
    ]
    drafted = alliance.post("/minutes", {"meeting_id": meetings["q1"], "items": items}, status=201)
    minutes = {"q1": str(drafted["minutes_id"])}

    # The third quarter's meeting approves them (they are then published), and carries a
    # motion by consensus; its own minutes stay a draft.
    meetings["q3"] = held(200)
    alliance.post(
        f"/minutes/{minutes['q1']}/approve",
        {"by_body": FM, "at_meeting_id": meetings["q3"], "decision_ref": "Minute 2"},
    )
    alliance.post(f"/minutes/{minutes['q1']}/publish")
    motion = alliance.post("/motions", {"body": FM, "text": MOTION}, status=201)
    motion_id = str(motion["motion_id"])
    carried = alliance.post(
        f"/motions/{motion_id}/consensus", {"meeting_id": meetings["q3"], "reached": True}
    )
    assert carried["status"] == "carried"
    q3_items = [{"item_id": "guide", "title": "Mediation guide", "text": "Agreed by all."}]
    drafted = alliance.post(
        "/minutes", {"meeting_id": meetings["q3"], "items": q3_items}, status=201
    )
    minutes["q3"] = str(drafted["minutes_id"])

    # Day 250: the third member resigns. Day 280: the fourth quarter's meeting, which does
    # not approve the third quarter's minutes, and whose own are never drafted.
    alliance.move_clock_to(on(250))
    alliance.post(f"/members/{members[2]}/resign", {"reason": "Merged with another charity."})
    meetings["q4"] = held(280)

    runtime.clock = lambda: datetime.now(UTC)
    return Year(
        alliance=alliance,
        members=members,
        meetings=meetings,
        minutes=minutes,
        motion_id=motion_id,
        amendment_id=amendment_id,
        holding_id=holding_id,
    )


@pytest.fixture
def year(client, onboard) -> Year:
    return seed(client, onboard)


def findings(pack: dict[str, Any], section: str | None = None) -> list[dict[str, Any]]:
    return [
        finding
        for s in pack["sections"]
        if section is None or s["key"] == section
        for finding in s["findings"]
    ]


def of_kind(pack: dict[str, Any], kind: str, section: str | None = None) -> list[dict[str, Any]]:
    return [f for f in findings(pack, section) if f["kind"] == kind]


def types_at(year: Year, finding: dict[str, Any]) -> list[str]:
    return [year.event_at(p)["type"] for p in finding["positions"]]


# ----------------------------------------------------------------------------- the findings


def test_the_header_names_the_alliance_the_period_and_the_versions_in_force(year):
    before = datetime.now(UTC).date()
    pack = year.pack()
    after = datetime.now(UTC).date()

    header = pack["header"]
    assert header["alliance"] == {
        "slug": SLUG,
        "name": "Kent Family Justice Alliance",
        "region": "South East",
        "template": "family-justice",
    }
    # The default period: the twelve months to today (the ToR reviews every 12 months).
    today = date.fromisoformat(header["period_to"])
    assert today in (before, after)
    assert header["period_from"] == (add_months(today, -12) + timedelta(days=1)).isoformat()
    assert header["log"] == {"first": 1, "last": year_log_length(year)}
    assert header["recorded_in_period"] == header["log"]
    versions = header["versions_in_force"]
    assert [(v["number"], v["effective_from"], v["until"]) for v in versions] == [
        (1, FOUNDED.isoformat(), FOUNDED.isoformat()),
        (2, (FOUNDED + timedelta(days=1)).isoformat(), None),
    ]
    assert types_at(year, {"positions": [v["position"] for v in versions]}) == [
        "TermsOfReferenceAdopted",
        "TermsOfReferenceAmendmentApproved",
    ]


def test_a_quarter_without_a_meeting_is_a_concern_citing_the_clause_and_the_version(year):
    """The full membership meets quarterly (clause 5); the second quarter passed with no
    meeting. The missed meeting cites the adoption of version 1, whose rules set the
    year's requirements; each meeting held cites its own events."""
    pack = year.pack()

    assert pack["meetings_by_body"] == [
        {
            "body": FM,
            "name": "The Alliance: all member organisations",
            "required": 4,
            "held": 3,
            "missed": 1,
            "open": 0,
        }
    ]
    [missing] = of_kind(pack, "meeting-missing", "meetings")
    assert (missing["severity"], missing["clause"], missing["rule"]) == (
        "concern",
        "5",
        "meetings.full-membership.per_year",
    )
    assert missing["under_version"] == 1 and missing["positions"] == [2]
    assert types_at(year, missing) == ["TermsOfReferenceAdopted"]
    second_quarter = add_months(FOUNDED, 3)
    assert missing["refs"]["window_start"] == second_quarter.isoformat()
    assert second_quarter.isoformat() in missing["summary"] and "clause 5" in missing["summary"]
    held = of_kind(pack, "meeting-held", "meetings")
    assert [f["refs"]["meeting_id"] for f in held] == [year.meetings[q] for q in ("q1", "q3", "q4")]
    for finding in held:
        assert (finding["severity"], finding["clause"]) == ("ok", "5")
        assert types_at(year, finding) == ["MeetingScheduled", "MeetingHeld"]
        assert {year.event_at(p)["aggregate_id"] for p in finding["positions"]} == {
            finding["refs"]["meeting_id"]
        }
    assert len(findings(pack, "meetings")) == 4


def test_minutes_approved_and_published_left_a_draft_or_never_drafted(year):
    """The first quarter's minutes approved and published; the third's a draft though
    the full membership has met since (a concern); the fourth's not drafted yet (a note,
    as no meeting has been held since to approve them)."""
    pack = year.pack()

    [published] = of_kind(pack, "minutes-published", "minutes")
    assert published["refs"]["minutes_id"] == year.minutes["q1"]
    assert (published["severity"], published["clause"]) == ("ok", "4")
    assert types_at(year, published) == ["MinutesDrafted", "MinutesApproved", "MinutesPublished"]
    assert {year.event_at(p)["aggregate_id"] for p in published["positions"]} == {
        year.minutes["q1"]
    }
    assert "2 item(s), 1 of them confidential" in published["summary"]
    [draft] = of_kind(pack, "minutes-not-approved", "minutes")
    assert (draft["severity"], draft["clause"], draft["refs"]["minutes_id"]) == (
        "concern",
        "4",
        year.minutes["q3"],
    )
    assert types_at(year, draft) == ["MinutesDrafted", "MeetingHeld"]
    assert year.event_at(draft["positions"][1])["aggregate_id"] == year.meetings["q4"]
    [never] = of_kind(pack, "minutes-missing", "minutes")
    assert (never["severity"], never["clause"], never["refs"]["meeting_id"]) == (
        "note",
        "4",
        year.meetings["q4"],
    )
    assert sorted(types_at(year, never)) == ["MeetingHeld", "TermsOfReferenceAmendmentApproved"]
    assert len(findings(pack, "minutes")) == 3


def test_decisions_carry_the_rule_clause_and_version_they_were_made_under(year):
    pack = year.pack()

    [motion] = of_kind(pack, "motion-decided", "decisions")
    assert motion["refs"]["motion_id"] == year.motion_id
    assert (motion["severity"], motion["rule"], motion["clause"], motion["under_version"]) == (
        "ok",
        "decisions.full-membership.consensus_first",
        "6",
        2,
    )
    assert types_at(year, motion) == ["MotionProposed", "MotionConsensusSought", "MotionDecided"]
    assert {year.event_at(p)["aggregate_id"] for p in motion["positions"]} == {year.motion_id}
    assert MOTION in motion["summary"] and "carried by consensus" in motion["summary"]
    decisions = of_kind(pack, "decision-made", "decisions")
    assert sorted(
        (d["refs"]["act"], d["rule"], d["clause"], d["under_version"]) for d in decisions
    ) == [
        ("amendment-approved", "review.amendments_approved_by", "7", 1),
        ("application-decided", "membership.route.decided_by", "2.1", 1),
        ("application-decided", "membership.route.decided_by", "2.1", 1),
        ("application-decided", "membership.route.decided_by", "2.1", 1),
        ("office-appointed", "offices.chair.appointed_by", "3.2", 2),
    ]
    proved_by = {
        "amendment-approved": "TermsOfReferenceAmendmentApproved",
        "application-decided": "MembershipApplicationDecided",
        "office-appointed": "OfficeRollHolderAppointed",
    }
    for decision in decisions:
        assert types_at(year, decision) == [proved_by[decision["refs"]["act"]]]


def test_admissions_and_a_resignation_are_the_membership_changes(year):
    pack = year.pack()

    admitted = of_kind(pack, "member-admitted", "membership")
    assert [f["refs"]["member_id"] for f in admitted] == year.members
    for finding, name in zip(admitted, ORGANISATIONS, strict=True):
        assert (finding["severity"], finding["clause"]) == ("ok", "2.1")
        assert name in finding["summary"]
        assert types_at(year, finding) == ["MembershipApplicationDecided", "MemberAdmitted"]
        admission = year.event_at(finding["positions"][1])
        assert admission["aggregate_id"] == finding["refs"]["member_id"]
    [resigned] = of_kind(pack, "member-resigned", "membership")
    assert resigned["refs"]["member_id"] == year.members[2]
    assert types_at(year, resigned) == ["MemberResigned"]
    assert year.event_at(resigned["positions"][0])["aggregate_id"] == year.members[2]
    assert ORGANISATIONS[2] in resigned["summary"]
    assert len(findings(pack, "membership")) == 4


def test_a_term_that_ran_out_without_a_successor_leaves_the_office_vacant(year):
    """The chair took office for three months; the term ended in the period and no
    successor took office, so the office is vacant at its end (a concern, clause 3.2).
    The steering group's six required seats were never filled."""
    pack = year.pack()

    [taken] = of_kind(pack, "office-taken", "offices")
    [ended] = of_kind(pack, "term-ended", "offices")
    [expired] = of_kind(pack, "term-expired", "terms-of-office")
    term_end = add_months(FOUNDED + timedelta(days=2), 3)
    for finding in (taken, ended, expired):
        assert finding["refs"]["holding_id"] == year.holding_id
        assert types_at(year, finding) == ["OfficeRollHolderAppointed"]
        assert year.event_at(finding["positions"][0])["data"]["holding_id"] == year.holding_id
    assert (expired["severity"], expired["clause"], expired["rule"], expired["on"]) == (
        "concern",
        "3.2",
        "offices.chair.term_months",
        term_end.isoformat(),
    )
    assert ORGANISATIONS[0] in expired["summary"] and "no successor" in expired["summary"]
    assert ended["on"] == term_end.isoformat()
    assert "Pat Quinn" not in str(pack)  # organisations are named, people are not
    vacant_seats = of_kind(pack, "seat-vacant", "terms-of-office")
    assert len(vacant_seats) == 6 and {f["severity"] for f in vacant_seats} == {"concern"}
    assert {f["clause"] for f in vacant_seats} == {"3"}
    assert {tuple(types_at(year, f)) for f in vacant_seats} == {
        ("TermsOfReferenceAmendmentApproved",)
    }


def test_the_amendment_adopted_and_the_review_concluded(year):
    pack = year.pack()

    [adopted] = of_kind(pack, "amendment-adopted", "amendments")
    assert (adopted["severity"], adopted["clause"], adopted["refs"]["amendment_id"]) == (
        "ok",
        "7",
        year.amendment_id,
    )
    assert types_at(year, adopted) == [
        "TermsOfReferenceAmendmentProposed",
        "TermsOfReferenceAmendmentApproved",
    ]
    assert {year.event_at(p)["data"]["amendment_id"] for p in adopted["positions"]} == {
        year.amendment_id
    }
    [done] = of_kind(pack, "review-done", "reviews")
    assert (done["severity"], done["clause"]) == ("ok", "7")
    assert types_at(year, done) == [
        "TermsOfReferenceReviewOpened",
        "TermsOfReferenceReviewConcluded",
    ]
    [status] = of_kind(pack, "review-not-due", "reviews")
    assert status["severity"] == "ok" and status["clause"] == "7"


def test_every_finding_is_proved_by_the_log_and_counted_once(year):
    pack = year.pack()

    last = pack["header"]["log"]["last"]
    every = findings(pack)
    for finding in every:
        assert finding["positions"] and finding["positions"] == sorted(set(finding["positions"]))
        assert all(1 <= p <= last for p in finding["positions"]), finding
    counts = {s: sum(1 for f in every if f["severity"] == s) for s in ("ok", "note", "concern")}
    assert pack["summary"] == counts
    assert counts["concern"] == 1 + 1 + 1 + 6  # the meeting, the minutes, the chair, the seats
    assert counts["note"] == 1  # the minutes not drafted yet


def year_log_length(year: Year) -> int:
    count, after = 0, 0
    while True:
        page = year.alliance.get("/events", after=after, limit=1000)
        count += len(page["items"])
        if page["next_after"] is None:
            return count
        after = page["next_after"]


def test_a_shorter_period_reports_only_what_falls_in_it(year):
    """The second quarter alone: the missed meeting, and nothing held; the chair's term,
    set at the founding, had ended by then."""
    second = add_months(FOUNDED, 3)
    pack = year.pack(
        **{
            "from": second.isoformat(),
            "to": (add_months(FOUNDED, 6) - timedelta(days=1)).isoformat(),
        }
    )

    assert pack["header"]["period_from"] == second.isoformat()
    assert [f["kind"] for f in findings(pack, "meetings")] == ["meeting-missing"]
    assert findings(pack, "minutes") == [] and findings(pack, "decisions") == []
    assert findings(pack, "membership") == [] and findings(pack, "amendments") == []
    [expired] = of_kind(pack, "term-expired", "terms-of-office")
    assert expired["refs"]["holding_id"] == year.holding_id
    assert [v["number"] for v in pack["header"]["versions_in_force"]] == [2]


# ----------------------------------------------------------------------------- confidentiality


class Page(HTMLParser):
    """The text of a page, its links, its headings and the kinds of its finding rows."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.kinds: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "tr" and found.get("data-kind"):
            self.kinds.append(str(found["data-kind"]))
        if tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_the_html_page_shows_every_finding_with_links_to_its_events(year):
    pack = year.pack()
    response = year.alliance.call("GET", "/audit/review.html")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = parse(response.text)
    text = " ".join(" ".join(page.text).split())
    assert page.headings[0] == "Review pack: Kent Family Justice Alliance"
    assert [s["title"] for s in pack["sections"]] == [
        h for h in page.headings if h in {s["title"] for s in pack["sections"]}
    ]
    every = findings(pack)
    assert sorted(page.kinds) == sorted(f["kind"] for f in every)
    for finding in every:
        assert " ".join(finding["summary"].split()) in text, finding["summary"]
        for position in finding["positions"]:
            assert f"/v1/tenants/{SLUG}/events?after={position - 1}&limit=1" in page.links
    counts = pack["summary"]
    assert f"Concern {counts['concern']}" in text and f"OK {counts['ok']}" in text


@pytest.mark.parametrize("role", ["tenant-admin", "auditor"])
def test_no_confidential_text_reaches_the_pack_whoever_reads_it(year, role):
    """Not even for a key that may read confidential minutes: a pack holds only counts."""
    headers = year.alliance.headers if role == "tenant-admin" else issue_key(year.alliance, role)
    pack = year.alliance.call("GET", "/audit/review", headers=headers)
    page = year.alliance.call("GET", "/audit/review.html", headers=headers)
    assert pack.status_code == page.status_code == 200

    shown = pack.text + " ".join(parse(page.text).text) + page.text
    for secret in (SECRET_TITLE, SECRET_TEXT, SECRET_ACTION, "smith-case", "Smith", "Pat Quinn"):
        assert secret not in shown
    # The confidential item is counted, and the minutes named by id.
    assert year.minutes["q1"] in pack.text and "1 of them confidential" in pack.text


def test_the_demo_alliance_met_as_its_tor_requires_and_keeps_its_confidences(client):
    """The demo's year (runtime-level): every required meeting that fell due was held, and
    its confidential canary reaches neither the JSON nor the page."""
    runtime = client.app.state.runtime
    key, _ = create_demo(runtime, slug="demo", name="Demo", template="kinship-care", region="Kent")
    headers = bearer(key.secret)
    pack = client.get("/v1/tenants/demo/audit/review", headers=headers)
    page = client.get("/v1/tenants/demo/audit/review.html", headers=headers)

    assert pack.status_code == page.status_code == 200
    body = pack.json()
    assert body["meetings_by_body"] and all(t["missed"] == 0 for t in body["meetings_by_body"])
    assert of_kind(body, "meeting-missing") == []
    published = of_kind(body, "minutes-published")
    assert published and any("confidential" in f["summary"] for f in published)
    assert CONFIDENTIAL_TEXT not in pack.text and CONFIDENTIAL_TEXT not in page.text
    assert "CONFIDENTIAL DEMO TEXT" not in " ".join(parse(page.text).text)


# ----------------------------------------------------------------------------- refusals


@pytest.fixture
def alliance(client, onboard) -> Alliance:
    """An alliance founded today, with nothing else yet."""
    client.app.state.runtime.clock = lambda: datetime.now(UTC)
    secret = onboard(SLUG)["admin_key"]["secret"]
    return Alliance(client, "family-justice", secret, slug=SLUG)


@pytest.mark.parametrize("path", ["/audit/review", "/audit/review.html"])
@pytest.mark.parametrize(
    ("period", "names"),
    [
        ({"from": "2026-13-01"}, ["from", "2026-13-01", "YYYY-MM-DD"]),
        ({"from": "2026-02-30"}, ["from"]),
        ({"from": "20260101"}, ["from"]),
        ({"to": "yesterday"}, ["to", "yesterday"]),
        ({"to": ""}, ["to"]),
        ({"from": "2030-05-01", "to": "2030-04-01"}, ["from", "to", "after"]),
        ({"from": "2015-01-01", "to": "2025-01-01"}, ["10 years"]),
    ],
)
def test_a_period_that_is_not_one_is_refused_naming_the_parameter(alliance, path, period, names):
    problem = assert_problem(alliance.call("GET", path, params=period), 422)

    assert problem["type"] == INVALID
    for name in names:
        assert name in problem["detail"], problem


@pytest.mark.parametrize("path", ["/audit/review", "/audit/review.html"])
def test_a_period_ending_after_today_is_refused(alliance, path):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    problem = assert_problem(alliance.call("GET", path, params={"to": tomorrow}), 422)

    assert problem["type"] == INVALID and "to" in problem["detail"] and "today" in problem["detail"]


def test_ten_years_to_the_day_is_the_longest_period(alliance):
    today = datetime.now(UTC).date()
    start = add_months(today, -120) + timedelta(days=1)

    longest = alliance.get("/audit/review", **{"from": start.isoformat()})
    assert longest["header"]["period_from"] == start.isoformat()
    too_long = alliance.call(
        "GET", "/audit/review", params={"from": (start - timedelta(days=1)).isoformat()}
    )
    assert assert_problem(too_long, 422)["type"] == INVALID


def test_only_the_alliance_s_tenant_admin_and_auditor_may_read_its_pack(alliance, client, onboard):
    other = onboard("other-alliance")["admin_key"]["secret"]
    other_alliance = Alliance(client, "family-justice", other, slug="other-alliance")
    allowed = {"tenant-admin": alliance.headers, "auditor": issue_key(alliance, "auditor")}
    refused = {
        "officer": issue_key(alliance, "officer"),
        "member": issue_key(alliance, "member"),
        "platform-admin": ADMIN,
    }
    strangers = [other_alliance.headers, issue_key(other_alliance, "auditor")]
    for path in ("/audit/review", "/audit/review.html"):
        for role, headers in allowed.items():
            assert alliance.call("GET", path, headers=headers).status_code == 200, role
        for role, headers in refused.items():
            problem = assert_problem(alliance.call("GET", path, headers=headers), 403)
            assert problem["type"] == "urn:concord:problem:forbidden", role
        for headers in strangers:
            problem = assert_problem(alliance.call("GET", path, headers=headers), 404)
            assert problem["type"] == "urn:concord:problem:not-found"
        assert_problem(alliance.call("GET", path, headers={}), 401)
        unknown = client.get(f"/v1/tenants/no-such-alliance{path}", headers=ADMIN)
        assert assert_problem(unknown, 404)["type"] == "urn:concord:problem:not-found"


def test_a_pack_for_days_before_the_founding_has_nothing_to_report(alliance):
    """No ToR was in force: no requirement, no finding."""
    last_year = datetime.now(UTC).date() - timedelta(days=400)
    pack = alliance.get(
        "/audit/review",
        **{"from": last_year.isoformat(), "to": (last_year + timedelta(days=30)).isoformat()},
    )

    assert pack["header"]["versions_in_force"] == [] and pack["meetings_by_body"] == []
    assert findings(pack) == []
    assert pack["summary"] == {"ok": 0, "note": 0, "concern": 0}
