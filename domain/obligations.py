"""The obligations calendar: every dated duty an alliance's Terms of Reference put on it,
derived from the rules in force for each period, and whether each was met or missed.

A pure fold over facts the caller reads from its read models (meetings, minutes, work
plans, reviews, office holdings, seats, elections, action items): no clock, no I/O. The
caller passes `today`; the calendar runs from the alliance's start (version 1's effective
date, or a later onboarding start) to `today` plus `HORIZON_MONTHS`.

Every obligation has a window: from `window_start` it is *due* (a reminder is in order),
and it must be met by the end of `due_on`. It is *met* when a record that meets it is
dated on or before `due_on`; *missed* from the day after `due_on` when none is (a record
that came late is listed in `met_by` of the missed obligation, but does not undo the
miss); otherwise *due* (today in the window) or *upcoming* (before the window). A missed
obligation is recorded once, by its `key` (see `newly_missed`). The rules, their ToR basis
and the constants are described in docs/obligations.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, timedelta
from typing import Literal

import msgspec

from domain.cadence import MeetingFact, Requirement, tor_year_of, year_calendar
from domain.rule_checks import minutes_approver
from domain.rules import FULL_MEMBERSHIP, Office, Rules
from domain.terms import Version, add_months

State = Literal["upcoming", "due", "met", "missed"]
Kind = Literal[
    "meeting",
    "minutes-approval",
    "minutes-publication",
    "work-plan",
    "work-plan-evaluation",
    "tor-review",
    "term-end",
    "election",
    "office-vacant",
    "seat-vacant",
    "action-item",
]

#: How far ahead of `today` the calendar runs (obligations whose window opens before).
HORIZON_MONTHS = 12
#: Minutes are approved by the approving body's next meeting; with none on record, by
#: this many days after the meeting (a quarter: the templates' main bodies meet quarterly).
MINUTES_APPROVAL_DAYS = 92
#: Approved minutes the ToR publish by default are published within this many days.
MINUTES_PUBLICATION_DAYS = 28
#: A year's work plan is agreed within this many months of the year's start.
WORK_PLAN_AGREEMENT_MONTHS = 3
#: A review of the ToR, a term's end and its election are due from this many months
#: before their date.
NOTICE_MONTHS = 3
#: A required seat, or an office left before its term ended, is filled within this many
#: days of falling vacant.
VACANCY_FILL_DAYS = 90
#: An action item is due from this many days before its due date.
ACTION_NOTICE_DAYS = 14


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the facts the calendar reads (no personal data: ids, keys and dates)."""


class MinutesFact(Fact, frozen=True, kw_only=True):
    minutes_id: str
    meeting_id: str
    body: str
    held_on: date
    approved_on: date | None = None
    published_on: date | None = None
    #: The whole minutes are confidential (they are not published).
    confidential: bool = False


class WorkPlanFact(Fact, frozen=True, kw_only=True):
    """The work plan of one calendar year (as `AnnualWorkPlan` is keyed)."""

    year: int
    agreed_on: date | None = None
    evaluated_on: date | None = None


class ReviewFact(Fact, frozen=True, kw_only=True):
    review_id: str
    opened_on: date
    concluded_on: date | None = None


class HoldingFact(Fact, frozen=True, kw_only=True):
    """One holding of an office."""

    holding_id: str
    office: str
    starts_on: date
    #: The term's end (the first day no longer held); None: until replaced.
    ends_on: date | None = None
    #: The day the holder left before the term ended, if they did.
    left_on: date | None = None


class SeatFact(Fact, frozen=True, kw_only=True):
    """One seat taken on a body, into a required seat or not."""

    seat_id: str
    body: str
    #: The required seat it fills (a key of the body's `required_seats`), if any.
    seat: str | None = None
    starts_on: date
    ends_on: date | None = None
    left_on: date | None = None

    @property
    def until(self) -> date | None:
        ends = [d for d in (self.ends_on, self.left_on) if d is not None]
        return min(ends) if ends else None

    def held_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.until is None or day < self.until)


class ElectionFact(Fact, frozen=True, kw_only=True):
    election_id: str
    office: str
    opened_on: date
    closed_on: date | None = None


