"""The member register: members, observers and advisory members, their status and since
when, their representatives and principal contact, and their conduct reviews."""

from __future__ import annotations

from typing import Any

from domain.membership import ACTIVE, REMOVED, RESIGNED, SUSPENDED, Member
from domain.privacy import shown
from infra.stores import Sql
from projections.base import Projection, on

MEMBER_COLUMNS = (
    "member_id, seq, application_id, capacity, name, person_name, organisation_kind, region,"
    " standing, status, admitted_at, status_since, status_reason, decision_ref, by_body"
)
REPRESENTATIVE_COLUMNS = "representative_id, member_id, seq, role, name, email, principal, since"


class MemberRegister(Projection):
    name = "member_register"
    #: 2: representatives indexed by member (each new principal scanned the table).
    version = 2
    indexes = {
        "representatives_by_member": (
            "CREATE INDEX IF NOT EXISTS representatives_by_member"
            " ON representatives (member_id, seq)"
        ),
    }
    tables = {
        "members": (
            "CREATE TABLE IF NOT EXISTS members ("
            " member_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " application_id TEXT NOT NULL,"
            " capacity TEXT NOT NULL,"
            " name TEXT,"
            " person_name TEXT,"
            " organisation_kind TEXT,"
            " region TEXT,"
            " standing TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " admitted_at TEXT NOT NULL,"
            " status_since TEXT NOT NULL,"
            " status_reason TEXT,"
            " decision_ref TEXT,"
            " by_body TEXT)"
        ),
        "representatives": (
            "CREATE TABLE IF NOT EXISTS representatives ("
            " representative_id TEXT PRIMARY KEY,"
            " member_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " role TEXT NOT NULL,"
            " name TEXT,"
            " email TEXT,"
            " principal INTEGER NOT NULL,"
            " since TEXT NOT NULL)"
        ),
        "conduct_reviews": (
            "CREATE TABLE IF NOT EXISTS conduct_reviews ("
            " review_id TEXT PRIMARY KEY,"
            " member_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL,"
            " by_body TEXT NOT NULL,"
            " outcome TEXT NOT NULL,"
            " notes TEXT NOT NULL,"
            " decision_ref TEXT NOT NULL,"
            " reviewed_at TEXT NOT NULL)"
        ),
    }

    @on(Member.Admitted)
    def admitted(self, sql: Sql, event: Any, position: int) -> None:
        at = event.timestamp.isoformat()
        sql.execute(
            f"INSERT INTO members ({MEMBER_COLUMNS}) VALUES"  # noqa: S608
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            (
                str(event.originator_id),
                position,
                event.application_id,
                event.capacity,
                event.name,
                shown(event.person, "name"),
                event.organisation_kind,
                event.region,
                event.standing,
                ACTIVE,
                at,
                at,
                event.decision_ref,
                event.by_body,
            ),
        )

    def _status(self, sql: Sql, event: Any, status: str, reason: str | None) -> None:
        sql.execute(
            "UPDATE members SET status = ?, status_since = ?, status_reason = ?,"
            " decision_ref = ?, by_body = ? WHERE member_id = ?",
            (
                status,
                event.timestamp.isoformat(),
                reason,
                getattr(event, "decision_ref", None),
                getattr(event, "by_body", None),
                str(event.originator_id),
            ),
        )

    @on(Member.Suspended)
    def suspended(self, sql: Sql, event: Any, position: int) -> None:
        self._status(sql, event, SUSPENDED, event.reason)

    @on(Member.Reinstated)
    def reinstated(self, sql: Sql, event: Any, position: int) -> None:
        self._status(sql, event, ACTIVE, None)

    @on(Member.Resigned)
    def resigned(self, sql: Sql, event: Any, position: int) -> None:
        self._status(sql, event, RESIGNED, event.reason)

    @on(Member.Removed)
    def removed(self, sql: Sql, event: Any, position: int) -> None:
        self._status(sql, event, REMOVED, event.reason)

    @on(Member.ConductReviewed)
    def conduct_reviewed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO conduct_reviews (review_id, member_id, seq, by_body, outcome, notes,"
            " decision_ref, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.review_id,
                str(event.originator_id),
                position,
                event.by_body,
                event.outcome,
                event.notes,
                event.decision_ref,
                event.timestamp.isoformat(),
            ),
        )

    def _add(self, sql: Sql, event: Any, position: int, rep_id: str, principal: bool) -> None:
        if principal:
            sql.execute(
                "UPDATE representatives SET principal = 0 WHERE member_id = ?",
                (str(event.originator_id),),
            )
        sql.execute(
            f"INSERT INTO representatives ({REPRESENTATIVE_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rep_id,
                str(event.originator_id),
                position,
                event.role,
                shown(event.person, "name"),
                shown(event.person, "email"),
                int(principal),
                event.timestamp.isoformat(),
            ),
        )

    @on(Member.RepresentativeAdded)
    def representative_added(self, sql: Sql, event: Any, position: int) -> None:
        self._add(sql, event, position, event.representative_id, event.principal)

    @on(Member.RepresentativeReplaced)
    def representative_replaced(self, sql: Sql, event: Any, position: int) -> None:
        old = sql.one(
            "SELECT principal FROM representatives WHERE representative_id = ?",
            (event.representative_id,),
        )
        sql.execute(
            "DELETE FROM representatives WHERE representative_id = ?", (event.representative_id,)
        )
        self._add(sql, event, position, event.successor_id, bool(old and old["principal"]))

    @on(Member.RepresentativeRemoved)
    def representative_removed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "DELETE FROM representatives WHERE representative_id = ?", (event.representative_id,)
        )
        if event.new_principal_id is not None:
            self._principal(sql, str(event.originator_id), event.new_principal_id)

    @on(Member.PrincipalContactChanged)
    def principal_changed(self, sql: Sql, event: Any, position: int) -> None:
        self._principal(sql, str(event.originator_id), event.representative_id)

    @staticmethod
    def _principal(sql: Sql, member_id: str, representative_id: str) -> None:
        sql.execute(
            "UPDATE representatives SET principal = CASE WHEN representative_id = ? THEN 1"
            " ELSE 0 END WHERE member_id = ?",
            (representative_id, member_id),
        )


