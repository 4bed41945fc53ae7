"""The Terms of Reference aggregate: versions, amendments, reviews, and rules that hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from eventsourcing.application import Application

from domain.amendments import Changes, ClauseChange, RuleChange
from domain.errors import (
    AmendmentInvalid,
    AmendmentNotOpen,
    AmendmentStale,
    EffectiveDateTooEarly,
    NoReviewOpen,
    ReviewAlreadyOpen,
    ReviewOutcomeMismatch,
    RulesBroken,
)
from domain.rules import Seat
from domain.templates import template
from domain.terms import APPROVED, REJECTED, WITHDRAWN, TermsOfReference, add_months

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def adopted(name: str = "children-in-care") -> TermsOfReference:
    doc = template(name)
    return TermsOfReference.adopt(
        slug="acic",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=NOW.date(),
        adopted_by="key:founder",
    )


def longer_terms() -> Changes:
    return Changes(rules=(RuleChange(path="offices.co-chair.term_months", value=36),))


def test_adoption_makes_version_one_from_the_template():
    terms = adopted()

    assert [v.number for v in terms.versions] == [1]
    assert terms.latest.rules == template("children-in-care").rules
    assert terms.latest.effective_from == NOW.date()
    assert terms.template == "children-in-care"


def test_a_contradictory_tor_cannot_be_adopted():
    doc = template("kinship-care")
    executive = doc.rules.body("executive-committee")
    assert executive is not None
    seats = tuple(Seat(key=f"seat-{n}", name=f"Seat {n}") for n in range(9))
    broken_body = msgspec.structs.replace(executive, required_seats=seats)
    broken = msgspec.structs.replace(
        doc.rules,
        bodies=tuple(broken_body if b.key == executive.key else b for b in doc.rules.bodies),
    )

    with pytest.raises(RulesBroken) as raised:
        TermsOfReference.adopt(
            slug="kca",
            template="kinship-care",
            clauses=doc.clauses,
            rules=broken,
            effective_from=NOW.date(),
            adopted_by="k",
        )
    assert raised.value.violations[0].rule == "bodies.executive-committee.max_members"
    assert "at most 7 members but 9 seats" in raised.value.message


def test_an_approved_amendment_adopts_a_new_version_from_its_date():
    terms = adopted()
    amendment = terms.propose_amendment(
        rationale="longer terms", changes=longer_terms(), proposed_by="key:officer"
    )
    effective = NOW.date() + timedelta(days=30)

    number = terms.approve_amendment(
        amendment,
        body="full-membership",
        decision_ref="minutes 2026-11 item 4",
        effective_from=effective,
        approved_by="key:officer",
        now=NOW,
    )

    assert number == 2
    assert terms.amendments[amendment].state == APPROVED
    new = terms.versions[1]
    assert new.rules.office("co-chair").term_months == 36
    assert terms.versions[0].rules.office("co-chair").term_months == 24  # immutable
    assert terms.in_force(NOW).number == 1
    assert terms.in_force(datetime.combine(effective, datetime.min.time(), UTC)).number == 2
    events = terms.collect_events()
    approved = events[-1]
    assert isinstance(approved, TermsOfReference.AmendmentApproved)
    assert approved.under_version == 1 and approved.approved_by_body == "full-membership"


def test_only_the_body_the_tor_names_may_approve_and_the_refusal_cites_the_clause():
    terms = adopted()
    amendment = terms.propose_amendment(rationale="r", changes=longer_terms(), proposed_by="k")

    with pytest.raises(RulesBroken) as raised:
        terms.approve_amendment(
            amendment,
            body="working-groups",
            decision_ref="x",
            effective_from=NOW.date(),
            approved_by="k",
            now=NOW,
        )

    assert raised.value.violations[0].rule == "review.amendments_approved_by"
    assert raised.value.clause is not None
    assert f"clause {raised.value.clause}" in raised.value.message


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            Changes(rules=(RuleChange(path="offices.co-chair.term_months", value=0),)),
            "offices.co-chair.term_months",
        ),
        (
            Changes(rules=(RuleChange(path="offices.co-chair.term_months", value="two years"),)),
            "offices.co-chair.term_months",
        ),
        (
            Changes(rules=(RuleChange(path="offices.treasurer.term_months", value=12),)),
            "offices.treasurer",
        ),
        (
            Changes(rules=(RuleChange(path="review.cadence_months", value=0),)),
            "review.cadence_months",
        ),
        (
            Changes(rules=(RuleChange(path="review.amendments_approved_by", value="the-board"),)),
            "review.amendments_approved_by",
        ),
        (
            Changes(
                rules=(
                    RuleChange(
                        path="decisions.full-membership.casting_vote_office", value="president"
                    ),
                )
            ),
            "casting_vote_office",
        ),
        (
            Changes(rules=(RuleChange(path="membership.favourite_colour", value="blue"),)),
            "favourite_colour",
        ),
        (Changes(clauses=(ClauseChange(number="99", text="no heading"),)), "heading"),
        (Changes(clauses=(ClauseChange(number="98", remove=True),)), "does not exist"),
        (Changes(), "must change"),
        (
            Changes(rules=(RuleChange(path="offices.co-chair.term_months", value=24),)),
            "exactly as it is",
        ),
    ],
)
def test_bad_amendments_are_refused_naming_the_rule(changes, named):
    terms = adopted()

    with pytest.raises(AmendmentInvalid) as raised:
        terms.propose_amendment(rationale="r", changes=changes, proposed_by="k")

    assert named in raised.value.message or any(named in v.rule for v in raised.value.violations)
    assert terms.collect_events()[-1].__class__ is TermsOfReference.Adopted


def test_clauses_can_be_added_reworded_and_removed():
    terms = adopted()
    last = terms.latest.clauses[-1].number
    new_number = str(int(last.split(".")[0]) + 1)
    changes = Changes(
        clauses=(
            ClauseChange(
                number=new_number, heading="Data protection", text="Members keep data safe."
            ),
            ClauseChange(number=terms.latest.clauses[0].number, text="A reworded opening."),
        )
    )
    amendment = terms.propose_amendment(rationale="r", changes=changes, proposed_by="k")

    terms.approve_amendment(
        amendment,
        body="full-membership",
        decision_ref="d",
        effective_from=NOW.date(),
        approved_by="k",
        now=NOW,
    )

    numbers = [c.number for c in terms.latest.clauses]
    assert numbers[-1] == new_number
    assert terms.latest.clauses[0].text == "A reworded opening."


def test_an_amendment_against_an_older_version_is_stale():
    terms = adopted()
    first = terms.propose_amendment(rationale="a", changes=longer_terms(), proposed_by="k")
    second = terms.propose_amendment(
        rationale="b",
        changes=Changes(rules=(RuleChange(path="membership.max_representatives", value=3),)),
        proposed_by="k",
    )
    terms.approve_amendment(
        first,
        body="full-membership",
        decision_ref="d",
        effective_from=NOW.date(),
        approved_by="k",
        now=NOW,
    )

    with pytest.raises(AmendmentStale):
        terms.approve_amendment(
            second,
            body="full-membership",
            decision_ref="d",
            effective_from=NOW.date(),
            approved_by="k",
            now=NOW,
        )


def test_a_version_cannot_take_effect_in_the_past():
    terms = adopted()
    amendment = terms.propose_amendment(rationale="a", changes=longer_terms(), proposed_by="k")

    with pytest.raises(EffectiveDateTooEarly):
        terms.approve_amendment(
            amendment,
            body="full-membership",
            decision_ref="d",
            effective_from=NOW.date() - timedelta(days=1),
            approved_by="k",
            now=NOW,
        )


def test_decided_amendments_cannot_be_decided_again():
    terms = adopted()
    rejected = terms.propose_amendment(rationale="a", changes=longer_terms(), proposed_by="k")
    withdrawn = terms.propose_amendment(rationale="b", changes=longer_terms(), proposed_by="k")

    terms.reject_amendment(
        rejected, reason="no support", decision_ref="d", rejected_by="k", now=NOW
    )
    terms.withdraw_amendment(withdrawn, withdrawn_by="k")

    assert terms.amendments[rejected].state == REJECTED
    assert terms.amendments[withdrawn].state == WITHDRAWN
    with pytest.raises(AmendmentNotOpen):
        terms.approve_amendment(
            rejected,
            body="full-membership",
            decision_ref="d",
            effective_from=NOW.date(),
            approved_by="k",
            now=NOW,
        )
    with pytest.raises(AmendmentNotOpen):
        terms.withdraw_amendment(withdrawn, withdrawn_by="k")


def test_reviews_open_and_conclude_one_at_a_time():
    terms = adopted()

    with pytest.raises(NoReviewOpen):
        terms.conclude_review(
            outcome="no-change", notes="", amendment_ids=[], concluded_by="k", now=NOW
        )
    terms.open_review(opened_by="k", now=NOW)
    with pytest.raises(ReviewAlreadyOpen):
        terms.open_review(opened_by="k", now=NOW)
    terms.conclude_review(
        outcome="no-change", notes="all fine", amendment_ids=[], concluded_by="k", now=NOW
    )

    assert terms.review_open is False
    assert terms.last_reviewed_on is not None


def test_the_next_review_falls_due_a_cadence_after_adoption():
    terms = adopted("children-in-care")

    # Version 1 counts from the day it took effect (tests/unit/test_onboarding_rules.py).
    assert terms.review_due_on() == add_months(terms.latest.effective_from, 36)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_replaying_the_events_rebuilds_the_same_versions():
    app: Application = Application()
    terms = adopted()
    amendment = terms.propose_amendment(rationale="a", changes=longer_terms(), proposed_by="k")
    terms.approve_amendment(
        amendment,
        body="full-membership",
        decision_ref="d",
        effective_from=NOW.date(),
        approved_by="k",
        now=NOW,
    )
    terms.open_review(opened_by="k", now=NOW)
    app.save(terms)

    replayed = app.repository.get(terms.id)

    assert replayed.versions == terms.versions
    assert replayed.amendments == terms.amendments
    assert replayed.review_open is True


def test_a_review_outcome_must_match_the_amendments_it_names():
    terms = adopted()
    amendment = terms.propose_amendment(rationale="a", changes=longer_terms(), proposed_by="k")
    terms.open_review(opened_by="k", now=NOW)

    with pytest.raises(ReviewOutcomeMismatch):
        terms.conclude_review(
            outcome="amendments-proposed", notes="", amendment_ids=[], concluded_by="k", now=NOW
        )
    with pytest.raises(ReviewOutcomeMismatch):
        terms.conclude_review(
            outcome="no-change", notes="", amendment_ids=[amendment], concluded_by="k", now=NOW
        )
    terms.conclude_review(
        outcome="amendments-proposed",
        notes="",
        amendment_ids=[amendment],
        concluded_by="k",
        now=NOW,
    )
    assert terms.review_open is False
