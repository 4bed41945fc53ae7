"""What changed in an alliance between two points of its history: the two states of one
replay compared, one plain sentence per change, each citing the log positions that made it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import msgspec

from domain.elections import CLOSED, NOMINATING, VOTING, Election
from domain.membership import ACTIVE, REMOVED, RESIGNED, SUSPENDED, Member
from domain.motions import Motion
from domain.offices import BodyRoster, OfficeRoll
from domain.terms import TermsOfReference
from domain.terms_diff import VersionDiff, diff_versions
from services.audit.replay import Moment, Snapshot, as_moment, snapshots
from services.runtime import Runtime

ChangeKind = Literal[
    "terms-in-force",
    "terms-adopted",
    "member-admitted",
    "member-status",
    "representative-added",
    "representative-removed",
    "principal-contact",
    "appointed-to-office",
    "took-office",
    "left-office",
    "appointed-to-seat",
    "took-seat",
    "left-seat",
    "motion-proposed",
    "motion-stage",
    "election-opened",
    "election-stage",
]


class AuditChange(msgspec.Struct, kw_only=True):
    """One thing that changed between the two points, in a sentence."""

    kind: ChangeKind
    #: The id of what changed (member, representative, holding, seat, motion, election), or
    #: the version number of the Terms of Reference.
    subject: str
    #: The log positions of the events that made the change (empty when the calendar made
    #: it: a term that ran out, a version whose day came).
    positions: list[int]
    sentence: str
    before: Any = None
    after: Any = None
    #: For a new ToR version in force: what changed from the version before it.
    terms_diff: VersionDiff | None = None


class AuditPoint(msgspec.Struct, kw_only=True):
    position: int
    as_of: datetime
    at: datetime


class AuditDiff(msgspec.Struct, kw_only=True):
    """What changed between two points of an alliance's history."""

    slug: str
    from_: AuditPoint = msgspec.field(name="from")
    to: AuditPoint
    changes: list[AuditChange]
    #: The changes' sentences, in the order of the log.
    summary: list[str]


def diff(
    runtime: Runtime,
    slug: str,
    from_: str | int | datetime | date | Moment | None,
    to: str | int | datetime | date | Moment | None,
) -> AuditDiff:
    """What changed between two points of the alliance's history (None: now), each change
    with a sentence and the log positions that made it."""
    points = [(as_moment(from_, "from"), "from"), (as_moment(to, "to"), "to")]
    trail: list[tuple[int, Any]] = []
    before, after = snapshots(runtime, slug, points, trail)
    found = _Trail(trail)
    changes = [
        *_terms_changes(before, after, found),
        *_member_changes(before, after, found),
        *_tenure_changes(OFFICES, before, after, found),
        *_tenure_changes(SEATS, before, after, found),
        *_motion_changes(before, after, found),
        *_election_changes(before, after, found),
    ]
    changes.sort(key=lambda c: (not c.positions, c.positions[0] if c.positions else 0))
    return AuditDiff(
        slug=slug,
        from_=_point(before),
        to=_point(after),
        changes=changes,
        summary=[c.sentence for c in changes],
    )


def _point(snapshot: Snapshot) -> AuditPoint:
    return AuditPoint(position=snapshot.position, as_of=snapshot.as_of, at=snapshot.at)


class _Trail:
    """The events between the two points, found by kind and by a value they carry."""

    def __init__(self, events: list[tuple[int, Any]]) -> None:
        self._by_kind: dict[type, list[tuple[int, Any]]] = defaultdict(list)
        for position, event in events:
            self._by_kind[type(event)].append((position, event))
        self._indexes: dict[tuple[type, str], dict[Any, list[int]]] = {}

    def positions(self, *kinds: type, **value: Any) -> list[int]:
        """Positions of the events of these kinds (with this one value, if given)."""
        if not value:
            return sorted(p for kind in kinds for p, _ in self._by_kind.get(kind, ()))
        [(name, wanted)] = value.items()
        return sorted(p for kind in kinds for p in self._index(kind, name).get(wanted, ()))

    def _index(self, kind: type, name: str) -> dict[Any, list[int]]:
        index = self._indexes.get((kind, name))
        if index is None:
            index = defaultdict(list)
            for position, event in self._by_kind.get(kind, ()):
                index[_value_of(event, name)].append(position)
            self._indexes[(kind, name)] = index
        return index


