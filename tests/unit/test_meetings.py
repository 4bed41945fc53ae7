"""Meetings: scheduled for a body of the ToR in a format it allows, rescheduled, cancelled,
given an agenda, then held with the attendance, apologies and quorum recorded.

Given a meeting built by earlier commands (its events already collected), when one command
runs, then only its new events are pending, or it is refused (with the template's clause
where the rule is the ToR's) and nothing at all is pending.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from eventsourcing.application import Application

from domain.errors import MeetingStateConflict, RulesBroken
from domain.meetings import CANCELLED, HELD, SCHEDULED, Attendee, InvalidMeeting, Meeting
from domain.rule_checks import attendance_limit, quorum_needed
from domain.rules import DecisionRule, Quorum, Rules
from domain.terms import Version
from services.applications import DateAsISO
from tests.unit.tor import ACIC, FJA, KCA, NOW, TODAY, refusal, terms_of

DAY = NOW + timedelta(days=7)


def schedule(
    terms: Version = KCA,
    *,
    body: str = "full-membership",
    format: str = "virtual",
    location: str | None = None,
    agenda: tuple[str, ...] = ("Welcome", "Work plan"),
) -> Meeting:
    return Meeting.schedule(
        body=body,
        title="Quarterly meeting",
        starts_at=DAY,
        format=format,
        location=location,
        link="https://meet.example/q1" if format == "virtual" else None,
        agenda=list(agenda),
        by="key:officer",
        terms=terms,
    )


def given_scheduled(terms: Version = KCA, *, body: str = "full-membership") -> Meeting:
    meeting = schedule(terms, body=body)
    meeting.collect_events()
    return meeting


def hold(
    meeting: Meeting,
    terms: Version = KCA,
    *,
    attendance: tuple[Attendee, ...] = (),
    apologies: tuple[str, ...] = (),
    voting: tuple[str, ...] = (),
    today=None,
) -> None:
    meeting.hold(
        attendance=list(attendance),
        apologies=list(apologies),
        voting_members=voting,
        today=DAY.date() if today is None else today,
        by="key:officer",
        terms=terms,
    )


def came(member_id: str, *people: str) -> Attendee:
    return Attendee(member_id=member_id, representative_ids=people)


def with_meeting_rule(terms: Version, name: str, body: str, **changes) -> Version:
    rule = terms.rules.meeting_rule(body)
    assert rule is not None
    changed = msgspec.structs.replace(rule, **changes)
    meetings = tuple(changed if m.key == body else m for m in terms.rules.meetings)
    return terms_of(name, msgspec.structs.replace(terms.rules, meetings=meetings))


def with_quorum(terms: Version, name: str, body: str, quorum: Quorum | None) -> Version:
    rule = terms.rules.decision_rule(body)
    decisions: tuple[DecisionRule, ...]
    if rule is None:
        decisions = (*terms.rules.decisions, DecisionRule(key=body, quorum=quorum))
    else:
        changed = msgspec.structs.replace(rule, quorum=quorum)
        decisions = tuple(changed if d.key == body else d for d in terms.rules.decisions)
    rules: Rules = msgspec.structs.replace(terms.rules, decisions=decisions)
    return terms_of(name, rules)


# --------------------------------------------------------------------------- scheduling


def test_a_meeting_of_a_body_of_the_tor_is_scheduled_with_its_agenda():
    meeting = schedule()

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.Scheduled]
    scheduled = events[0]
    assert scheduled.body == "full-membership"
    assert scheduled.starts_at == DAY
    assert scheduled.format == "virtual"
    assert scheduled.scheduled_by == "key:officer"
    assert scheduled.under_version == 1
    assert [item["title"] for item in scheduled.agenda] == ["Welcome", "Work plan"]
    assert len({item["item_id"] for item in scheduled.agenda}) == 2
    assert meeting.status == SCHEDULED
    assert list(meeting.agenda.values()) == ["Welcome", "Work plan"]
    assert meeting.held_on is None


@pytest.mark.parametrize(
    ("terms", "body", "main"),
    [
        (KCA, "full-membership", True),
        (KCA, "executive-committee", False),
        (FJA, "steering-group", False),
        (ACIC, "working-groups", False),
    ],
    ids=["full-membership", "executive", "steering-group", "working-groups"],
)
def test_a_meeting_of_the_full_membership_is_a_main_meeting(terms, body, main):
    meeting = schedule(terms, body=body)

    (scheduled,) = meeting.collect_events()
    assert scheduled.main is main
    assert meeting.main is main


def test_a_meeting_of_a_body_the_tor_does_not_have_is_refused():
    with pytest.raises(RulesBroken) as raised:
        schedule(KCA, body="the-pub")

    # Like an office the ToR does not have: no clause carries a body that is not there.
    assert refusal(raised) == ("bodies", None)
    assert "'the-pub'" in raised.value.message


def test_a_meeting_is_held_only_in_a_format_the_tor_allows_its_body():
    online_only = with_meeting_rule(KCA, "kinship-care", "full-membership", formats=("virtual",))

    with pytest.raises(RulesBroken) as raised:
        schedule(online_only, format="in-person", location="Town hall")

    assert refusal(raised) == ("meetings.full-membership.formats", "7")
    assert "virtual" in raised.value.message


def test_the_format_rule_of_one_body_does_not_bind_another():
    online_only = with_meeting_rule(KCA, "kinship-care", "full-membership", formats=("virtual",))

    meeting = schedule(
        online_only, body="executive-committee", format="in-person", location="Town hall"
    )

    assert [type(e) for e in meeting.collect_events()] == [Meeting.Scheduled]


@pytest.mark.parametrize("location", [None, ""], ids=["none", "empty"])
def test_a_meeting_in_person_needs_a_location(location):
    with pytest.raises(InvalidMeeting):
        schedule(format="in-person", location=location)


def test_a_virtual_meeting_needs_no_location():
    meeting = schedule(format="virtual", location=None)

    assert meeting.status == SCHEDULED


# --------------------------------------------------------------------------- rescheduling


def test_a_scheduled_meeting_is_rescheduled():
    meeting = given_scheduled()
    later = DAY + timedelta(days=14)

    meeting.reschedule(
        starts_at=later,
        format="in-person",
        location="Town hall",
        link=None,
        reason="room clash",
        by="key:officer",
        terms=KCA,
    )

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.Rescheduled]
    assert events[0].starts_at == later
    assert events[0].location == "Town hall"
    assert events[0].reason == "room clash"
    assert meeting.starts_at == later
    assert meeting.status == SCHEDULED


def test_a_meeting_is_rescheduled_only_into_a_format_the_tor_allows():
    online_only = with_meeting_rule(KCA, "kinship-care", "full-membership", formats=("virtual",))
    meeting = given_scheduled(online_only)

    with pytest.raises(RulesBroken) as raised:
        meeting.reschedule(
            starts_at=DAY,
            format="in-person",
            location="Town hall",
            link=None,
            reason="r",
            by="k",
            terms=online_only,
        )

    assert refusal(raised) == ("meetings.full-membership.formats", "7")
    assert meeting.collect_events() == []


def test_a_meeting_rescheduled_in_person_needs_a_location():
    meeting = given_scheduled()

    with pytest.raises(InvalidMeeting):
        meeting.reschedule(
            starts_at=DAY,
            format="in-person",
            location=None,
            link=None,
            reason="r",
            by="k",
            terms=KCA,
        )

    assert meeting.collect_events() == []
    assert meeting.starts_at == DAY


def test_a_rescheduled_meeting_is_held_on_its_new_day_and_not_before():
    meeting = given_scheduled()
    later = DAY + timedelta(days=14)
    meeting.reschedule(
        starts_at=later, format="virtual", location=None, link=None, reason="r", by="k", terms=KCA
    )
    meeting.collect_events()

    with pytest.raises(MeetingStateConflict):
        hold(meeting, today=DAY.date())
    hold(meeting, today=later.date())

    (held,) = meeting.collect_events()
    assert held.held_on == later.date()


# --------------------------------------------------------------------------- the agenda


def test_an_agenda_item_is_added_to_a_scheduled_meeting():
    meeting = given_scheduled()

    item_id = meeting.add_agenda_item(title="Any other business", by="key:member")

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.AgendaItemAdded]
    assert events[0].item_id == item_id
    assert events[0].title == "Any other business"
    assert meeting.agenda[item_id] == "Any other business"
    assert len(meeting.agenda) == 3


def test_an_agenda_item_is_withdrawn():
    meeting = given_scheduled()
    first = next(iter(meeting.agenda))

    meeting.withdraw_agenda_item(item_id=first, by="key:officer")

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.AgendaItemWithdrawn]
    assert events[0].item_id == first
    assert list(meeting.agenda.values()) == ["Work plan"]


def test_an_agenda_item_the_meeting_does_not_have_cannot_be_withdrawn():
    meeting = given_scheduled()

    with pytest.raises(InvalidMeeting):
        meeting.withdraw_agenda_item(item_id="no-such-item", by="key:officer")

    assert meeting.collect_events() == []
    assert len(meeting.agenda) == 2


# --------------------------------------------------------------------------- cancelling


def test_a_scheduled_meeting_is_cancelled():
    meeting = given_scheduled()

    meeting.cancel(reason="chair unwell", by="key:officer")

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.Cancelled]
    assert events[0].reason == "chair unwell"
    assert meeting.status == CANCELLED


def given_cancelled() -> Meeting:
    meeting = given_scheduled()
    meeting.cancel(reason="chair unwell", by="key:officer")
    meeting.collect_events()
    return meeting


ACTS_ON_A_SCHEDULED_MEETING = {
    "hold": hold,
    "cancel": lambda m: m.cancel(reason="again", by="k"),
    "reschedule": lambda m: m.reschedule(
        starts_at=DAY, format="virtual", location=None, link=None, reason="r", by="k", terms=KCA
    ),
    "add-agenda-item": lambda m: m.add_agenda_item(title="AOB", by="k"),
    "withdraw-agenda-item": lambda m: m.withdraw_agenda_item(item_id=next(iter(m.agenda)), by="k"),
}


@pytest.mark.parametrize("act", list(ACTS_ON_A_SCHEDULED_MEETING))
def test_a_cancelled_meeting_takes_no_further_step(act):
    meeting = given_cancelled()

    with pytest.raises(MeetingStateConflict) as raised:
        ACTS_ON_A_SCHEDULED_MEETING[act](meeting)

    assert "cancelled" in raised.value.message
    assert meeting.collect_events() == []
    assert meeting.status == CANCELLED


@pytest.mark.parametrize("act", list(ACTS_ON_A_SCHEDULED_MEETING))
def test_a_held_meeting_takes_no_further_step(act):
    meeting = given_scheduled()
    hold(meeting, attendance=(came("m-1", "r-1"),), voting=("m-1",))
    meeting.collect_events()

    with pytest.raises(MeetingStateConflict) as raised:
        ACTS_ON_A_SCHEDULED_MEETING[act](meeting)

    assert "held" in raised.value.message
    assert meeting.collect_events() == []
    assert meeting.status == HELD


# --------------------------------------------------------------------------- holding


def test_a_meeting_is_held_with_its_attendance_and_apologies():
    meeting = given_scheduled()

    hold(
        meeting,
        attendance=(came("m-1", "r-1", "r-2"), came("m-2", "r-3")),
        apologies=("m-4", "m-3", "m-4"),
        voting=("m-1", "m-2", "m-3", "m-4"),
    )

    events = meeting.collect_events()
    assert [type(e) for e in events] == [Meeting.Held]
    held = events[0]
    assert held.held_on == DAY.date()
    assert msgspec.json.decode(msgspec.json.encode(held.attendance)) == [
        {"member_id": "m-1", "representative_ids": ["r-1", "r-2"]},
        {"member_id": "m-2", "representative_ids": ["r-3"]},
    ]
    assert held.apologies == ["m-3", "m-4"]
    assert held.by == "key:officer"
    assert held.under_version == 1
    assert meeting.status == HELD
    assert meeting.held_on == DAY.date()


def test_a_meeting_is_held_on_its_day_or_after():
    meeting = given_scheduled()

    hold(meeting, today=DAY.date() + timedelta(days=3))

    (held,) = meeting.collect_events()
    # The day it met, not the day it was recorded.
    assert held.held_on == DAY.date()


def test_a_meeting_cannot_be_recorded_as_held_before_its_day():
    meeting = given_scheduled()

    with pytest.raises(MeetingStateConflict) as raised:
        hold(meeting, today=DAY.date() - timedelta(days=1))

    assert DAY.date().isoformat() in raised.value.message
    assert meeting.collect_events() == []
    assert meeting.status == SCHEDULED


def test_a_meeting_is_held_once():
    meeting = given_scheduled()
    hold(meeting)
    meeting.collect_events()

    with pytest.raises(MeetingStateConflict):
        hold(meeting)

    assert meeting.collect_events() == []


def test_an_organisation_appears_once_in_the_attendance():
    meeting = given_scheduled()

    with pytest.raises(InvalidMeeting):
        hold(meeting, attendance=(came("m-1", "r-1"), came("m-1", "r-2")))

    assert meeting.collect_events() == []
    assert meeting.status == SCHEDULED


def test_an_organisation_cannot_both_attend_and_send_apologies():
    meeting = given_scheduled()

    with pytest.raises(InvalidMeeting) as raised:
        hold(meeting, attendance=(came("m-1", "r-1"),), apologies=("m-2", "m-1"))

    assert "'m-1'" in raised.value.message
    assert meeting.collect_events() == []


# --------------------------------------------------------------------------- who may attend


def test_an_organisation_sends_at_most_its_representatives_by_default():
    assert attendance_limit(KCA.rules, "full-membership") == (2, "membership.max_representatives")
    meeting = given_scheduled()

    with pytest.raises(RulesBroken) as raised:
        hold(meeting, attendance=(came("m-1", "r-1", "r-2", "r-3"), came("m-2", "r-4")))

    assert refusal(raised) == ("membership.max_representatives", "4.4")
    assert "'m-1'" in raised.value.message
    assert len(raised.value.violations) == 1
    assert meeting.collect_events() == []
    assert meeting.status == SCHEDULED


def test_as_many_people_as_an_organisation_may_send_attend():
    meeting = given_scheduled()

    hold(meeting, attendance=(came("m-1", "r-1", "r-2"),))

    assert [type(e) for e in meeting.collect_events()] == [Meeting.Held]


def test_a_representative_named_twice_is_one_person():
    meeting = given_scheduled()

    try:
        hold(meeting, attendance=(came("m-1", "r-1", "r-1", "r-2"),))
    except InvalidMeeting:
        return  # refusing the repeated id as a mistake is right too; over-counting is not
    (held,) = meeting.collect_events()
    assert sorted(held.attendance[0]["representative_ids"]) == ["r-1", "r-2"]


def test_a_meeting_rule_of_its_own_limits_attendance_instead():
    one_each = with_meeting_rule(
        KCA, "kinship-care", "full-membership", max_attendees_per_organisation=1
    )
    meeting = given_scheduled(one_each)

    with pytest.raises(RulesBroken) as raised:
        hold(meeting, one_each, attendance=(came("m-1", "r-1", "r-2"),))

    assert refusal(raised) == ("meetings.full-membership.max_attendees_per_organisation", "7")
    assert meeting.collect_events() == []


def test_a_meeting_rule_may_let_more_people_attend_than_an_organisation_has_representatives():
    three_each = with_meeting_rule(
        KCA, "kinship-care", "executive-committee", max_attendees_per_organisation=3
    )
    meeting = given_scheduled(three_each, body="executive-committee")

    hold(meeting, three_each, attendance=(came("m-1", "r-1", "r-2", "r-3"),))

    assert [type(e) for e in meeting.collect_events()] == [Meeting.Held]


def test_the_attendance_limit_of_one_body_does_not_bind_another():
    one_each = with_meeting_rule(
        KCA, "kinship-care", "executive-committee", max_attendees_per_organisation=1
    )
    meeting = given_scheduled(one_each, body="full-membership")

    hold(meeting, one_each, attendance=(came("m-1", "r-1", "r-2"),))

    assert [type(e) for e in meeting.collect_events()] == [Meeting.Held]


# --------------------------------------------------------------------------- quorum


def test_where_the_tor_sets_no_quorum_every_meeting_is_quorate():
    assert quorum_needed(KCA.rules, "full-membership", voting_members=40) is None
    meeting = given_scheduled()

    hold(meeting, attendance=(), voting=("m-1", "m-2", "m-3"))

    (held,) = meeting.collect_events()
    assert held.quorum_needed is None
    assert held.quorate is True
    assert meeting.quorate is True


def organisations_quorum(value: float = 3) -> Version:
    return with_quorum(
        KCA, "kinship-care", "full-membership", Quorum(kind="organisations", value=value)
    )


def test_a_meeting_short_of_its_quorum_of_organisations_is_held_but_not_quorate():
    terms = organisations_quorum(3)
    meeting = given_scheduled(terms)

    hold(
        meeting,
        terms,
        attendance=(came("m-1", "r-1"), came("m-2", "r-2")),
        voting=("m-1", "m-2", "m-3", "m-4"),
    )

    (held,) = meeting.collect_events()
    assert held.quorum_needed == 3
    assert held.quorate is False
    assert meeting.status == HELD
    assert meeting.quorate is False


def test_a_meeting_reaching_its_quorum_of_organisations_is_quorate():
    terms = organisations_quorum(3)
    meeting = given_scheduled(terms)

    hold(
        meeting,
        terms,
        attendance=(came("m-1"), came("m-2"), came("m-3")),
        voting=("m-1", "m-2", "m-3", "m-4"),
    )

    (held,) = meeting.collect_events()
    assert (held.quorum_needed, held.quorate) == (3, True)


def test_only_voting_members_count_towards_the_quorum():
    terms = organisations_quorum(3)
    meeting = given_scheduled(terms)

    hold(
        meeting,
        terms,
        attendance=(came("m-1"), came("m-2"), came("observer-1"), came("adviser-1")),
        voting=("m-1", "m-2", "m-3"),
    )

    (held,) = meeting.collect_events()
    assert (held.quorum_needed, held.quorate) == (3, False)


def test_the_quorum_of_one_body_does_not_bind_another():
    terms = organisations_quorum(3)
    meeting = given_scheduled(terms, body="executive-committee")

    hold(meeting, terms, attendance=(came("m-1"),), voting=("m-1", "m-2", "m-3"))

    (held,) = meeting.collect_events()
    assert (held.quorum_needed, held.quorate) == (None, True)


@pytest.mark.parametrize(
    ("fraction", "voting", "needed"),
    [(0.5, 4, 2), (0.5, 5, 3), (1 / 3, 9, 3), (1 / 3, 10, 4), (0.25, 1, 1), (1.0, 7, 7)],
    ids=["half-of-4", "half-of-5", "third-of-9", "third-of-10", "quarter-of-1", "all-of-7"],
)
def test_a_fraction_of_the_members_is_rounded_up_to_whole_organisations(fraction, voting, needed):
    terms = with_quorum(
        KCA, "kinship-care", "full-membership", Quorum(kind="fraction-of-members", value=fraction)
    )

    assert quorum_needed(terms.rules, "full-membership", voting_members=voting) == needed


def test_a_meeting_is_quorate_when_the_fraction_of_voting_members_attends():
    half = with_quorum(
        KCA, "kinship-care", "full-membership", Quorum(kind="fraction-of-members", value=0.5)
    )
    voting = ("m-1", "m-2", "m-3", "m-4", "m-5")
    short, enough = given_scheduled(half), given_scheduled(half)

    hold(short, half, attendance=(came("m-1"), came("m-2")), voting=voting)
    hold(enough, half, attendance=(came("m-1"), came("m-2"), came("m-3")), voting=voting)

    (short_held,) = short.collect_events()
    (enough_held,) = enough.collect_events()
    assert (short_held.quorum_needed, short_held.quorate) == (3, False)
    assert (enough_held.quorum_needed, enough_held.quorate) == (3, True)


def test_a_fraction_that_is_exact_in_decimal_needs_no_extra_organisation():
    terms = with_quorum(
        KCA, "kinship-care", "full-membership", Quorum(kind="fraction-of-members", value=0.55)
    )

    assert quorum_needed(terms.rules, "full-membership", voting_members=100) == 55


# --------------------------------------------------------------------------- replay


class Store(Application):
    """An in-memory store that keeps days as the alliance store does."""

    def register_transcodings(self, transcoder):
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def test_replaying_a_meetings_events_rebuilds_the_same_state():
    store = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    meeting = schedule()
    meeting.add_agenda_item(title="Any other business", by="k")
    meeting.withdraw_agenda_item(item_id=next(iter(meeting.agenda)), by="k")
    meeting.reschedule(
        starts_at=DAY + timedelta(days=1),
        format="in-person",
        location="Town hall",
        link=None,
        reason="r",
        by="k",
        terms=KCA,
    )
    hold(
        meeting,
        attendance=(came("m-1", "r-1"),),
        apologies=("m-2",),
        voting=("m-1", "m-2"),
        today=TODAY + timedelta(days=30),
    )
    store.save(meeting)

    replayed = store.repository.get(meeting.id)

    assert vars(replayed) == vars(meeting)
    assert replayed.status == HELD and replayed.version == 5
    assert replayed.held_on == (DAY + timedelta(days=1)).date()
    assert list(replayed.agenda.values()) == ["Work plan", "Any other business"]


def test_mutating_from_the_collected_events_rebuilds_the_same_state():
    meeting = schedule()
    meeting.cancel(reason="snow", by="k")
    events = meeting.collect_events()

    rebuilt = None
    for domain_event in events:
        rebuilt = domain_event.mutate(rebuilt)

    assert rebuilt is not None
    assert vars(rebuilt) == vars(meeting)
    assert rebuilt.status == CANCELLED
