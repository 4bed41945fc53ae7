"""Point-in-time replay: an alliance's state as of any moment or log position, rebuilt from
its own events, never from today's read models. (What changed between two moments is told
by `replay_diff`, from two states of one replay.)

The replay feeds the alliance's log, oldest first, to fresh instances of the projections
that answer the questions asked here, over a private in-memory SQLite database, and reads
the answers back with the projections' own read functions. Nothing is read from the
alliance's view store; the projections of minutes are not replayed at all, so no minutes,
confidential or not, ever reach this state.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import msgspec
from eventsourcing.application import Application

from domain.elections import NOMINATING, VOTING
from domain.membership import ACTIVE, REMOVED, RESIGNED, SUSPENDED
from domain.motions import OPEN_STATES
from domain.rules import Clause, Rules
from infra.stores import LOG_PAGE, Sql
from projections import elections as elections_view
from projections import member_register as register
from projections import motions as motions_view
from projections import office_holders as offices_view
from projections import terms_of_reference as terms_view
from services.errors import InvalidRequest, NotFound
from services.onboarding import directory_entry
from services.runtime import TENANT_PROJECTIONS, Runtime

#: The projections a replay feeds: those whose read models the audit state is made of.
REPLAYED = tuple(
    p
    for p in TENANT_PROJECTIONS
    if p.name in {"terms_of_reference", "member_register", "office_holders", "motions", "elections"}
)
#: "No limit" for the read functions that page.
EVERY = 2**62
OPEN_ELECTIONS = (NOMINATING, VOTING)
Standing = Literal["member", "observer", "advisory"]

# ----------------------------------------------------------------------------- the state


class VersionAdopted(msgspec.Struct, kw_only=True):
    """A version of the Terms of Reference, as the ToR API lists it."""

    number: int
    effective_from: str
    adopted_at: datetime
    adopted_by: str
    template: str | None = None
    amendment_id: str | None = None
    decision_ref: str | None = None
    approved_by_body: str | None = None


class TermsInForce(VersionAdopted, kw_only=True):
    """The version in force, in full, as `GET …/terms` shows it."""

    clauses: list[Clause]
    rules: Rules


class RepresentativeState(msgspec.Struct, kw_only=True):
    representative_id: str
    member_id: str
    role: str
    name: str | None = None
    email: str | None = None
    principal: bool
    since: datetime


class MemberState(msgspec.Struct, kw_only=True):
    """A member as the register showed it, with its representatives."""

    member_id: str
    seq: int
    capacity: str
    name: str | None = None
    person_name: str | None = None
    organisation_kind: str | None = None
    region: str | None = None
    standing: Standing
    status: Literal["active", "suspended", "resigned", "removed"]
    admitted_at: datetime
    status_since: datetime
    status_reason: str | None = None
    decision_ref: str | None = None
    by_body: str | None = None
    representatives: list[RepresentativeState]
    principal_contact: str | None = None


class HoldingState(msgspec.Struct, kw_only=True):
    """A seat of an office held on the day of the state."""

    holding_id: str
    office: str
    member_id: str | None = None
    organisation: str
    person_name: str | None = None
    starts_on: str
    ends_on: str | None = None
    left_on: str | None = None
    left_reason: str | None = None
    #: "onboarding": one of the first officers, named when the alliance was onboarded.
    via: Literal["appointed", "elected", "onboarding"]
    by_body: str | None = None
    decision_ref: str | None = None
    election_ref: str | None = None
    outside_approval_ref: str | None = None
    under_version: int


class SeatState(msgspec.Struct, kw_only=True):
    """A seat on a committee or steering group held on the day of the state."""

    seat_id: str
    body: str
    member_id: str | None = None
    organisation: str
    person_name: str | None = None
    required_seat: str | None = None
    starts_on: str
    ends_on: str | None = None
    left_on: str | None = None
    left_reason: str | None = None
    agreed_by: str
    decision_ref: str
    under_version: int


class MotionState(msgspec.Struct, kw_only=True):
    """A motion not yet decided: proposed, being voted on, or tied awaiting the casting vote."""

    motion_id: str
    seq: int
    body: str
    text: str
    #: Its stage: proposed, voting or tied.
    status: Literal["proposed", "voting", "tied"]
    proposer_member_id: str | None = None
    public_stance: bool
    decides: dict[str, Any]
    referred_from: str | None = None
    meeting_id: str | None = None
    scope: str | None = None
    electorate: int | None = None
    closes_at: str | None = None
    proposed_by: str
    under_version: int


class CandidateState(msgspec.Struct, kw_only=True):
    candidate_id: str
    member_id: str
    organisation: str
    person_name: str | None = None
    withdrawn: bool


class ElectionState(msgspec.Struct, kw_only=True):
    """An election taking nominations or votes."""

    election_id: str
    seq: int
    office: str
    seats: int
    status: Literal["nominating", "voting"]
    secret_ballot: bool
    method: str
    nominations_close: datetime
    voting_opens: datetime
    voting_closes: datetime
    starts_on: date
    electorate: int | None = None
    turnout: int
    candidates: list[CandidateState]


class AuditCounts(msgspec.Struct, kw_only=True):
    #: Events replayed (the log may skip positions, so this can be less than `position`).
    events: int
    #: Members on the register (active or suspended), of any standing.
    members: int
    voting_members: int
    suspended_members: int
    #: Members that resigned or were removed.
    former_members: int
    office_holders: int
    committee_seats: int
    open_motions: int
    open_elections: int


class AuditState(msgspec.Struct, kw_only=True):
    """An alliance as its events made it at one point of its history."""

    slug: str
    #: The last event replayed.
    position: int
    #: When that event was recorded.
    as_of: datetime
    #: The moment the state is read at: the moment asked for (now when none was), or the
    #: event's own time when a position was asked for. What depends on the day (the ToR
    #: version in force, who holds office) is answered for this moment.
    at: datetime
    #: The last position of the log today.
    last_position: int
    founded_at: datetime
    terms: TermsInForce | None
    #: Every version adopted by then, including any not yet in force.
    versions: list[VersionAdopted]
    members: list[MemberState]
    office_holders: list[HoldingState]
    committee_seats: list[SeatState]
    open_motions: list[MotionState]
    open_elections: list[ElectionState]
    counts: AuditCounts


# ----------------------------------------------------------------------------- moments

_POSITION = re.compile(r"[0-9]{1,19}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FORMS = (
    "a log position (a whole number from 1), a date (YYYY-MM-DD, meaning the end of that day "
    "UTC), an ISO 8601 moment with its UTC offset (e.g. 2026-03-01T09:30:00Z) or 'now'"
)
NOW = "now"


@dataclass(frozen=True)
class Moment:
    """A point of an alliance's history as asked for: a log position or a moment in time."""

    text: str
    position: int | None = None
    at: datetime | None = None
    #: A date asked for: its end, unless that is still to come.
    whole_day: bool = False


