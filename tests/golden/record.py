"""Record a golden event log: run once when new event types are added, then commit.

    .venv/bin/python -m tests.golden.record

An old golden log is never rewritten: its whole point is that events recorded by old
code still replay with today's code. When an event type is added, record a new file
(terms_of_reference_<n>.jsonl) beside the old ones; the tests read them all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder

from domain.action_items import ActionItem
from domain.amendments import Changes, ClauseChange, RuleChange
from domain.confidentiality import ConfidentialityPolicy
from domain.elections import BallotBox, CandidateFacts, Election
from domain.meetings import Attendee, Meeting
from domain.membership import MembershipApplication
from domain.minutes import Action, Item, Minutes, NamedPerson
from domain.motions import Decides, MeetingFacts, Motion
from domain.offices import BodyRoster, OfficeRoll
from domain.privacy import DataSubjectRequests
from domain.rule_checks import Applicant
from domain.templates import template
from domain.terms import TermsOfReference, Version
from domain.work_plan import AnnualWorkPlan
from domain.working_groups import WorkingGroup
from services.applications import DateAsISO

HERE = Path(__file__).parent
TERMS_LOG = HERE / "terms_of_reference.jsonl"
MEMBERSHIP_LOG = HERE / "membership.jsonl"
MEETINGS_LOG = HERE / "meetings.jsonl"
DECISIONS_LOG = HERE / "decisions.jsonl"
PRIVACY_LOG = HERE / "privacy.jsonl"


def record_terms() -> list[dict[str, object]]:
    """Every event type of the ToR aggregate, in a plausible order."""
    doc = template("children-in-care")
    now = datetime.now(UTC)
    terms = TermsOfReference.adopt(
        slug="golden-acic",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=now.date(),
        adopted_by="key:founder",
    )
    longer = Changes(
        rules=(RuleChange(path="offices.co-chair.term_months", value=36),),
        clauses=(ClauseChange(number="1", text="The alliance works to improve the care system."),),
    )
    approved = terms.propose_amendment(
        rationale="longer terms", changes=longer, proposed_by="key:a"
    )
    terms.approve_amendment(
        approved,
        body="full-membership",
        decision_ref="main meeting 4, item 2",
        effective_from=now.date() + timedelta(days=1),
        approved_by="key:a",
        now=now,
    )
    fewer = Changes(rules=(RuleChange(path="membership.max_representatives", value=1),))
    rejected = terms.propose_amendment(rationale="fewer reps", changes=fewer, proposed_by="key:b")
    terms.reject_amendment(
        rejected, reason="no support", decision_ref="main meeting 5", rejected_by="key:a", now=now
    )
    withdrawn = terms.propose_amendment(
        rationale="second thoughts", changes=fewer, proposed_by="key:b"
    )
    terms.withdraw_amendment(withdrawn, withdrawn_by="key:b")
    terms.open_review(opened_by="key:a", now=now)
    terms.conclude_review(
        outcome="no-change",
        notes="fit for purpose",
        amendment_ids=[],
        concluded_by="key:a",
        now=now,
    )
    return _stored(terms)


def record_membership() -> list[dict[str, object]]:
    """Every event type of membership, offices, committees, working groups and work plans."""
    now = datetime.now(UTC)
    kinship = _adopted("kinship-care", now)
    network = _adopted("kinship-network", now)
    family = _adopted("family-justice", now)
    wanted = MembershipApplication.submit(
        terms=kinship,
        applicant=Applicant(
            name="Grandparents Together", signatory_role="Chief executive", legal_entity=True
        ),
        request_text="We would like to join the alliance.",
        signatory_name="Sam Signatory",
        email=None,
        submitted_by="key:officer",
    )
    wanted.circulate(to_body="executive-committee", by="key:officer", terms=kinship)
    member = wanted.decide(
        by_body="executive-committee",
        outcome="admit",
        standing=None,
        reason="",
        decision_ref="executive 3",
        by="key:officer",
        terms=kinship,
    )
    assert member is not None
    unwanted = MembershipApplication.submit(
        terms=kinship,
        applicant=Applicant(name="Late Charity", signatory_role="Chief executive"),
        request_text="Please admit us.",
        signatory_name=None,
        email=None,
        submitted_by="key:officer",
    )
    unwanted.withdraw(reason="merged with another member", by="key:officer")
    recommended = MembershipApplication.submit(
        terms=_adopted("children-in-care", now),
        applicant=Applicant(name="Care Voice"),
        request_text="We support the aims.",
        signatory_name=None,
        email=None,
        submitted_by="key:officer",
    )
    recommended.recommend(
        by_office="co-chair",
        recommendation="admit",
        note="a good fit",
        by="key:officer",
        terms=_adopted("children-in-care", now),
    )
    first = member.add_representative(
        role="Director",
        name="Ada Rep",
        email="ada@example.org",
        principal=None,
        by="key:officer",
        terms=kinship,
    )
    second = member.add_representative(
        role="Manager",
        name="Ben Rep",
        email="ben@example.org",
        principal=False,
        by="key:officer",
        terms=kinship,
    )
    member.make_principal(second, by="key:officer")
    third = member.replace_representative(
        first,
        role="Director",
        name="Cy Rep",
        email="cy@example.org",
        by="key:officer",
        terms=kinship,
    )
    member.remove_representative(second, new_principal_id=third, by="key:officer", terms=kinship)
    member.review_conduct(
        by_body="executive-committee",
        outcome="satisfactory",
        notes="",
        decision_ref="e 4",
        by="key:officer",
        terms=kinship,
    )
    member.suspend(
        reason="unpaid",
        by_body="executive-committee",
        decision_ref="e 5",
        by="key:officer",
        terms=kinship,
    )
    member.reinstate(
        by_body="executive-committee", decision_ref="e 6", by="key:officer", terms=kinship
    )
    member.resign(reason="closing down", by="key:officer")
    removed_application = MembershipApplication.submit(
        terms=kinship,
        applicant=Applicant(name="Other Org", signatory_role="Chief executive"),
        request_text="Join",
        signatory_name=None,
        email=None,
        submitted_by="key:officer",
    )
    removed_application.circulate(to_body="executive-committee", by="key:o", terms=kinship)
    removed = removed_application.decide(
        by_body="executive-committee",
        outcome="admit",
        standing="member",
        reason="",
        decision_ref="e 7",
        by="key:o",
        terms=kinship,
    )
    assert removed is not None
    removed.remove(
        reason="breach of the code",
        by_body="executive-committee",
        decision_ref="e 8",
        by="key:o",
        terms=kinship,
    )
    chair = OfficeRoll.open("chair")
    holding = chair.appoint(
        terms=kinship,
        via="appointed",
        member_id=str(removed.id),
        organisation="Other Org",
        person_name="Chris Chair",
        candidate_is_member=True,
        starts_on=now.date(),
        by_body="full-membership",
        decision_ref="agm",
        election_ref=None,
        outside_approval_ref=None,
        by="key:o",
    )
    chair.leave(holding, reason="stepped down", left_on=now.date() + timedelta(days=30), by="k")
    sponsor = OfficeRoll.open("sponsor")
    sponsor.appoint(
        terms=network,
        via="appointed",
        member_id=None,
        organisation="A County Council",
        person_name="Dee Director",
        candidate_is_member=False,
        starts_on=now.date(),
        by_body=None,
        decision_ref="letter",
        election_ref=None,
        outside_approval_ref=None,
        by="key:o",
    )
    steering = BodyRoster.open("steering-group")
    seat = steering.take_seat(
        terms=family,
        member_id=None,
        organisation="Family Court",
        person_name="Judge J",
        required_seat="judiciary",
        starts_on=now.date(),
        agreed_by="full-membership",
        decision_ref="m 1",
        by="key:o",
    )
    steering.leave(seat, reason="retired", left_on=now.date() + timedelta(days=60), by="k")
    group = WorkingGroup.propose(name="Voice", purpose="Hear children", by="key:o", terms=network)
    group.establish(
        own_terms="Meets monthly",
        leads=["m-1"],
        by_body="full-membership",
        decision_ref="m 2",
        by="key:o",
        terms=network,
    )
    group.change_leads(
        leads=["m-1", "m-2"],
        by_body="full-membership",
        decision_ref="m 3",
        by="key:o",
        terms=network,
    )
    group.join("m-3", by="key:o")
    group.leave("m-3", by="key:o")
    group.record_report(
        title="Interim", summary="Going well", presented_to="full-membership", by="key:o"
    )
    group.dissolve(
        reason="done", by_body="full-membership", decision_ref="m 4", by="key:o", terms=network
    )
    plan = AnnualWorkPlan.draft(year=2027, by="key:o")
    item = plan.add_item(
        title="Map support", description="", body="full-membership", by="key:o", terms=network
    )
    plan.agree(by_body="full-membership", decision_ref="m 5", by="key:o", terms=network)
    plan.progress(item, note="half", by="key:o")
    plan.deliver(item, note="done", by="key:o")
    plan.evaluate_item(item, evaluation="useful", by="key:o")
    plan.evaluate(
        summary="a good year",
        by_body="full-membership",
        decision_ref="m 6",
        by="key:o",
        terms=network,
    )
    return _stored(
        wanted,
        member,
        unwanted,
        recommended,
        removed_application,
        removed,
        chair,
        sponsor,
        steering,
        group,
        plan,
    )


def record_meetings() -> list[dict[str, object]]:
    """Every event type of meetings, minutes, action items and the confidentiality policy."""
    now = datetime.now(UTC)
    kinship = _adopted("kinship-care", now)
    meeting = Meeting.schedule(
        body="full-membership",
        title="Spring meeting",
        starts_at=now + timedelta(days=7),
        format="virtual",
        location=None,
        link="https://meet.example/spring",
        agenda=["Welcome", "Work plan"],
        by="key:officer",
        terms=kinship,
    )
    meeting.add_agenda_item(title="Case review", by="key:officer")
    meeting.withdraw_agenda_item(item_id=next(iter(meeting.agenda)), by="key:officer")
    meeting.reschedule(
        starts_at=now + timedelta(days=14),
        format="in-person",
        location="Town hall",
        link=None,
        reason="room free",
        by="key:officer",
        terms=kinship,
    )
    held_on = (now + timedelta(days=14)).date()
    meeting.hold(
        attendance=[
            Attendee(member_id="m-1", representative_ids=("r-1", "r-2")),
            Attendee(member_id="m-2", representative_ids=("r-3",)),
        ],
        apologies=["m-3"],
        voting_members=["m-1", "m-2", "m-3"],
        today=held_on,
        by="key:officer",
        terms=kinship,
    )
    cancelled = Meeting.schedule(
        body="executive-committee",
        title="Executive",
        starts_at=now + timedelta(days=3),
        format="virtual",
        location=None,
        link=None,
        agenda=[],
        by="key:officer",
        terms=kinship,
    )
    cancelled.cancel(reason="chair unwell", by="key:officer")
    plan = Item(
        item_id="i-1",
        title="Work plan",
        text="The members agreed the work plan.",
        decisions=("Agree the work plan",),
        actions=(
            Action(
                action_id="a-1",
                description="Write to the minister",
                owner_kind="member",
                owner="m-1",
                due_on=held_on + timedelta(days=30),
            ),
        ),
    )
    case = Item(
        item_id="i-2",
        title="Case review",
        text="A family's case was discussed.",
        confidential=True,
    )
    minutes = Minutes.draft(
        meeting_id=str(meeting.id),
        body="full-membership",
        meeting_date=held_on,
        items=[plan],
        confidential=False,
        confidential_reason=None,
        by="key:officer",
        terms=kinship,
    )
    minutes.amend(
        items=[plan, case], confidential=False, confidential_reason=None, by="key:o", terms=kinship
    )
    minutes.approve(
        by_body="full-membership",
        at_meeting_id=None,
        decision_ref="main meeting 2, item 1",
        today=held_on + timedelta(days=90),
        by="key:officer",
        terms=kinship,
    )
    minutes.publish(today=held_on + timedelta(days=91), by="key:officer")
    minutes.correct(
        item_id="i-1",
        text="The work plan was agreed with one abstention.",
        confidential=False,
        reason="the abstention was left out",
        by_body="full-membership",
        decision_ref="main meeting 3, item 1",
        today=held_on + timedelta(days=180),
        by="key:officer",
        terms=kinship,
    )
    action = ActionItem.raise_from_minutes(
        action_id="a-1",
        minutes_id=str(minutes.id),
        meeting_id=str(meeting.id),
        item_id="i-1",
        description="Write to the minister",
        owner_kind="member",
        owner="m-1",
        due_on=held_on + timedelta(days=30),
        confidential=False,
    )
    action.note_progress(note="letter drafted", today=held_on + timedelta(days=95), by="key:m")
    action.complete(note="letter sent", today=held_on + timedelta(days=100), by="key:m")
    policy = ConfidentialityPolicy.first(
        "golden-kinship-care", readers=["tenant-admin", "officer"], by="key:admin"
    )
    policy.change(readers=["tenant-admin", "officer", "auditor"], by="key:admin")
    return _stored(meeting, cancelled, minutes, action, policy, app_class=_DatedApplication)


def record_decisions() -> list[dict[str, object]]:
    """Every event type of motions, elections and ballot boxes."""
    now = datetime.now(UTC)
    care = _adopted("children-in-care", now)
    kinship = _adopted("kinship-care", now)
    main = MeetingFacts(
        meeting_id="mt-1", body="full-membership", main=True, held=True, quorate=True
    )
    members = ["m-1", "m-2", "m-3", "m-4"]
    stance = Motion.propose(
        body="full-membership",
        text="The alliance calls for a care leavers' covenant.",
        proposer_member_id="m-1",
        public_stance=True,
        decides=Decides(),
        person_name=None,
        by="key:officer",
        terms=care,
    )
    stance.seek_consensus(meeting=main, reached=False, by="key:officer", terms=care)
    stance.open_voting(
        meeting=main,
        entitled=members,
        present=members[:2],
        voting_members=len(members),
        closes_at=now + timedelta(days=7),
        now=now,
        by="key:officer",
        terms=care,
    )
    for member_id, choice in zip(members, ("for", "against", "for", "against"), strict=True):
        stance.cast(
            member_id=member_id,
            representative_id=None,
            choice=choice,  # type: ignore[arg-type]
            now=now,
            by="key:member",
            terms=care,
        )
    stance.close_voting(
        now=now + timedelta(days=8),
        casting_holders={"h-1": "m-1", "h-2": "m-2"},
        by="key:officer",
        terms=care,
    )
    stance.give_casting_vote(
        holders={"h-1": "m-1", "h-2": "m-2"},
        votes={"h-1": "for", "h-2": "for"},
        by="key:officer",
        terms=care,
    )
    appointment = Motion.propose(
        body="full-membership",
        text="Appoint a lead member of the education working group.",
        proposer_member_id=None,
        public_stance=False,
        decides=Decides(kind="appointment", office="working-group-lead", member_id="m-3"),
        person_name="Alex Example",
        by="key:officer",
        terms=care,
    )
    appointment.seek_consensus(meeting=main, reached=True, by="key:officer", terms=care)
    appointment.record_effect(ref="holding:h-9")
    refused = Motion.propose(
        body="full-membership",
        text="Appoint another lead member.",
        proposer_member_id=None,
        public_stance=False,
        decides=Decides(kind="appointment", office="working-group-lead", member_id="m-4"),
        person_name="Sam Example",
        by="key:officer",
        terms=care,
    )
    refused.seek_consensus(meeting=main, reached=True, by="key:officer", terms=care)
    refused.record_refused_effect(message="the office is full", violations=[])
    executive = MeetingFacts(
        meeting_id="mt-2", body="executive-committee", main=False, held=True, quorate=True
    )
    escalated = Motion.propose(
        body="executive-committee",
        text="Respond to the consultation on kinship allowances.",
        proposer_member_id="m-2",
        public_stance=False,
        decides=Decides(),
        person_name=None,
        by="key:officer",
        terms=kinship,
    )
    escalated.seek_consensus(meeting=executive, reached=False, by="key:officer", terms=kinship)
    onward = Motion.propose(
        body="full-membership",
        text="Respond to the consultation on kinship allowances.",
        proposer_member_id="m-2",
        public_stance=False,
        decides=Decides(),
        person_name=None,
        referred_from=str(escalated.id),
        by="key:officer",
        terms=kinship,
    )
    escalated.refer(to_motion=str(onward.id), terms=kinship)
    withdrawn = Motion.propose(
        body="full-membership",
        text="Withdrawn motion.",
        proposer_member_id=None,
        public_stance=False,
        decides=Decides(),
        person_name=None,
        by="key:officer",
        terms=care,
    )
    withdrawn.withdraw(reason="overtaken by events", by="key:officer")

    def election() -> Election:
        return Election.open(
            office="co-chair",
            seats=2,
            nominations_close=now + timedelta(days=7),
            voting_opens=now + timedelta(days=7),
            voting_closes=now + timedelta(days=14),
            starts_on=None,
            vacancies=2,
            continuing_organisations=[],
            now=now,
            by="key:officer",
            terms=care,
        )

    secret = election()
    box = BallotBox.place(str(secret.id))
    candidates = [
        secret.nominate(
            candidate=CandidateFacts(
                member_id=member_id,
                organisation=f"Org {n}",
                is_voting_member=True,
                held_before=False,
            ),
            person_name=f"Candidate {n}",
            statement="I would listen to every member.",
            now=now,
            by="key:officer",
            terms=care,
        )
        for n, member_id in enumerate(members[:3])
    ]
    secret.withdraw_nomination(candidate_id=candidates[2], reason="stood down", by="key:officer")
    secret.open_voting(entitled=members, now=now + timedelta(days=8), by="key:officer", terms=care)
    for member_id in members:
        secret.record_turnout(
            member_id=member_id, choices=candidates[:2], now=now + timedelta(days=9), by="key:m"
        )
        box.seal("c2VhbGVkIGJhbGxvdCAoZ29sZGVuIGxvZywgbm90IGEgcmVhbCBjaXBoZXJ0ZXh0KQ==")
    secret.close(
        sealed_ballots=[candidates[:2]] * len(members),
        now=now + timedelta(days=15),
        by="key:officer",
        terms=care,
    )
    secret.record_refused_seat(
        candidate_id=candidates[1],
        message="the organisation was suspended before the count",
        violations=[],
        by="key:officer",
    )
    cancelled = election()
    cancelled.cancel(reason="rules changed", by="key:officer")
    separated = _adopted("separated-families", now)
    open_vote = Election.open(
        office="chair",
        seats=1,
        nominations_close=now + timedelta(days=7),
        voting_opens=now + timedelta(days=7),
        voting_closes=now + timedelta(days=14),
        starts_on=None,
        vacancies=1,
        continuing_organisations=[],
        now=now,
        by="key:officer",
        terms=separated,
    )
    candidate = open_vote.nominate(
        candidate=CandidateFacts(
            member_id="m-1", organisation="Org 1", is_voting_member=True, held_before=False
        ),
        person_name="Candidate 1",
        statement="Open candidacy.",
        now=now,
        by="key:officer",
        terms=separated,
    )
    open_vote.open_voting(
        entitled=members, now=now + timedelta(days=8), by="key:officer", terms=separated
    )
    open_vote.record_vote(
        member_id="m-2", choices=[candidate], now=now + timedelta(days=9), by="key:officer"
    )
    return _stored(
        stance,
        appointment,
        refused,
        escalated,
        onward,
        withdrawn,
        secret,
        box,
        cancelled,
        open_vote,
        app_class=_DatedApplication,
    )


def record_privacy() -> list[dict[str, object]]:
    """Every event type of the register of data-subject requests, and minutes whose item
    names people (recorded plain, as before personal data was sealed)."""
    now = datetime.now(UTC)
    by = "key:tenant-admin"
    register = DataSubjectRequests.open("golden-privacy")
    # Stands for a subject reference (an HMAC under the alliance's secret).
    refs = [hashlib.sha256(b"golden subject").hexdigest()]
    hold = register.place_hold(
        subject_refs=refs,
        reason="safeguarding",
        until=now.date() + timedelta(days=365),
        by=by,
        now=now,
    )
    register.request_erasure(subject_refs=refs, reason="the person asked", by=by, now=now)
    register.lift_hold(hold, reason="the safeguarding review closed", by=by, now=now)
    erased = register.request_erasure(subject_refs=refs, reason="the person asked", by=by, now=now)
    register.complete_erasure(erased, keys_destroyed=2, fields_left=0, by=by, now=now)
    minutes = Minutes.draft(
        meeting_id="golden-meeting",
        body="full-membership",
        meeting_date=now.date(),
        items=[
            Item(
                item_id="case",
                title="Case review",
                text="{1} reported on the case; {2} will follow it up.",
                confidential=True,
                people=(
                    NamedPerson(name="Robin Example", email="robin@example.org"),
                    NamedPerson(name="Sky Example"),
                ),
            )
        ],
        confidential=False,
        confidential_reason=None,
        by="key:officer",
        terms=_adopted("kinship-care", now),
    )
    return _stored(register, minutes, app_class=_DatedApplication)


class _DatedApplication(Application):
    """Keeps days (meeting dates, due dates) as the alliance store does."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def _adopted(name: str, now: datetime) -> Version:
    doc = template(name)
    terms = TermsOfReference.adopt(
        slug=f"golden-{name}",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=now.date(),
        adopted_by="key:founder",
    )
    return terms.in_force_at(now)


def _stored(
    *aggregates: Aggregate, app_class: type[Application] = Application
) -> list[dict[str, object]]:
    app: Application = app_class(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(*aggregates)
    return [
        {
            "originator_id": str(n.originator_id),
            "originator_version": n.originator_version,
            "topic": n.topic,
            "state": json.loads(n.state),
        }
        for n in app.recorder.select_notifications(start=1, limit=1000)
    ]


def main() -> None:
    """Record each golden log that does not exist yet; existing ones are never rewritten."""
    for path, record in (
        (TERMS_LOG, record_terms),
        (MEMBERSHIP_LOG, record_membership),
        (MEETINGS_LOG, record_meetings),
        (DECISIONS_LOG, record_decisions),
        (PRIVACY_LOG, record_privacy),
    ):
        if path.exists():
            print(f"{path.name} exists: golden logs are never rewritten")
            continue
        rows = record()
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        print(f"recorded {len(rows)} events in {path}")


if __name__ == "__main__":
    main()