def member(sql: Sql, member_id: str) -> dict[str, Any] | None:
    return sql.one(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE member_id = ?",  # noqa: S608
        (member_id,),
    )


def members(
    sql: Sql, *, status: str | None, standing: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Members in the order they were admitted (keyset on `seq`), filtered."""
    where, params = ["seq > ?"], [after]
    for column, value in (("status", status), ("standing", standing)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)  # type: ignore[arg-type]
    return sql.all(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )


def voting_member_ids(sql: Sql) -> list[str]:
    """The ids of the members entitled to vote (active full members), in admission order."""
    rows = sql.all(
        "SELECT member_id FROM members WHERE status = ? AND standing = ? ORDER BY seq",
        ("active", "member"),
    )
    return [row["member_id"] for row in rows]


def representatives(sql: Sql, member_id: str) -> list[dict[str, Any]]:
    rows = sql.all(
        f"SELECT {REPRESENTATIVE_COLUMNS} FROM representatives"  # noqa: S608
        " WHERE member_id = ? ORDER BY seq",
        (member_id,),
    )
    for row in rows:
        row["principal"] = bool(row["principal"])
    return rows


def conduct_reviews(sql: Sql, member_id: str) -> list[dict[str, Any]]:
    return sql.all(
        "SELECT review_id, by_body, outcome, notes, decision_ref, reviewed_at"
        " FROM conduct_reviews WHERE member_id = ? ORDER BY seq",
        (member_id,),
    )


def active_name_taken(sql: Sql, name: str) -> bool:
    """Whether an active or suspended member already has this organisation name."""
    row = sql.one(
        "SELECT 1 AS found FROM members WHERE lower(name) = lower(?)"
        " AND status IN ('active', 'suspended')",
        (name,),
    )
    return row is not None