def parse_moment(text: str, parameter: str) -> Moment | None:
    """Read `as_of`, `from` or `to` (None for 'now'); an InvalidRequest naming the
    parameter if it is none of a position, a date, a moment with its offset or 'now'."""
    text = text.strip()
    if text.lower() == NOW:
        return None
    if _POSITION.fullmatch(text):
        position = int(text)
        if position < 1:
            raise InvalidRequest(f"{parameter}: log positions start at 1; {FORMS} is needed")
        return Moment(text, position=position)
    if _DAY.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidRequest(f"{parameter}: {text!r} is not a day of the calendar") from None
        return Moment(text, at=datetime.combine(day, time.max, tzinfo=UTC), whole_day=True)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{parameter}: {text!r} is not {FORMS}") from None
    if at.tzinfo is None:
        raise InvalidRequest(
            f"{parameter}: {text!r} has no UTC offset; add one (e.g. 'Z' or '+01:00')"
        )
    return Moment(text, at=at.astimezone(UTC))


def _within_history(
    moment: Moment | None, parameter: str, *, last: int, founded_at: datetime, now: datetime
) -> Moment | None:
    """The moment, refused when it lies outside the history recorded so far."""
    if moment is None:
        return None
    if moment.position is not None and moment.position > last:
        raise InvalidRequest(
            f"{parameter}: position {moment.position} is beyond the end of this alliance's "
            f"log, whose last position is {last}"
        )
    if moment.at is None:
        return moment
    if moment.at < founded_at:
        raise InvalidRequest(
            f"{parameter}: {moment.text} is before the alliance was founded "
            f"({founded_at.isoformat()}); its history starts then"
        )
    if moment.at > now:
        if moment.whole_day and moment.at.date() == now.date():
            return Moment(moment.text, at=now)  # today so far
        raise InvalidRequest(
            f"{parameter}: {moment.text} is in the future (it is now {now.isoformat()}); "
            "an audit state is of what has happened"
        )
    return moment


# ----------------------------------------------------------------------------- the replay