class ActionItemFact(Fact, frozen=True, kw_only=True):
    action_item_id: str
    owner_kind: Literal["member", "office", "body"]
    owner: str
    raised_on: date
    due_on: date
    completed_on: date | None = None


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the calendar reads of one alliance."""

    meetings: tuple[MeetingFact, ...] = ()
    minutes: tuple[MinutesFact, ...] = ()
    work_plans: tuple[WorkPlanFact, ...] = ()
    reviews: tuple[ReviewFact, ...] = ()
    holdings: tuple[HoldingFact, ...] = ()
    seats: tuple[SeatFact, ...] = ()
    elections: tuple[ElectionFact, ...] = ()
    action_items: tuple[ActionItemFact, ...] = ()


class Obligation(msgspec.Struct, frozen=True, kw_only=True):
    """One dated duty and how it stands."""

    #: Stable id: the idempotency key of its "missed" record.
    key: str
    kind: Kind
    #: Words for a reminder: ToR names of bodies, offices and seats, and dates only.
    title: str
    window_start: date
    due_on: date
    #: {"body": key} or {"office": key} (or {"member": id} for a member's action item).
    owner: dict[str, str]
    state: State
    #: Ids of the records that met it (for a missed one: those that came late).
    met_by: tuple[str, ...] = ()
    #: The rule path and the ToR clause it comes from, and the version it was read from.
    rule: str | None = None
    clause: str | None = None
    under_version: int | None = None


class _Versions:
    """The versions of the ToR, and which one is in force on a day."""

    def __init__(self, versions: Sequence[Version]) -> None:
        if not versions:
            raise ValueError("the calendar needs at least version 1 of the ToR")
        self.all = sorted(versions, key=lambda v: v.number)

    def on(self, day: date) -> Version:
        current = self.all[0]
        for version in self.all:
            if version.effective_from <= day:
                current = version
        return current

    def adopted_by(self, day: date) -> Version:
        """The latest version adopted by the end of `day` (version 1 however early)."""
        current = self.all[0]
        for version in self.all:
            if version.adopted_at.date() <= day:
                current = version
        return current


def obligations(
    *,
    versions: Sequence[Version],
    facts: Facts,
    today: date,
    start: date | None = None,
    horizon_months: int = HORIZON_MONTHS,
) -> list[Obligation]:
    """The alliance's obligations from `start` (default: version 1's effective date) to
    `today` + `horizon_months`, ordered by due date, each as it stands on `today`.
    Periods are counted from version 1's effective date whatever `start` is; an onboarding
    `start` only drops the obligations that fell due before it."""
    tor = _Versions(versions)
    first_day = tor.all[0].effective_from
    begin = max(start or first_day, first_day)
    horizon = add_months(today, horizon_months)
    found: list[Obligation] = [
        *meeting_obligations(tor, facts, today, first_day, horizon),
        *minutes_obligations(tor, facts, today),
        *work_plan_obligations(tor, facts, today, first_day, horizon),
        *review_obligations(tor, facts, today, first_day, horizon),
        *office_obligations(tor, facts, today),
        *seat_obligations(tor, facts, today, first_day, horizon),
        *action_item_obligations(tor, facts, today),
    ]
    kept = [o for o in found if o.due_on >= begin and o.window_start < horizon]
    return sorted(kept, key=lambda o: (o.due_on, o.key))


def newly_missed(current: Iterable[Obligation], recorded: Collection[str]) -> list[Obligation]:
    """The missed obligations whose miss is not recorded yet (`recorded`: their keys)."""
    return [o for o in current if o.state == "missed" and o.key not in recorded]


def missed_since(previous: Iterable[Obligation], current: Iterable[Obligation]) -> list[Obligation]:
    """The obligations missed now that were not missed in the previous calendar."""
    return newly_missed(current, {o.key for o in previous if o.state == "missed"})


# --------------------------------------------------------------------------- helpers


def _settle(
    window_start: date, due_on: date, records: Iterable[tuple[date, str]], today: date
) -> tuple[State, tuple[str, ...]]:
    """How an obligation stands, given the dated records that would meet it."""
    records = sorted(records)
    in_time = tuple(rid for on, rid in records if on <= due_on)
    if in_time:
        return "met", in_time
    if due_on < today:
        return "missed", tuple(rid for _, rid in records)
    return ("due" if window_start <= today else "upcoming"), ()


def _body_name(rules: Rules, key: str) -> str:
    body = rules.body(key)
    return body.name if body else key


def _the(name: str) -> str:
    """A ToR name after "the": "the Steering group"; a name that starts with "The" as is."""
    return name if name.lower().startswith("the ") else f"the {name}"


def _office_name(rules: Rules, key: str) -> str:
    office = rules.office(key)
    return office.name if office else key


def _owner_of(rules: Rules, key: str) -> dict[str, str]:
    return {"office": key} if rules.office(key) else {"body": key}


# --------------------------------------------------------------------------- meetings


def meeting_obligations(
    tor: _Versions, facts: Facts, today: date, first_day: date, horizon: date
) -> list[Obligation]:
    """Meetings each body must hold: the ToR's meeting rules ("meets four times a year",
    "meets one month before each full meeting"), read by the compliance calendar
    (domain/cadence.py) for each ToR year under the version in force on its first day."""
    out: list[Obligation] = []
    for year in range(1, tor_year_of(first_day, horizon) + 1):
        calendar = year_calendar(
            year=year,
            first_day=first_day,
            version_on=tor.on,
            meetings=facts.meetings,
            today=today,
        )
        rules = tor.on(calendar.starts_on).rules
        for required in calendar.requirements:
            out.append(_meeting_obligation(required, rules, calendar.under_version, today))
    return out


def _meeting_obligation(
    required: Requirement, rules: Rules, under_version: int, today: date
) -> Obligation:
    name = _body_name(rules, required.body)
    start, end = required.window_start, required.window_end
    if required.before_meeting_id is not None:
        key = f"meeting:{required.body}:before:{required.before_meeting_id}"
        title = f"{name}: meeting due between {start} and {end}, before a later main meeting"
    else:
        key = f"meeting:{required.body}:{start}..{end}"
        title = f"{name}: meeting due between {start} and {end}"
    state: State
    if required.state == "held":
        state = "met"
    elif required.state == "missed":
        state = "missed"
    else:
        state = "due" if start <= today else "upcoming"
    return Obligation(
        key=key,
        kind="meeting",
        title=title,
        window_start=start,
        due_on=end,
        owner={"body": required.body},
        state=state,
        met_by=required.meeting_ids if state == "met" else (),
        rule=required.rule,
        clause=required.clause,
        under_version=under_version,
    )


# --------------------------------------------------------------------------- minutes


def minutes_obligations(tor: _Versions, facts: Facts, today: date) -> list[Obligation]:
    """Minutes: when the ToR say every meeting is minuted, each held meeting's minutes are
    approved by the approving body (`minutes.approved_by`, else the body that met) by its
    next meeting (held or scheduled), or within MINUTES_APPROVAL_DAYS when none is on
    record; and when minutes are published by default and are not confidential, they are
    published within MINUTES_PUBLICATION_DAYS of approval."""
    held = {m.meeting_id: (m.body, m.on) for m in facts.meetings if m.status == "held"}
    for drafted in facts.minutes:
        held.setdefault(drafted.meeting_id, (drafted.body, drafted.held_on))
    minutes = {drafted.meeting_id: drafted for drafted in facts.minutes}
    out: list[Obligation] = []
    for meeting_id, (body, held_on) in held.items():
        version = tor.on(held_on)
        if not version.rules.minutes.every_meeting_minuted:
            continue
        fact = minutes.get(meeting_id)
        out.append(_approval(version, body, meeting_id, held_on, fact, facts.meetings, today))
        if fact is not None and fact.approved_on is not None:
            publication = _publication(tor.on(fact.approved_on), fact, fact.approved_on, today)
            if publication is not None:
                out.append(publication)
    return out


def _approval(
    version: Version,
    body: str,
    meeting_id: str,
    held_on: date,
    fact: MinutesFact | None,
    meetings: Sequence[MeetingFact],
    today: date,
) -> Obligation:
    rules = version.rules
    approver = minutes_approver(rules, body)
    next_meeting = min(
        (
            m.on
            for m in meetings
            if m.body == approver and m.status != "cancelled" and m.on > held_on
        ),
        default=None,
    )
    due_on = next_meeting or held_on + timedelta(days=MINUTES_APPROVAL_DAYS)
    records = [(fact.approved_on, fact.minutes_id)] if fact and fact.approved_on else []
    state, met_by = _settle(held_on, due_on, records, today)
    rule = "minutes.approved_by" if rules.minutes.approved_by else "minutes.every_meeting_minuted"
    return Obligation(
        key=f"minutes-approval:{meeting_id}",
        kind="minutes-approval",
        title=(
            f"Minutes of the meeting of {_the(_body_name(rules, body))} on {held_on}: "
            f"approval by {_the(_body_name(rules, approver))} due by {due_on}"
        ),
        window_start=held_on,
        due_on=due_on,
        owner={"body": approver},
        state=state,
        met_by=met_by,
        rule=rule,
        clause=version.clause_for(rule),
        under_version=version.number,
    )


def _publication(
    version: Version, fact: MinutesFact, approved_on: date, today: date
) -> Obligation | None:
    rules = version.rules
    if not rules.minutes.published_by_default or fact.confidential:
        return None
    due_on = approved_on + timedelta(days=MINUTES_PUBLICATION_DAYS)
    records = [(fact.published_on, fact.minutes_id)] if fact.published_on else []
    state, met_by = _settle(approved_on, due_on, records, today)
    publisher = rules.minutes.circulated_by or minutes_approver(rules, fact.body)
    return Obligation(
        key=f"minutes-publication:{fact.minutes_id}",
        kind="minutes-publication",
        title=(
            f"Minutes of the meeting of {_the(_body_name(rules, fact.body))} on "
            f"{fact.held_on}: publication due by {due_on}"
        ),
        window_start=approved_on,
        due_on=due_on,
        owner=_owner_of(rules, publisher),
        state=state,
        met_by=met_by,
        rule="minutes.published_by_default",
        clause=version.clause_for("minutes.published_by_default"),
        under_version=version.number,
    )


# --------------------------------------------------------------------------- work plan


def work_plan_obligations(
    tor: _Versions, facts: Facts, today: date, first_day: date, horizon: date
) -> list[Obligation]:
    """The annual work plan: when the ToR require one, the plan of each calendar year (the
    year `AnnualWorkPlan` is kept under) is agreed within WORK_PLAN_AGREEMENT_MONTHS of the
    year's start (by 31 March). In the year the ToR take effect the window runs from that
    day instead, and no plan is due that year if the window would run past its end. An
    agreed plan whose stages include "evaluated" is evaluated between 1 October and the
    end of the first quarter of the next year (so the evaluation informs the next plan)."""
    plans = {plan.year: plan for plan in facts.work_plans}
    out: list[Obligation] = []
    for year in range(first_day.year, horizon.year + 1):
        window_start = max(date(year, 1, 1), first_day)
        due_on = add_months(window_start, WORK_PLAN_AGREEMENT_MONTHS) - timedelta(days=1)
        version = tor.on(window_start)
        rule = version.rules.work_plan
        if not rule.required or due_on.year != year:
            continue
        owner = rule.agreed_by or FULL_MEMBERSHIP
        plan = plans.get(year)
        records = [(plan.agreed_on, f"work-plan:{year}")] if plan and plan.agreed_on else []
        state, met_by = _settle(window_start, due_on, records, today)
        out.append(
            Obligation(
                key=f"work-plan:{year}",
                kind="work-plan",
                title=f"Work plan for {year}: agreement by "
                f"{_the(_body_name(version.rules, owner))} due by {due_on}",
                window_start=window_start,
                due_on=due_on,
                owner={"body": owner},
                state=state,
                met_by=met_by,
                rule="work_plan.required",
                clause=version.clause_for("work_plan.required"),
                under_version=version.number,
            )
        )
        if plan is not None and plan.agreed_on is not None and "evaluated" in rule.stages:
            out.append(_evaluation(version, owner, plan, today))
    return out


def _evaluation(version: Version, owner: str, plan: WorkPlanFact, today: date) -> Obligation:
    window_start = date(plan.year, 10, 1)
    due_on = add_months(date(plan.year + 1, 1, 1), WORK_PLAN_AGREEMENT_MONTHS) - timedelta(days=1)
    records = [(plan.evaluated_on, f"work-plan:{plan.year}")] if plan.evaluated_on else []
    state, met_by = _settle(window_start, due_on, records, today)
    return Obligation(
        key=f"work-plan-evaluation:{plan.year}",
        kind="work-plan-evaluation",
        title=f"Work plan for {plan.year}: evaluation by "
        f"{_the(_body_name(version.rules, owner))} due by {due_on}",
        window_start=window_start,
        due_on=due_on,
        owner={"body": owner},
        state=state,
        met_by=met_by,
        rule="work_plan.stages",
        clause=version.clause_for("work_plan.stages"),
        under_version=version.number,
    )


# --------------------------------------------------------------------------- ToR review


def review_obligations(
    tor: _Versions, facts: Facts, today: date, first_day: date, horizon: date
) -> list[Obligation]:
    """Reviews of the ToR, on the rule TermsOfReference.review_due_on keeps: each is due
    `review.cadence_months` (12: annual; 36: every three years) after the later of the last
    adoption and the last concluded review — the first a cadence after version 1 took
    effect. A review concluded, or a new version adopted, within the cycle meets it, and
    the next cycle runs from the latest such day. Unmet, the review stays missed (it is
    not due again a cadence later) until one is concluded; the next cycle runs from that
    day. The cadence is the one adopted by the cycle's start. The reminder opens
    NOTICE_MONTHS before the due date. Keys are fixed once a cycle's start is on record."""
    records = sorted(
        [(r.concluded_on, r.review_id) for r in facts.reviews if r.concluded_on is not None]
        + [(v.adopted_at.date(), f"version-{v.number}") for v in tor.all if v.number > 1]
    )
    out: list[Obligation] = []
    anchor = first_day
    while True:
        version = tor.adopted_by(anchor)
        review = version.rules.review
        due_on = add_months(anchor, review.cadence_months)
        window_start = max(anchor, add_months(due_on, -NOTICE_MONTHS))
        if window_start >= horizon:
            return out
        # A record on the cycle's first day restarts this same cycle: it meets none.
        in_cycle = [(day, rid) for day, rid in records if anchor < day <= due_on]
        late = [(day, rid) for day, rid in records if day > due_on]
        state, met_by = _settle(window_start, due_on, in_cycle or late[:1], today)
        out.append(
            Obligation(
                key=f"tor-review:{due_on}",
                kind="tor-review",
                title=f"Review of the Terms of Reference due by {due_on}",
                window_start=window_start,
                due_on=due_on,
                owner={"body": review.amendments_approved_by},
                state=state,
                met_by=met_by,
                rule="review.cadence_months",
                clause=version.clause_for("review.cadence_months"),
                under_version=version.number,
            )
        )
        if in_cycle:
            anchor = in_cycle[-1][0]
        elif late:
            anchor = late[0][0]
        else:
            return out  # due, upcoming, or missed until a review is concluded