def _value_of(event: Any, name: str) -> Any:
    return str(event.originator_id) if name == "aggregate" else getattr(event, name, None)


def _change(
    kind: ChangeKind,
    subject: str,
    positions: list[int],
    sentence: str,
    *,
    then: str = "",
    **more: Any,
) -> AuditChange:
    """A change, its sentence citing the positions after its main clause (`then` follows)."""
    return AuditChange(
        kind=kind,
        subject=subject,
        positions=positions,
        sentence=sentence + _cited(positions) + then + ".",
        **more,
    )


def _cited(positions: list[int]) -> str:
    if not positions:
        return ""
    if len(positions) == 1:
        return f" (position {positions[0]})"
    return f" (positions {', '.join(map(str, positions))})"


def _who(person: str | None, organisation: str | None) -> str:
    if person and organisation:
        return f"{person} ({organisation})"
    return person or organisation or "someone not named"


def _quoted(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return f"'{line if len(line) <= 80 else line[:77].rstrip() + '…'}'"


def _shown_value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ------------------------------------------------------------------ the Terms of Reference


def _terms_changes(a: Snapshot, b: Snapshot, trail: _Trail) -> list[AuditChange]:
    changes = []
    old, new = a.terms, b.terms
    if new is not None and (old is None or old["number"] != new["number"]):
        changes.append(_new_version_in_force(old, new, trail))
    known = {v["number"] for v in a.versions}
    in_force = new["number"] if new is not None else None
    for version in b.versions:
        if version["number"] in known or version["number"] == in_force:
            continue
        positions = _version_positions(trail, version["number"])
        later = (
            f", to take effect on {version['effective_from']}"
            if in_force is None or version["number"] > in_force
            else f"; version {in_force} is in force"
        )
        changes.append(
            _change(
                "terms-adopted",
                str(version["number"]),
                positions,
                f"ToR version {version['number']} was adopted",
                then=later,
                after={"number": version["number"], "effective_from": version["effective_from"]},
            )
        )
    return changes


def _version_positions(trail: _Trail, number: int) -> list[int]:
    if number == 1:
        return trail.positions(TermsOfReference.Adopted)
    return trail.positions(TermsOfReference.AmendmentApproved, version=number)


def _new_version_in_force(
    old: dict[str, Any] | None, new: dict[str, Any], trail: _Trail
) -> AuditChange:
    number = new["number"]
    positions = _version_positions(trail, number)
    if old is None:
        return _change(
            "terms-in-force",
            str(number),
            positions,
            f"ToR version {number} came into force",
            after=number,
        )
    explained = diff_versions(
        old["number"], old["clauses"], old["rules"], number, new["clauses"], new["rules"]
    )
    how = "replaced" if positions else f"came into force on {new['effective_from']}, replacing"
    what = [_rules_changed(explained), _clauses_changed(explained)]
    detail = "; ".join(part for part in what if part) or "no rule or clause changed"
    return _change(
        "terms-in-force",
        str(number),
        positions,
        f"ToR version {number} {how} version {old['number']}",
        then=f": {detail}",
        before=old["number"],
        after=number,
        terms_diff=explained,
    )


def _rules_changed(explained: VersionDiff) -> str:
    if not explained.rules:
        return ""
    shown = [
        f"{r.path} {_shown_value(r.before)} → {_shown_value(r.after)}" for r in explained.rules[:3]
    ]
    more = ", …" if len(explained.rules) > 3 else ""
    return f"{_plural(len(explained.rules), 'rule')} changed ({', '.join(shown)}{more})"


def _clauses_changed(explained: VersionDiff) -> str:
    if not explained.clauses:
        return ""
    shown = [f"clause {c.number} {c.change}" for c in explained.clauses[:3]]
    more = ", …" if len(explained.clauses) > 3 else ""
    return f"{_plural(len(explained.clauses), 'clause')} changed ({', '.join(shown)}{more})"


# ------------------------------------------------------------------ the member register

STANDING_AS = {"member": "a member", "observer": "an observer", "advisory": "an advisory member"}


def _member_changes(a: Snapshot, b: Snapshot, trail: _Trail) -> list[AuditChange]:
    before = {m["member_id"]: m for m in a.members}
    changes: list[AuditChange] = []
    for member in b.members:
        earlier = before.get(member["member_id"])
        if earlier is None:
            changes.append(_admitted(member, trail))
        if (earlier["status"] if earlier else ACTIVE) != member["status"]:
            changes.append(_status_changed(earlier, member, trail))
        changes += _representative_changes(earlier, member, trail)
    return changes


def _name(member: dict[str, Any]) -> str:
    return str(member["name"] or member["person_name"] or f"member {member['member_id']}")


def _admitted(member: dict[str, Any], trail: _Trail) -> AuditChange:
    return _change(
        "member-admitted",
        member["member_id"],
        trail.positions(Member.Admitted, aggregate=member["member_id"]),
        f"{_name(member)} was admitted as {STANDING_AS.get(member['standing'], 'a member')}",
        after={"standing": member["standing"], "status": member["status"]},
    )


STATUS_EVENTS: dict[str, type] = {
    SUSPENDED: Member.Suspended,
    ACTIVE: Member.Reinstated,
    RESIGNED: Member.Resigned,
    REMOVED: Member.Removed,
}
STATUS_VERBS = {
    SUSPENDED: "was suspended",
    ACTIVE: "was reinstated",
    RESIGNED: "resigned",
    REMOVED: "was removed",
}


def _status_changed(
    earlier: dict[str, Any] | None, member: dict[str, Any], trail: _Trail
) -> AuditChange:
    status = member["status"]
    reason = f": {member['status_reason']}" if member["status_reason"] else ""
    positions = trail.positions(STATUS_EVENTS[status], aggregate=member["member_id"])
    return _change(
        "member-status",
        member["member_id"],
        positions[-1:],
        f"{_name(member)} {STATUS_VERBS[status]}{reason}",
        before=earlier["status"] if earlier else None,
        after=status,
    )


def _representative_changes(
    earlier: dict[str, Any] | None, member: dict[str, Any], trail: _Trail
) -> list[AuditChange]:
    old = {r["representative_id"]: r for r in (earlier or {}).get("representatives", [])}
    new = {r["representative_id"]: r for r in member["representatives"]}
    org, member_id = _name(member), member["member_id"]
    changes = []
    for rep_id, rep in new.items():
        if rep_id in old:
            continue
        principal = ", as its principal contact" if rep["principal"] else ""
        changes.append(
            _change(
                "representative-added",
                rep_id,
                trail.positions(Member.RepresentativeAdded, representative_id=rep_id)
                + trail.positions(Member.RepresentativeReplaced, successor_id=rep_id),
                f"{rep['name'] or 'A representative'} became a representative of {org}{principal}",
                after={"member_id": member_id, "role": rep["role"]},
            )
        )
    for rep_id, rep in old.items():
        if rep_id in new:
            continue
        changes.append(
            _change(
                "representative-removed",
                rep_id,
                trail.positions(
                    Member.RepresentativeRemoved,
                    Member.RepresentativeReplaced,
                    representative_id=rep_id,
                ),
                f"{rep['name'] or 'A representative'} stopped representing {org}",
                before={"member_id": member_id, "role": rep["role"]},
            )
        )
    principal = member["principal_contact"]
    was = (earlier or {}).get("principal_contact")
    if principal is not None and principal != was and principal in old:
        changes.append(
            _change(
                "principal-contact",
                principal,
                trail.positions(Member.PrincipalContactChanged, representative_id=principal)
                + trail.positions(Member.RepresentativeRemoved, new_principal_id=principal),
                f"{new[principal]['name'] or 'A representative'} became the principal contact "
                f"of {org}",
                before=was,
                after=principal,
            )
        )
    return changes


# ------------------------------------------------------------------ offices and committees


@dataclass(frozen=True)
class _Tenures:
    """Offices or committee seats: how their rows are named, and the words for them."""

    key: str
    kinds: tuple[ChangeKind, ChangeKind, ChangeKind]  # appointed, took, left
    taken: type
    left: type
    rows: Callable[[Snapshot], dict[str, dict[str, Any]]]  # every one, by id
    current: Callable[[Snapshot], list[dict[str, Any]]]  # those held on the day
    place: Callable[[dict[str, Any]], str]  # "office as chair", "the executive-committee"
    taking: Callable[[dict[str, Any]], str]  # "took office as chair", "took a seat on …"
    chosen: Callable[[dict[str, Any]], str]  # "was chosen as chair, to take office on …"


OFFICES = _Tenures(
    key="holding_id",
    kinds=("appointed-to-office", "took-office", "left-office"),
    taken=OfficeRoll.HolderAppointed,
    left=OfficeRoll.HolderLeft,
    rows=lambda snapshot: snapshot.holdings,
    current=lambda snapshot: snapshot.current_holdings,
    place=lambda row: f"office as {row['office']}",
    taking=lambda row: f"took office as {row['office']}",
    chosen=lambda row: f"was chosen as {row['office']}, to take office on {row['starts_on']}",
)
SEATS = _Tenures(
    key="seat_id",
    kinds=("appointed-to-seat", "took-seat", "left-seat"),
    taken=BodyRoster.SeatTaken,
    left=BodyRoster.SeatLeft,
    rows=lambda snapshot: snapshot.seats,
    current=lambda snapshot: snapshot.current_seats,
    place=lambda row: f"the {row['body']}",
    taking=lambda row: f"took a seat on the {row['body']}",
    chosen=lambda row: f"was given a seat on the {row['body']} from {row['starts_on']}",
)


def _tenure_changes(
    tenures: _Tenures, a: Snapshot, b: Snapshot, trail: _Trail
) -> list[AuditChange]:
    """Who took up an office (or a seat) between the two points, who was chosen to take
    one up later, and who left one (or whose term ran out)."""
    before, after, day = tenures.rows(a), tenures.rows(b), b.at.date().isoformat()
    held_then = {row[tenures.key] for row in tenures.current(a)}
    held_now = {row[tenures.key] for row in tenures.current(b)}
    changes = []
    for row in after.values():
        row_id = row[tenures.key]
        if row_id in held_then or (row_id in before and row_id not in held_now):
            continue
        if row_id in held_now:
            changes.append(_took(tenures, row, trail))
        elif row["starts_on"] > day:
            changes.append(_appointed(tenures, row, trail))
    for row_id in sorted(held_then - held_now, key=lambda r: after[r]["seq"]):
        row = after[row_id]
        changes.append(_ended(tenures, row, trail.positions(tenures.left, **{tenures.key: row_id})))
    return changes


def _took(tenures: _Tenures, row: dict[str, Any], trail: _Trail) -> AuditChange:
    term = f"until {row['ends_on']}" if row["ends_on"] else "with no fixed end"
    return _change(
        tenures.kinds[1],
        row[tenures.key],
        trail.positions(tenures.taken, **{tenures.key: row[tenures.key]}),
        f"{_who(row['person_name'], row['organisation'])} {tenures.taking(row)} {term}",
        after=_term(row),
    )


def _appointed(tenures: _Tenures, row: dict[str, Any], trail: _Trail) -> AuditChange:
    return _change(
        tenures.kinds[0],
        row[tenures.key],
        trail.positions(tenures.taken, **{tenures.key: row[tenures.key]}),
        f"{_who(row['person_name'], row['organisation'])} {tenures.chosen(row)}",
        after=_term(row),
    )


def _ended(tenures: _Tenures, row: dict[str, Any], positions: list[int]) -> AuditChange:
    who = _who(row["person_name"], row["organisation"])
    if row["left_on"] is not None and (row["ends_on"] is None or row["left_on"] < row["ends_on"]):
        sentence = f"{who} left {tenures.place(row)} on {row['left_on']}: {row['left_reason']}"
    else:
        sentence = f"The term of {who} in {tenures.place(row)} ended on {row['ends_on']}"
        positions = []
    return _change(tenures.kinds[2], row[tenures.key], positions, sentence, before=_term(row))


def _term(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("starts_on", "ends_on", "left_on", "left_reason")}


# ------------------------------------------------------------------ motions and elections

STAGE_EVENTS: dict[str, type] = {
    "voting": Motion.VotingOpened,
    "tied": Motion.VotingClosed,
    "carried": Motion.Decided,
    "defeated": Motion.Decided,
    "referred": Motion.Decided,
    "withdrawn": Motion.Withdrawn,
}
VIA = {"consensus": " by consensus", "vote": " on a vote", "casting-vote": " on the casting vote"}


def _motion_changes(a: Snapshot, b: Snapshot, trail: _Trail) -> list[AuditChange]:
    before = {m["motion_id"]: m for m in a.motions}
    changes = []
    for motion in b.motions:
        motion_id, title = motion["motion_id"], _quoted(motion["text"])
        earlier = before.get(motion_id)
        if earlier is None:
            changes.append(
                _change(
                    "motion-proposed",
                    motion_id,
                    trail.positions(Motion.Proposed, aggregate=motion_id),
                    f"Motion {title} was proposed to the {motion['body']}",
                    after="proposed",
                )
            )
        stage = earlier["status"] if earlier else "proposed"
        if stage == motion["status"]:
            continue
        positions = trail.positions(STAGE_EVENTS[motion["status"]], aggregate=motion_id)
        changes.append(
            _change(
                "motion-stage",
                motion_id,
                positions[-1:],
                _motion_sentence(title, motion),
                before=stage,
                after=motion["status"],
            )
        )
    return changes


def _motion_sentence(title: str, motion: dict[str, Any]) -> str:
    status = motion["status"]
    if status == "voting":
        return f"Voting opened on motion {title}"
    if status == "tied":
        return f"The vote on motion {title} was tied, awaiting the casting vote"
    if status == "withdrawn":
        reason = f": {motion['withdrawn_reason']}" if motion["withdrawn_reason"] else ""
        return f"Motion {title} was withdrawn{reason}"
    if status == "referred":
        return f"Motion {title} was referred on, as motion {motion['referred_to']}"
    return f"Motion {title} was {status}{VIA.get(motion['via'] or '', '')}"


ELECTION_EVENTS: dict[str, type] = {
    VOTING: Election.VotingOpened,
    CLOSED: Election.Closed,
    "cancelled": Election.Cancelled,
}


def _election_changes(a: Snapshot, b: Snapshot, trail: _Trail) -> list[AuditChange]:
    before = {e["election_id"]: e for e in a.elections}
    changes = []
    for election in b.elections:
        election_id, office = election["election_id"], election["office"]
        earlier = before.get(election_id)
        if earlier is None:
            changes.append(
                _change(
                    "election-opened",
                    election_id,
                    trail.positions(Election.Opened, aggregate=election_id),
                    f"An election to {office} ({_plural(election['seats'], 'seat')}) was opened",
                    after=NOMINATING,
                )
            )
        stage = earlier["status"] if earlier else NOMINATING
        if stage == election["status"]:
            continue
        positions = trail.positions(ELECTION_EVENTS[election["status"]], aggregate=election_id)
        changes.append(
            _change(
                "election-stage",
                election_id,
                positions[-1:],
                _election_sentence(election),
                before=stage,
                after=election["status"],
            )
        )
    return changes


def _election_sentence(election: dict[str, Any]) -> str:
    office, status = election["office"], election["status"]
    if status == VOTING:
        return f"Voting opened in the election to {office}"
    if status == CLOSED:
        elected = [
            _who(c["person_name"], c["organisation"])
            for c in election["candidates"]
            if c["elected"]
        ]
        return f"The election to {office} was counted: {', '.join(elected) or 'no one'} elected"
    reason = f": {election['cancelled_reason']}" if election["cancelled_reason"] else ""
    return f"The election to {office} was cancelled{reason}"