def _events(app: Application[Any], last: int) -> Iterator[tuple[int, Any]]:
    """The log up to `last`, oldest first, a page at a time, as domain events."""
    start = 1
    while start <= last:
        page = app.recorder.select_notifications(start=start, limit=LOG_PAGE, stop=last)
        if not page:
            return
        for notification in page:
            yield notification.id, app.mapper.to_domain_event(notification)
        start = page[-1].id + 1


class _Replay:
    """A private, in-memory copy of the read models, fed the log one event at a time."""

    def __init__(self, events: Iterator[tuple[int, Any]]) -> None:
        self._connection = sqlite3.connect(":memory:")
        self._connection.row_factory = sqlite3.Row
        self.sql = Sql(self._connection.cursor(), postgres=False)
        self._projections = [projection() for projection in REPLAYED]
        for projection in self._projections:
            projection.create(self.sql)
        self._events = events
        self._next = next(events, None)
        self.founded_at: datetime | None = None if self._next is None else self._next[1].timestamp
        self.position = 0
        self.timestamp: datetime | None = None
        self.applied = 0

    def run_to(self, moment: Moment | None, trail: list[tuple[int, Any]] | None = None) -> None:
        """Apply every event up to the moment (all of them for None). Stops at the first
        event recorded after a moment in time, so the state never holds a later event."""
        while self._next is not None:
            position, event = self._next
            if moment is not None and moment.position is not None and position > moment.position:
                return
            if moment is not None and moment.at is not None and event.timestamp > moment.at:
                return
            for projection in self._projections:
                projection.apply(self.sql, event, position)
            self.position, self.timestamp = position, event.timestamp
            self.applied += 1
            if trail is not None:
                trail.append((position, event))
            self._next = next(self._events, None)

    def close(self) -> None:
        self._connection.close()


@dataclass
class Snapshot:
    """What the replayed read models said at one point, read out."""

    position: int
    as_of: datetime
    at: datetime
    founded_at: datetime
    last_position: int
    events: int
    terms: dict[str, Any] | None
    versions: list[dict[str, Any]]
    members: list[dict[str, Any]]
    holdings: dict[str, dict[str, Any]]
    current_holdings: list[dict[str, Any]]
    seats: dict[str, dict[str, Any]]
    current_seats: list[dict[str, Any]]
    motions: list[dict[str, Any]]
    elections: list[dict[str, Any]]


def _read_out(replay: _Replay, at: datetime, last: int) -> Snapshot:
    sql = replay.sql
    day = at.date().isoformat()
    members = register.members(sql, status=None, standing=None, after=0, limit=EVERY)
    # Every member's representatives in one read (as `register.representatives` gives
    # them, in order of seq), not one read per member.
    representatives: dict[str, list[dict[str, Any]]] = {}
    for row in sql.all(
        f"SELECT {register.REPRESENTATIVE_COLUMNS} FROM representatives ORDER BY seq"  # noqa: S608
    ):
        row["principal"] = bool(row["principal"])
        representatives.setdefault(row["member_id"], []).append(row)
    for member in members:
        member["representatives"] = representatives.get(member["member_id"], [])
        member["principal_contact"] = next(
            (r["representative_id"] for r in member["representatives"] if r["principal"]), None
        )
    elections = [
        elections_view.election(sql, row["election_id"])
        for row in elections_view.elections(sql, limit=EVERY)
    ]
    assert replay.timestamp is not None and replay.founded_at is not None
    return Snapshot(
        position=replay.position,
        as_of=replay.timestamp,
        at=at,
        founded_at=replay.founded_at,
        last_position=last,
        events=replay.applied,
        terms=terms_view.in_force(sql, at.isoformat(), day),
        versions=terms_view.versions(sql),
        members=members,
        holdings={h["holding_id"]: h for h in offices_view.holdings(sql)},
        current_holdings=offices_view.holdings(sql, current_on=day),
        seats={s["seat_id"]: s for s in offices_view.seats(sql)},
        current_seats=offices_view.seats(sql, current_on=day),
        motions=motions_view.motions(sql, limit=EVERY),
        elections=[e for e in elections if e is not None],
    )


def as_moment(value: str | int | datetime | date | Moment | None, parameter: str) -> Moment | None:
    """A moment from what a caller of the Python API may pass (None: now)."""
    if value is None or isinstance(value, Moment):
        return value
    if isinstance(value, bool):
        raise InvalidRequest(f"{parameter}: {value!r} is not {FORMS}")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidRequest(f"{parameter}: {value.isoformat()!r} has no UTC offset")
        return Moment(value.isoformat(), at=value.astimezone(UTC))
    return parse_moment(value.isoformat() if isinstance(value, date) else str(value), parameter)