# --------------------------------------------------------------------------- offices


def office_obligations(tor: _Versions, facts: Facts, today: date) -> list[Obligation]:
    """Office terms: a holding with a term (`offices.<key>.term_months`) ends on its
    recorded end date; the office's body must have a holder from that day (met by a
    holding of the office starting within NOTICE_MONTHS before it, the same holder
    again or a successor), and for an elected office an election must have closed in
    that window. A holder who leaves before the term ends leaves the office vacant: it is
    filled within VACANCY_FILL_DAYS. Each later holding or election meets one obligation."""
    out: list[Obligation] = []
    successors_used: set[str] = set()
    elections_used: set[str] = set()
    for holding in sorted(facts.holdings, key=lambda h: h.left_on or h.ends_on or date.max):
        succession = _succession(tor, holding, facts.holdings, successors_used, today)
        if succession is None:
            continue
        out.append(succession)
        version = tor.on(succession.due_on)
        office = version.rules.office(holding.office)
        key = f"election:{holding.office}:{succession.due_on}"
        if (
            succession.kind == "term-end"
            and office is not None
            and office.selection == "elected"
            and key not in {o.key for o in out}
        ):
            out.append(
                _election(version, office, succession, facts.elections, elections_used, today)
            )
    return out


def _succession(
    tor: _Versions,
    holding: HoldingFact,
    holdings: Sequence[HoldingFact],
    used: set[str],
    today: date,
) -> Obligation | None:
    """The office needs a holder when this holding's term ends, or soon after it is left."""
    kind: Kind
    if holding.left_on is not None and (
        holding.ends_on is None or holding.left_on < holding.ends_on
    ):
        kind, window_start = "office-vacant", holding.left_on
        due_on = holding.left_on + timedelta(days=VACANCY_FILL_DAYS)
    elif holding.ends_on is not None:
        kind, due_on = "term-end", holding.ends_on
        window_start = add_months(due_on, -NOTICE_MONTHS)
    else:
        return None
    version = tor.on(due_on)
    office = version.rules.office(holding.office)
    if office is None:
        return None  # the office is no longer in the ToR
    successor = next(
        (
            h
            for h in sorted(holdings, key=lambda h: (h.starts_on, h.holding_id))
            if h.office == holding.office
            and h.holding_id != holding.holding_id
            and h.holding_id not in used
            and h.starts_on >= window_start
        ),
        None,
    )
    records = [(successor.starts_on, successor.holding_id)] if successor else []
    used.update(rid for _, rid in records)
    state, met_by = _settle(window_start, due_on, records, today)
    path = f"offices.{office.key}.term_months"
    body = _the(_body_name(version.rules, office.body))
    title = (
        f"{office.name}: term of office ends on {due_on}; {body} needs a holder from then"
        if kind == "term-end"
        else f"{office.name}: vacant since {window_start}; {body} fills it by {due_on}"
    )
    return Obligation(
        key=f"{kind}:{holding.holding_id}",
        kind=kind,
        title=title,
        window_start=window_start,
        due_on=due_on,
        owner={"body": office.body},
        state=state,
        met_by=met_by,
        rule=path if kind == "term-end" else f"offices.{office.key}",
        clause=version.clause_for(path),
        under_version=version.number,
    )


