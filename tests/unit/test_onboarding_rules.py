"""Onboarding from the umbrella, in the domain: a start date, a modified template and the
alliance's first officers, checked before anything is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest
from eventsourcing.application import Application

from domain.amendments import Changes, ClauseChange, RuleChange
from domain.errors import AmendmentInvalid, RulesBroken
from domain.offices import FoundingOfficer, FoundingOfficerRefused, found_offices
from domain.templates import template
from domain.tenant import StartDateOutOfBounds, checked_start_date
from domain.terms import TermsOfReference, add_months

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
START = date(2026, 3, 1)


def adopted(
    name: str = "children-in-care", *, start: date = START, changes: Changes | None = None
) -> TermsOfReference:
    doc = template(name)
    return TermsOfReference.adopt(
        slug="acic",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=start,
        adopted_by="key:umbrella",
        changes=changes,
    )


# ----------------------------------------------------------------------------- start date


def test_version_ones_review_falls_due_a_cadence_after_it_took_effect_not_after_it_was_recorded():
    terms = adopted("children-in-care", start=START)

    assert terms.latest.adopted_at.date() != START  # recorded today, in force since March
    assert terms.review_due_on() == date(2029, 3, 1)  # 36 months after the start date


def test_a_start_date_still_to_come_puts_the_first_review_a_cadence_after_it():
    later = date(2027, 6, 15)
    terms = adopted("family-justice", start=later)

    assert terms.review_due_on() == date(2028, 6, 15)
    # Until its first day, commands are checked against version 1 all the same.
    assert terms.in_force(NOW) is None
    assert terms.in_force_at(NOW).number == 1


def test_a_later_version_is_still_reviewed_a_cadence_after_its_adoption():
    terms = adopted("children-in-care", start=START)
    amendment = terms.propose_amendment(
        rationale="longer terms",
        changes=Changes(rules=(RuleChange(path="offices.co-chair.term_months", value=36),)),
        proposed_by="k",
    )
    now = datetime.now(UTC)
    terms.approve_amendment(
        amendment,
        body="full-membership",
        decision_ref="d",
        effective_from=now.date(),
        approved_by="k",
        now=now,
    )

    assert terms.review_due_on() == add_months(terms.latest.adopted_at.date(), 36)


@pytest.mark.parametrize(
    ("start", "accepted"),
    [
        (date(2025, 11, 23), True),  # a year before: the earliest
        (date(2025, 11, 22), False),
        (date(2027, 11, 23), True),  # a year after: the latest
        (date(2027, 11, 24), False),
        (date(2062, 11, 23), False),
    ],
)
def test_a_start_date_lies_within_a_year_of_the_onboarding_day(start, accepted):
    today = date(2026, 11, 23)
    if accepted:
        assert checked_start_date(start, today) == start
        return
    with pytest.raises(StartDateOutOfBounds) as raised:
        checked_start_date(start, today)
    assert "start_date" in raised.value.message
    assert "2025-11-23 and 2027-11-23" in raised.value.message


# ----------------------------------------------------------------------------- modified template


def test_a_modified_template_is_version_one_with_the_changes_and_says_so():
    changes = Changes(
        rules=(RuleChange(path="offices.co-chair.term_months", value=36),),
        clauses=(ClauseChange(number="6.1", text="Co-chairs serve three years."),),
    )

    terms = adopted(changes=changes)

    office = terms.latest.rules.office("co-chair")
    assert office is not None and office.term_months == 36
    assert template("children-in-care").rules.office("co-chair").term_months == 24  # type: ignore[union-attr]
    assert [c.text for c in terms.latest.clauses if c.number == "6.1"] == [
        "Co-chairs serve three years."
    ]
    assert terms.template == "children-in-care"
    assert terms.template_changes is not None
    assert [r["path"] for r in terms.template_changes["rules"]] == ["offices.co-chair.term_months"]
    assert adopted().template_changes is None


@pytest.mark.parametrize(
    ("path", "value", "clause"),
    [
        ("decisions.full-membership.casting_vote_office", "treasurer", "5"),
        ("offices.co-chair.appointed_by", "board", "6"),
        ("offices.co-chair.seats", 0, None),
        ("offices.nope.seats", 1, None),
    ],
)
def test_a_template_change_is_refused_exactly_as_the_same_amendment_would_be(path, value, clause):
    changes = Changes(rules=(RuleChange(path=path, value=value),))
    with pytest.raises(AmendmentInvalid) as as_amendment:
        adopted().propose_amendment(rationale="r", changes=changes, proposed_by="k")

    with pytest.raises(AmendmentInvalid) as at_onboarding:
        adopted(changes=changes)

    assert at_onboarding.value.violations == as_amendment.value.violations
    assert at_onboarding.value.clause == clause
    assert at_onboarding.value.violations[0].rule == path


def test_an_adoption_recorded_before_template_changes_existed_still_loads():
    app: Application = Application()
    terms = adopted()
    app.save(terms)
    stored = app.recorder.select_events(terms.id)[0]
    state = msgspec.json.decode(stored.state)
    # As version 1 of the event class wrote it: no class_version, no template_changes.
    del state["class_version"], state["template_changes"]
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=msgspec.json.encode(state),
    )

    event = app.mapper.to_domain_event(old)
    rebuilt = event.mutate(None)

    assert event.template_changes is None  # type: ignore[attr-defined]
    assert rebuilt is not None and rebuilt.versions == terms.versions


# ----------------------------------------------------------------------------- first officers


def test_first_officers_hold_their_office_from_the_start_date_for_its_term():
    terms = adopted("children-in-care").latest
    officers = [
        FoundingOfficer(office="co-chair", organisation="Coram Voice", person_name="Ada Lovelace"),
        FoundingOfficer(office="co-chair", organisation="Become", decision_ref="founding minute"),
    ]

    (roll,) = found_offices(terms, officers, starts_on=START, by="key:umbrella")

    events = roll.collect_events()
    appointed = [e for e in events if isinstance(e, type(roll).HolderAppointed)]
    assert [(e.organisation, e.person, e.via, e.by) for e in appointed] == [
        ("Coram Voice", {"name": "Ada Lovelace"}, "onboarding", "key:umbrella"),
        ("Become", {"name": None}, "onboarding", "key:umbrella"),
    ]
    # Elected co-chairs: the founding agreement named them, no election was held.
    assert {(e.starts_on, e.ends_on) for e in appointed} == {("2026-03-01", "2028-03-01")}
    assert [e.decision_ref for e in appointed] == [None, "founding minute"]
    assert all(e.under_version == 1 and e.by_body is None for e in appointed)


def test_an_unknown_office_is_refused_naming_the_entry_and_the_offices():
    terms = adopted("children-in-care").latest

    with pytest.raises(FoundingOfficerRefused) as raised:
        found_offices(
            terms,
            [
                FoundingOfficer(office="co-chair", organisation="Coram Voice"),
                FoundingOfficer(office="treasurer", organisation="Become"),
            ],
            starts_on=START,
            by="k",
        )

    assert raised.value.message.startswith("officers[1] (treasurer): ")
    assert "co-chair, working-group-lead" in raised.value.message
    assert raised.value.violations[0].rule == "offices"
    assert raised.value.clause == "6"  # the first clause about offices


def test_a_second_holder_of_a_one_seat_office_is_refused_with_its_clause():
    terms = adopted("kinship-care").latest

    with pytest.raises(FoundingOfficerRefused) as raised:
        found_offices(
            terms,
            [
                FoundingOfficer(office="chair", organisation="Grandparents Plus"),
                FoundingOfficer(office="chair", organisation="Family Rights Group"),
            ],
            starts_on=START,
            by="k",
        )

    assert isinstance(raised.value, RulesBroken)
    assert raised.value.violations[0].rule == "offices.chair.seats"
    assert raised.value.message.startswith("officers[1] (chair): ")
    assert raised.value.clause is not None
    assert f"ToR clause {raised.value.clause}" in raised.value.message


def test_co_chairs_from_one_organisation_are_refused_at_onboarding_too():
    terms = adopted("children-in-care").latest

    with pytest.raises(FoundingOfficerRefused) as raised:
        found_offices(
            terms,
            [
                FoundingOfficer(office="co-chair", organisation="Coram Voice", person_name="A"),
                FoundingOfficer(office="co-chair", organisation="Coram  voice", person_name="B"),
            ],
            starts_on=START,
            by="k",
        )

    assert raised.value.violations[0].rule == "offices.co-chair.distinct_organisations"
    assert raised.value.clause == "6"


def test_the_same_officer_named_twice_is_refused_not_a_conflict():
    terms = adopted("children-in-care").latest
    same = FoundingOfficer(office="co-chair", organisation="Coram Voice", person_name="Ada")

    with pytest.raises(FoundingOfficerRefused) as raised:
        found_offices(terms, [same, same], starts_on=START, by="k")

    assert raised.value.message.startswith("officers[1] (co-chair): ")
    assert raised.value.violations[0].rule == "offices.co-chair"


def test_a_changed_office_is_filled_as_version_one_has_it():
    changes = Changes(rules=(RuleChange(path="offices.co-chair.seats", value=3),))
    terms = adopted(changes=changes).latest
    officers = [FoundingOfficer(office="co-chair", organisation=name) for name in ("A", "B", "C")]

    (roll,) = found_offices(terms, officers, starts_on=START, by="k")

    assert len(roll.holders_on(START)) == 3
    with pytest.raises(FoundingOfficerRefused):
        found_offices(adopted().latest, officers, starts_on=START, by="k")


def test_a_normal_appointment_is_still_held_to_how_the_office_is_filled():
    """The founding exemptions apply to `via="onboarding"` only."""
    terms = adopted("children-in-care").latest
    (roll,) = found_offices(
        terms, [FoundingOfficer(office="co-chair", organisation="A")], starts_on=START, by="k"
    )

    with pytest.raises(RulesBroken) as raised:
        roll.appoint(
            terms=terms,
            via="appointed",
            member_id=None,
            organisation="B",
            person_name=None,
            candidate_is_member=False,
            starts_on=START,
            by_body=None,
            decision_ref="d",
            election_ref=None,
            outside_approval_ref=None,
            by="k",
        )

    rules = {v.rule for v in raised.value.violations}
    assert {"offices.co-chair.selection", "offices.co-chair.from_membership"} <= rules