def snapshots(
    runtime: Runtime,
    slug: str,
    asked: Sequence[tuple[Moment | None, str]],
    trail: list[tuple[int, Any]] | None = None,
) -> list[Snapshot]:
    """Replay the alliance's log once, reading the state out at each moment asked for
    (in order; None is now). Events after the first moment go into `trail`."""
    directory_entry(runtime, slug)
    now = runtime.clock().astimezone(UTC)
    with runtime.tenant(slug) as store:
        last = store.app.recorder.max_notification_id() or 0
        with closing(_Replay(_events(store.app, last))) as replay:
            if replay.founded_at is None:
                raise NotFound(f"the alliance {slug!r} has no recorded history yet")
            snapshots: list[Snapshot] = []
            for index, (moment, parameter) in enumerate(asked):
                checked = _within_history(
                    moment, parameter, last=last, founded_at=replay.founded_at, now=now
                )
                if index and _reaches_back(replay, checked):
                    _refuse_reversed(asked[index - 1], (moment, parameter))
                replay.run_to(checked, trail if index else None)
                snapshot = _read_out(replay, _moment_of(checked, replay, now), last)
                if snapshots and snapshots[-1].at > snapshot.at:
                    _refuse_reversed(asked[index - 1], (moment, parameter))
                snapshots.append(snapshot)
            return snapshots


def _moment_of(moment: Moment | None, replay: _Replay, now: datetime) -> datetime:
    if moment is None:
        return now
    if moment.at is not None:
        return moment.at
    assert replay.timestamp is not None
    return replay.timestamp


def _reaches_back(replay: _Replay, moment: Moment | None) -> bool:
    """Whether the replay has already gone past this moment."""
    if moment is None:
        return False
    if moment.position is not None:
        return replay.position > moment.position
    return replay.timestamp is not None and moment.at is not None and replay.timestamp > moment.at


def _refuse_reversed(first: tuple[Moment | None, str], second: tuple[Moment | None, str]) -> None:
    (earlier, a), (later, b) = first, second
    raise InvalidRequest(
        f"{a} ({_shown(earlier)}) is after {b} ({_shown(later)}); {a} must not be after {b}"
    )


def _shown(moment: Moment | None) -> str:
    return "now" if moment is None else moment.text


def state_at(
    runtime: Runtime, slug: str, as_of: str | int | datetime | date | Moment | None = None
) -> AuditState:
    """The alliance as its events made it at a moment or log position (now by default)."""
    moment = as_moment(as_of, "as_of")
    [snapshot] = snapshots(runtime, slug, [(moment, "as_of")])
    return _state(slug, snapshot)


def _state(slug: str, snap: Snapshot) -> AuditState:
    members = [msgspec.convert(m, MemberState, strict=False) for m in snap.members]
    open_motions = [m for m in snap.motions if m["status"] in OPEN_STATES]
    open_elections = [e for e in snap.elections if e["status"] in OPEN_ELECTIONS]
    return AuditState(
        slug=slug,
        position=snap.position,
        as_of=snap.as_of,
        at=snap.at,
        last_position=snap.last_position,
        founded_at=snap.founded_at,
        terms=None
        if snap.terms is None
        else msgspec.convert(snap.terms, TermsInForce, strict=False),
        versions=[msgspec.convert(v, VersionAdopted, strict=False) for v in snap.versions],
        members=members,
        office_holders=[
            msgspec.convert(h, HoldingState, strict=False) for h in snap.current_holdings
        ],
        committee_seats=[msgspec.convert(s, SeatState, strict=False) for s in snap.current_seats],
        open_motions=[msgspec.convert(m, MotionState, strict=False) for m in open_motions],
        open_elections=[msgspec.convert(e, ElectionState, strict=False) for e in open_elections],
        counts=AuditCounts(
            events=snap.events,
            members=sum(1 for m in members if m.status in (ACTIVE, SUSPENDED)),
            voting_members=sum(1 for m in members if m.status == ACTIVE and m.standing == "member"),
            suspended_members=sum(1 for m in members if m.status == SUSPENDED),
            former_members=sum(1 for m in members if m.status in (RESIGNED, REMOVED)),
            office_holders=len(snap.current_holdings),
            committee_seats=len(snap.current_seats),
            open_motions=len(open_motions),
            open_elections=len(open_elections),
        ),
    )