def _election(
    version: Version,
    office: Office,
    term_end: Obligation,
    elections: Sequence[ElectionFact],
    used: set[str],
    today: date,
) -> Obligation:
    """An elected office's election closes within the window before the term ends."""
    window_start, due_on = term_end.window_start, term_end.due_on
    election = next(
        (
            e
            for e in sorted(elections, key=lambda e: (e.closed_on or date.max, e.election_id))
            if e.office == office.key
            and e.closed_on is not None
            and e.closed_on >= window_start
            and e.election_id not in used
        ),
        None,
    )
    records = []
    if election is not None and election.closed_on is not None:
        records.append((election.closed_on, election.election_id))
        used.add(election.election_id)
    state, met_by = _settle(window_start, due_on, records, today)
    path = f"offices.{office.key}.selection"
    return Obligation(
        key=f"election:{office.key}:{due_on}",
        kind="election",
        title=f"{office.name}: election to close by {due_on}, when the term ends",
        window_start=window_start,
        due_on=due_on,
        owner={"body": office.body},
        state=state,
        met_by=met_by,
        rule=path,
        clause=version.clause_for(path),
        under_version=version.number,
    )


# --------------------------------------------------------------------------- required seats


def seat_obligations(
    tor: _Versions, facts: Facts, today: date, first_day: date, horizon: date
) -> list[Obligation]:
    """Required seats (`bodies.<key>.required_seats`, "the steering group includes a local
    mediator"): while a version requiring the seat is in force, each day the seat falls
    vacant (from the day the requirement takes effect, or the day a holding of it ends)
    starts an obligation to fill it within VACANCY_FILL_DAYS, owned by the body that agrees
    who sits on the body (else the body itself), met by the next holding of the seat."""
    out: list[Obligation] = []
    for (body_key, seat_key), spans in _required_seat_spans(tor, first_day).items():
        holdings = [s for s in facts.seats if s.body == body_key and s.seat == seat_key]
        for span_start, span_end in spans:
            for since in _vacancies(holdings, span_start, span_end, horizon):
                out.append(_seat_vacancy(tor.on(since), body_key, seat_key, since, holdings, today))
    return out


