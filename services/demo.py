"""`concord demo`: an alliance with a year of history, to look at and to test against.

The alliance is founded a year ago from a template; member organisations join by the
route its ToR sets; its main body meets every quarter (and, where the ToR says so, its
executive a month before); each meeting's minutes are drafted, approved at the next
meeting and published — some items confidential. Two meetings are left scheduled ahead.

Every step goes through the same use cases as the API, on the process clock moved
through the year (the clock is put back at the end).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from domain.meetings import Attendee
from domain.minutes import Action, Item
from domain.rule_checks import Applicant
from domain.rules import Rules
from domain.terms import add_months
from services import meetings, membership, minutes, obligations, offices, onboarding, tenancy, terms
from services.access import IssuedKey
from services.runtime import Runtime

DEMO_ACTOR = "demo"
ORGANISATIONS = (
    "Family Rights Group",
    "Grandparents Plus",
    "Kinship Carers Network",
    "Coram Children's Legal Centre",
    "The Fostering Network",
    "Parents and Families Together",
)
#: Text of the confidential items: the demo's canary, which must never reach a public page.
CONFIDENTIAL_TEXT = (
    "CONFIDENTIAL DEMO TEXT: discussion of an individual family's case, kept to protect "
    "service users."
)


def create_demo(
    runtime: Runtime, *, slug: str, name: str, template: str, region: str
) -> tuple[IssuedKey, dict[str, int]]:
    """Found and fill the demo alliance; returns its admin key and what was created."""
    real_clock = runtime.clock
    today = real_clock().date()
    start = add_months(today, -12)
    try:
        runtime.clock = _at(start, 9)
        _, key = onboarding.onboard(
            runtime, slug=slug, name=name, region=region, template=template, by=DEMO_ACTOR
        )
        rules = tenancy.rules_in_force(runtime, slug).rules
        members = _admit_members(runtime, slug, rules, region)
        counts = _meet_for_a_year(runtime, slug, rules, members, start, today)
        counts["members"] = len(members)
    finally:
        runtime.clock = real_clock
    return key, counts


def _at(day: date, hour: int) -> Callable[[], datetime]:
    moment = datetime.combine(day, time(hour), tzinfo=UTC)
    return lambda: moment


def _admit_members(runtime: Runtime, slug: str, rules: Rules, region: str) -> list[str]:
    eligibility, route = rules.membership.eligibility, rules.membership.route
    names = eligibility.eligible_bodies[:6] or ORGANISATIONS
    member_ids = []
    for number, org in enumerate(names, start=1):
        applicant = Applicant(
            name=org,
            organisation_kind=(eligibility.organisation_kinds or ("charity",))[0],
            region=eligibility.region or region,
            signatory_role=(route.signatory_roles or ("Chief executive",))[0],
        )
        application_id = membership.submit(
            runtime,
            slug,
            applicant=applicant,
            request_text=f"{org} asks to join the alliance and commits to its aims.",
            signatory_name=f"Chief Executive of {org}",
            email=None,
            by=DEMO_ACTOR,
        )
        if route.circulated_to:
            membership.circulate(
                runtime, slug, application_id, to_body=route.circulated_to, by=DEMO_ACTOR
            )
        if route.recommended_by:
            membership.recommend(
                runtime,
                slug,
                application_id,
                by_office=route.recommended_by,
                recommendation="admit",
                note="Meets the criteria.",
                by=DEMO_ACTOR,
            )
        member_id = membership.decide(
            runtime,
            slug,
            application_id,
            by_body=route.decided_by,
            outcome="admit",
            standing=None,
            reason="Meets the membership criteria.",
            decision_ref=f"Founding decision {number}",
            by=DEMO_ACTOR,
        )
        assert member_id is not None
        membership.add_representative(
            runtime,
            slug,
            member_id,
            role="Lead representative",
            name=f"Representative {number}",
            email=f"representative{number}@example.org",
            principal=True,
            by=DEMO_ACTOR,
        )
        member_ids.append(member_id)
    return member_ids


def _meet_for_a_year(
    runtime: Runtime,
    slug: str,
    rules: Rules,
    members: list[str],
    start: date,
    today: date,
    *,
    action_days: int = 45,
    prep_from: date | None = None,
) -> dict[str, int]:
    main = next(b.key for b in rules.bodies if b.kind == "full-membership")
    before = next((m for m in rules.meetings if m.before_body == main and m.months_before), None)
    counts = {"meetings": 0, "minutes": 0, "confidential_items": 0, "upcoming": 0}
    last: dict[str, str] = {}  # body -> minutes awaiting approval at its next meeting
    for quarter in range(4):
        day = add_months(start, 3 * quarter) + timedelta(days=21)
        if before is not None and before.months_before is not None:
            prep = add_months(day, -before.months_before)
            if prep > (prep_from or start):
                _hold_and_minute(
                    runtime, slug, before.key, prep, members, last, counts, quarter, action_days
                )
        _hold_and_minute(runtime, slug, main, day, members, last, counts, quarter, action_days)
    for offset in (1, 3):
        runtime.clock = _at(today, 9)
        meetings.schedule(
            runtime,
            slug,
            body=main,
            title=f"Quarterly meeting ({offset} month{'s' if offset > 1 else ''} ahead)",
            starts_at=datetime.combine(add_months(today, offset), time(10), tzinfo=UTC),
            format="virtual",
            location=None,
            link="https://meet.example.org/alliance",
            agenda=["Welcome and apologies", "Minutes of the last meeting", "Work plan"],
            by=DEMO_ACTOR,
        )
        counts["upcoming"] += 1
    return counts


def _hold_and_minute(
    runtime: Runtime,
    slug: str,
    body: str,
    day: date,
    members: list[str],
    last: dict[str, str],
    counts: dict[str, int],
    quarter: int,
    action_days: int = 45,
) -> None:
    runtime.clock = _at(day - timedelta(days=28), 9)
    title = "Quarterly meeting" if body == "full-membership" else "Executive meeting"
    meeting_id = meetings.schedule(
        runtime,
        slug,
        body=body,
        title=f"{title}, quarter {quarter + 1}",
        starts_at=datetime.combine(day, time(10), tzinfo=UTC),
        format="in-person" if quarter % 2 else "virtual",
        location="Community Hall, High Street" if quarter % 2 else None,
        link=None if quarter % 2 else "https://meet.example.org/alliance",
        agenda=["Welcome and apologies", "Minutes of the last meeting", "Updates"],
        by=DEMO_ACTOR,
    )
    runtime.clock = _at(day, 17)
    present = members[: max(2, len(members) - 1 - quarter % 2)]
    meetings.hold(
        runtime,
        slug,
        meeting_id,
        attendance=[Attendee(member_id=m) for m in present],
        apologies=[m for m in members if m not in present],
        by=DEMO_ACTOR,
    )
    counts["meetings"] += 1
    if body in last:
        minutes.approve(
            runtime,
            slug,
            last[body],
            by_body=body,
            at_meeting_id=meeting_id,
            decision_ref=f"Approved at the meeting of {day.isoformat()}",
            by=DEMO_ACTOR,
        )
        minutes.publish(runtime, slug, last[body], by=DEMO_ACTOR)
    items = [
        Item(
            item_id="welcome",
            title="Welcome and apologies",
            text=f"The chair welcomed {len(present)} member organisations.",
        ),
        Item(
            item_id="updates",
            title="Updates from members",
            text="Members shared news of their services and of policy consultations.",
            decisions=("The alliance will respond to the national consultation.",),
            actions=(
                Action(
                    action_id=f"q{quarter + 1}-response",
                    description="Draft the alliance's consultation response.",
                    owner_kind="member",
                    owner=members[0],
                    due_on=day + timedelta(days=action_days),
                ),
            ),
        ),
    ]
    if quarter in (1, 2):
        items.append(
            Item(
                item_id="case-discussion",
                title="Case discussion",
                text=CONFIDENTIAL_TEXT,
                confidential=True,
            )
        )
        counts["confidential_items"] += 1
    last[body] = minutes.draft(
        runtime,
        slug,
        meeting_id=meeting_id,
        items=items,
        confidential=False,
        confidential_reason=None,
        by=DEMO_ACTOR,
    )
    counts["minutes"] += 1


# ------------------------------------------------------------------------ the umbrella


class UmbrellaAlliance(NamedTuple):
    slug: str
    name: str
    region: str
    template: str
    #: How its governance has gone: "healthy", "needs-attention" or "at-risk".
    expected: str
    story: str


#: The demo umbrella: alliances of every template, some healthy, some not.
UMBRELLA = (
    UmbrellaAlliance(
        "demo-kent-fja",
        "Kent Family Justice Alliance",
        "Kent",
        "family-justice",
        "healthy",
        "meets every quarter, minutes approved and published, required seats filled, "
        "actions done on time, its annual review concluded",
    ),
    UmbrellaAlliance(
        "demo-essex-kin",
        "Essex Kinship Network",
        "East of England",
        "kinship-network",
        "needs-attention",
        "meets every quarter, but one action agreed at a meeting and its 2026 work plan "
        "are overdue",
    ),
    UmbrellaAlliance(
        "demo-devon-kca",
        "Devon Kinship Care Alliance",
        "South West",
        "kinship-care",
        "at-risk",
        "meets every quarter, but its annual ToR review is two months overdue (and it has "
        "agreed no work plan)",
    ),
    UmbrellaAlliance(
        "demo-surrey-cic",
        "Surrey Children in Care Alliance",
        "South East",
        "children-in-care",
        "at-risk",
        "onboarded fifteen months ago and has not held a meeting since",
    ),
    UmbrellaAlliance(
        "demo-leeds-ssf",
        "Leeds Separated Families Alliance",
        "Yorkshire",
        "separated-families",
        "healthy",
        "onboarded today: nothing is due yet",
    ),
)


def create_umbrella(runtime: Runtime) -> dict[str, IssuedKey]:
    """Onboard and fill the demo umbrella's alliances; returns each one's admin key. The
    health snapshots are refreshed at the end, so the directory shows them at once."""
    keys: dict[str, IssuedKey] = {}
    real_clock = runtime.clock
    today = real_clock().date()
    try:
        for alliance in UMBRELLA:
            keys[alliance.slug] = _umbrella_alliance(runtime, alliance, today)
    finally:
        runtime.clock = real_clock
    for alliance in UMBRELLA:
        obligations.refresh(runtime, alliance.slug)
    return keys


def _umbrella_alliance(runtime: Runtime, alliance: UmbrellaAlliance, today: date) -> IssuedKey:
    slug = alliance.slug
    months = {"demo-devon-kca": 14, "demo-surrey-cic": 15, "demo-leeds-ssf": 0}.get(slug, 12)
    start = add_months(today, -months)
    runtime.clock = _at(start, 9)
    _, key = onboarding.onboard(
        runtime,
        slug=slug,
        name=alliance.name,
        region=alliance.region,
        template=alliance.template,
        by=DEMO_ACTOR,
    )
    if months == 0 or slug == "demo-surrey-cic":
        return key
    rules = tenancy.rules_in_force(runtime, slug).rules
    members = _admit_members(runtime, slug, rules, alliance.region)
    healthy = alliance.expected == "healthy"
    _fill_required_seats(runtime, slug, rules, members, start)
    tor_start = start
    if slug == "demo-devon-kca":
        start = add_months(today, -12)  # its first two months without a meeting
    _meet_for_a_year(
        runtime, slug, rules, members, start, today, action_days=120, prep_from=tor_start
    )
    # Every action done on time, but one of Essex's.
    _complete_actions(runtime, slug, leave=1 if slug == "demo-essex-kin" else 0)
    if healthy:
        runtime.clock = _at(today, 8)
        terms.open_review(runtime, slug, by=DEMO_ACTOR)
        terms.conclude_review(
            runtime,
            slug,
            outcome="no-change",
            notes="Reviewed at the annual meeting: the ToR still serve the alliance.",
            amendment_ids=[],
            by=DEMO_ACTOR,
        )
    return key


def _fill_required_seats(
    runtime: Runtime, slug: str, rules: Rules, members: list[str], start: date
) -> None:
    runtime.clock = _at(start, 12)
    seats = [(body, seat.key) for body in rules.bodies for seat in body.required_seats]
    for number, (body, seat) in enumerate(seats):
        offices.take_seat(
            runtime,
            slug,
            body.key,
            member_id=members[number % len(members)],
            organisation=None,
            person_name=None,
            required_seat=seat,
            starts_on=start,
            agreed_by=body.members_agreed_by or body.key,
            decision_ref=f"Founding meeting, seat {number + 1}",
            by=DEMO_ACTOR,
        )


def _complete_actions(runtime: Runtime, slug: str, *, leave: int) -> None:
    """Each action done a week before it is due, but the last `leave` of them."""
    with runtime.tenant(slug) as store, store.read() as sql:
        open_items = sql.all(
            "SELECT action_item_id, due_on FROM action_items WHERE status = 'open'"
            " ORDER BY due_on, action_item_id"
        )
    for row in open_items[: len(open_items) - leave]:
        runtime.clock = _at(date.fromisoformat(row["due_on"]) - timedelta(days=7), 12)
        minutes.complete(runtime, slug, row["action_item_id"], note="Done.", by=DEMO_ACTOR)
