"""Who holds each office and each committee seat, from when and until when.

Terms end by date, so "current" and "expiring" are answered at read time for a given day:
the rows keep the dates, not a state that would go stale at midnight.
"""

from __future__ import annotations

from typing import Any

from domain.offices import BodyRoster, OfficeRoll
from domain.privacy import shown
from infra.stores import Sql
from projections.base import Projection, on

HOLDING_COLUMNS = (
    "holding_id, office, seq, member_id, organisation, person_name, starts_on, ends_on,"
    " left_on, left_reason, via, by_body, decision_ref, election_ref, outside_approval_ref,"
    " under_version"
)
SEAT_COLUMNS = (
    "seat_id, body, seq, member_id, organisation, person_name, required_seat, starts_on,"
    " ends_on, left_on, left_reason, agreed_by, decision_ref, under_version"
)
# A holding is current on a day when it has started and neither its term has ended nor
# its holder left. Dates are ISO strings, so they compare as text on both stores.
CURRENT = "starts_on <= ? AND (ends_on IS NULL OR ends_on > ?) AND (left_on IS NULL OR left_on > ?)"


class OfficeHolders(Projection):
    name = "office_holders"
    tables = {
        # Which office or body each roll is: the events of a roll carry only its id.
        "office_rolls": (
            "CREATE TABLE IF NOT EXISTS office_rolls ("
            " roll_id TEXT PRIMARY KEY, office TEXT NOT NULL)"
        ),
        "office_holdings": (
            "CREATE TABLE IF NOT EXISTS office_holdings ("
            " holding_id TEXT PRIMARY KEY,"
            " office TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " member_id TEXT,"
            " organisation TEXT NOT NULL,"
            " person_name TEXT,"
            " starts_on TEXT NOT NULL,"
            " ends_on TEXT,"
            " left_on TEXT,"
            " left_reason TEXT,"
            " via TEXT NOT NULL,"
            " by_body TEXT,"
            " decision_ref TEXT,"
            " election_ref TEXT,"
            " outside_approval_ref TEXT,"
            " under_version INTEGER NOT NULL)"
        ),
        "body_seats": (
            "CREATE TABLE IF NOT EXISTS body_seats ("
            " seat_id TEXT PRIMARY KEY,"
            " body TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " member_id TEXT,"
            " organisation TEXT NOT NULL,"
            " person_name TEXT,"
            " required_seat TEXT,"
            " starts_on TEXT NOT NULL,"
            " ends_on TEXT,"
            " left_on TEXT,"
            " left_reason TEXT,"
            " agreed_by TEXT NOT NULL,"
            " decision_ref TEXT NOT NULL,"
            " under_version INTEGER NOT NULL)"
        ),
    }

    @on(OfficeRoll.HolderAppointed)
    def appointed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            f"INSERT INTO office_holdings ({HOLDING_COLUMNS}) VALUES"  # noqa: S608
            " (?, (SELECT office FROM office_rolls WHERE roll_id = ?), ?, ?, ?, ?, ?, ?,"
            " NULL, NULL, ?, ?, ?, ?, ?, ?)",
            (
                event.holding_id,
                str(event.originator_id),
                position,
                event.member_id,
                event.organisation,
                shown(event.person, "name"),
                event.starts_on,
                event.ends_on,
                event.via,
                event.by_body,
                event.decision_ref,
                event.election_ref,
                event.outside_approval_ref,
                event.under_version,
            ),
        )

    @on(OfficeRoll.HolderLeft)
    def left(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE office_holdings SET left_on = ?, left_reason = ? WHERE holding_id = ?",
            (event.left_on, event.reason, event.holding_id),
        )

    @on(BodyRoster.SeatTaken)
    def seat_taken(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            f"INSERT INTO body_seats ({SEAT_COLUMNS}) VALUES"  # noqa: S608
            " (?, (SELECT office FROM office_rolls WHERE roll_id = ?), ?, ?, ?, ?, ?, ?, ?,"
            " NULL, NULL, ?, ?, ?)",
            (
                event.seat_id,
                str(event.originator_id),
                position,
                event.member_id,
                event.organisation,
                shown(event.person, "name"),
                event.required_seat,
                event.starts_on,
                event.ends_on,
                event.agreed_by,
                event.decision_ref,
                event.under_version,
            ),
        )

    @on(BodyRoster.SeatLeft)
    def seat_left(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE body_seats SET left_on = ?, left_reason = ? WHERE seat_id = ?",
            (event.left_on, event.reason, event.seat_id),
        )

    @on(OfficeRoll.Opened, BodyRoster.Opened)
    def opened(self, sql: Sql, event: Any, position: int) -> None:
        key = event.office if isinstance(event, OfficeRoll.Opened) else event.body
        sql.execute(
            "INSERT INTO office_rolls (roll_id, office) VALUES (?, ?)",
            (str(event.originator_id), key),
        )


def holdings(
    sql: Sql, *, office: str | None = None, current_on: str | None = None
) -> list[dict[str, Any]]:
    """Office holdings, oldest first: of one office or all, current on a day or ever."""
    where: list[str] = []
    params: list[Any] = []
    if office is not None:
        where.append("office = ?")
        params.append(office)
    if current_on is not None:
        where.append(CURRENT)
        params += [current_on] * 3
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return sql.all(
        f"SELECT {HOLDING_COLUMNS} FROM office_holdings{clause} ORDER BY seq",  # noqa: S608
        tuple(params),
    )


def holding(sql: Sql, holding_id: str) -> dict[str, Any] | None:
    return sql.one(
        f"SELECT {HOLDING_COLUMNS} FROM office_holdings WHERE holding_id = ?",  # noqa: S608
        (holding_id,),
    )


def seats(
    sql: Sql, *, body: str | None = None, current_on: str | None = None
) -> list[dict[str, Any]]:
    """Committee seats, oldest first: of one body or all, current on a day or ever."""
    where: list[str] = []
    params: list[Any] = []
    if body is not None:
        where.append("body = ?")
        params.append(body)
    if current_on is not None:
        where.append(CURRENT)
        params += [current_on] * 3
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return sql.all(
        f"SELECT {SEAT_COLUMNS} FROM body_seats{clause} ORDER BY seq",  # noqa: S608
        tuple(params),
    )


def seat(sql: Sql, seat_id: str) -> dict[str, Any] | None:
    return sql.one(
        f"SELECT {SEAT_COLUMNS} FROM body_seats WHERE seat_id = ?",  # noqa: S608
        (seat_id,),
    )