def _required_seat_spans(
    tor: _Versions, first_day: date
) -> dict[tuple[str, str], list[tuple[date, date | None]]]:
    """For each (body, required seat): the spans [from, to) in which a version requires it."""
    spans: dict[tuple[str, str], list[tuple[date, date | None]]] = {}
    for index, version in enumerate(tor.all):
        start = max(version.effective_from, first_day)
        later = tor.all[index + 1 :]
        end = later[0].effective_from if later else None
        if end is not None and end <= start:
            continue
        for body in version.rules.bodies:
            for seat in body.required_seats:
                own = spans.setdefault((body.key, seat.key), [])
                if own and own[-1][1] == start:
                    own[-1] = (own[-1][0], end)
                else:
                    own.append((start, end))
    return spans


def _vacancies(
    holdings: Sequence[SeatFact], start: date, end: date | None, horizon: date
) -> list[date]:
    """The days within [start, end) and before the horizon the seat falls vacant: the
    start, and each day a holding of it ends with no other holding covering that day."""
    ends = {h.until for h in holdings if h.until is not None}
    candidates = sorted({start} | {d for d in ends if d > start and (end is None or d < end)})
    return [
        day for day in candidates if day < horizon and not any(h.held_on(day) for h in holdings)
    ]


def _seat_vacancy(
    version: Version,
    body_key: str,
    seat_key: str,
    since: date,
    holdings: Sequence[SeatFact],
    today: date,
) -> Obligation:
    rules = version.rules
    body = rules.body(body_key)
    seat = next((s for s in body.required_seats if s.key == seat_key), None) if body else None
    seat_name = seat.name if seat else seat_key
    due_on = since + timedelta(days=VACANCY_FILL_DAYS)
    refill = min(
        (h for h in holdings if h.starts_on > since), key=lambda h: h.starts_on, default=None
    )
    records = [(refill.starts_on, refill.seat_id)] if refill else []
    state, met_by = _settle(since, due_on, records, today)
    path = f"bodies.{body_key}.required_seats"
    owner = (body.members_agreed_by if body else None) or body_key
    return Obligation(
        key=f"seat-vacant:{body_key}:{seat_key}:{since}",
        kind="seat-vacant",
        title=f"{_body_name(rules, body_key)}: the required seat '{seat_name}' is vacant "
        f"from {since}; to be filled by {due_on}",
        window_start=since,
        due_on=due_on,
        owner={"body": owner},
        state=state,
        met_by=met_by,
        rule=path,
        clause=version.clause_for(path),
        under_version=version.number,
    )


# --------------------------------------------------------------------------- action items


def action_item_obligations(tor: _Versions, facts: Facts, today: date) -> list[Obligation]:
    """Action items agreed in minutes: each is completed by its due date, by its owner.
    They come from the minutes, not from a ToR rule, so they cite no clause. The reminder
    opens ACTION_NOTICE_DAYS before the due date (or when raised, if later)."""
    out: list[Obligation] = []
    for item in facts.action_items:
        window_start = min(
            item.due_on, max(item.raised_on, item.due_on - timedelta(days=ACTION_NOTICE_DAYS))
        )
        records = [(item.completed_on, item.action_item_id)] if item.completed_on else []
        state, met_by = _settle(window_start, item.due_on, records, today)
        rules = tor.on(item.due_on).rules
        if item.owner_kind == "office":
            owner = _the(_office_name(rules, item.owner))
        elif item.owner_kind == "body":
            owner = _the(_body_name(rules, item.owner))
        else:
            owner = "a member organisation"
        out.append(
            Obligation(
                key=f"action-item:{item.action_item_id}",
                kind="action-item",
                title=f"Action item owned by {owner}, due by {item.due_on}",
                window_start=window_start,
                due_on=item.due_on,
                owner={item.owner_kind: item.owner},
                state=state,
                met_by=met_by,
            )
        )
    return out
