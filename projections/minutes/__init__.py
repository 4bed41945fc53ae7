"""Minutes as they stand (draft, approved, published), their corrections, and the
public version. Public pages read only the `public*` columns of published minutes: the
confidential text is in this alliance's own tables for those allowed to read it, and
nowhere a public read can reach."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.minutes import APPROVED, DRAFT, Minutes, readable_item
from infra.stores import Sql
from projections.base import Projection, json_text, on

COLUMNS = (
    "minutes_id, seq, meeting_id, body, meeting_date, status, confidential,"
    " confidential_reason, items, drafted_by, approved_on, approved_by_body,"
    " approved_at_meeting_id, approved_by, decision_ref, digest, commitments, salts,"
    " published, published_on, corrections"
)
PUBLIC_COLUMNS = "minutes_id, seq, meeting_id, body, meeting_date, published_on, public"


class MinutesView(Projection):
    name = "minutes"
    tables = {
        "minutes": (
            "CREATE TABLE IF NOT EXISTS minutes ("
            " minutes_id TEXT PRIMARY KEY,"
            " seq BIGINT NOT NULL UNIQUE,"
            " meeting_id TEXT NOT NULL UNIQUE,"
            " body TEXT NOT NULL,"
            " meeting_date TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " confidential INTEGER NOT NULL,"
            " confidential_reason TEXT,"
            " items TEXT NOT NULL,"
            " drafted_by TEXT NOT NULL,"
            " approved_on TEXT,"
            " approved_by_body TEXT,"
            " approved_at_meeting_id TEXT,"
            " approved_by TEXT,"
            " decision_ref TEXT,"
            " digest TEXT,"
            " commitments TEXT,"
            " salts TEXT,"
            " published INTEGER NOT NULL,"
            " published_on TEXT,"
            " public TEXT,"
            " corrections TEXT NOT NULL)"
        ),
    }

    @on(Minutes.Drafted)
    def drafted(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "INSERT INTO minutes (minutes_id, seq, meeting_id, body, meeting_date, status,"
            " confidential, confidential_reason, items, drafted_by, published, corrections)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '[]')",
            (
                str(event.originator_id),
                position,
                event.meeting_id,
                event.body,
                event.meeting_date.isoformat(),
                DRAFT,
                int(event.confidential),
                event.confidential_reason,
                json_text([readable_item(i) for i in event.items]),
                event.by,
            ),
        )

    @on(Minutes.Amended)
    def amended(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE minutes SET confidential = ?, confidential_reason = ?, items = ?"
            " WHERE minutes_id = ?",
            (
                int(event.confidential),
                event.confidential_reason,
                json_text([readable_item(i) for i in event.items]),
                str(event.originator_id),
            ),
        )

    @on(Minutes.Approved)
    def approved(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE minutes SET status = ?, approved_on = ?, approved_by_body = ?,"
            " approved_at_meeting_id = ?, approved_by = ?, decision_ref = ?, digest = ?,"
            " commitments = ?, salts = ? WHERE minutes_id = ?",
            (
                APPROVED,
                event.approved_on.isoformat(),
                event.by_body,
                event.at_meeting_id,
                event.by,
                event.decision_ref,
                event.digest,
                json_text(event.commitments),
                json_text(event.salts),
                str(event.originator_id),
            ),
        )

    @on(Minutes.Published)
    def published(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute(
            "UPDATE minutes SET published = 1, published_on = ?, public = ? WHERE minutes_id = ?",
            (
                event.published_on.isoformat(),
                json_text(_readable_public(event.public)),
                str(event.originator_id),
            ),
        )

    @on(Minutes.Corrected)
    def corrected(self, sql: Sql, event: Any, position: int) -> None:
        minutes_id = str(event.originator_id)
        row = sql.one("SELECT corrections, public FROM minutes WHERE minutes_id = ?", (minutes_id,))
        assert row is not None
        corrections = msgspec.json.decode(row["corrections"])
        corrections.append(
            {
                "correction_id": event.correction_id,
                "item_id": event.item_id,
                "text": event.text,
                "confidential": event.confidential,
                "salt": event.salt,
                "commitment": event.commitment,
                "reason": event.reason,
                "by_body": event.by_body,
                "decision_ref": event.decision_ref,
                "corrected_on": event.corrected_on.isoformat(),
                "by": event.by,
            }
        )
        public = row["public"]
        if public is not None:  # already published: the correction shows at once
            shown = msgspec.json.decode(public)
            shown["corrections"].append(event.public)
            public = json_text(shown)
        sql.execute(
            "UPDATE minutes SET corrections = ?, public = ? WHERE minutes_id = ?",
            (json_text(corrections), public, minutes_id),
        )


def _readable_public(public: dict[str, Any]) -> dict[str, Any]:
    """The public version as shown: people's names in the text, never their emails."""
    items = [readable_item(i, with_emails=False) for i in public["items"]]
    return {**public, "items": items}


def _row(row: dict[str, Any]) -> dict[str, Any]:
    for field in ("items", "commitments", "salts", "corrections"):
        row[field] = None if row[field] is None else msgspec.json.decode(row[field])
    row["confidential"] = bool(row["confidential"])
    row["published"] = bool(row["published"])
    return row


def all_minutes(
    sql: Sql, *, status: str | None, body: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    where, params = ["seq > ?"], [after]
    if status == "published":
        where.append("published = 1")
    elif status is not None:
        where.append("status = ?")
        params.append(status)  # type: ignore[arg-type]
    if body is not None:
        where.append("body = ?")
        params.append(body)  # type: ignore[arg-type]
    rows = sql.all(
        f"SELECT {COLUMNS} FROM minutes WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY seq LIMIT ?",
        (*params, limit),
    )
    return [_row(r) for r in rows]


def minutes(sql: Sql, minutes_id: str) -> dict[str, Any] | None:
    row = sql.one(f"SELECT {COLUMNS} FROM minutes WHERE minutes_id = ?", (minutes_id,))  # noqa: S608
    return None if row is None else _row(row)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "public": msgspec.json.decode(row["public"])}


def published(sql: Sql, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The public versions of published minutes, newest meeting first."""
    rows = sql.all(
        f"SELECT {PUBLIC_COLUMNS} FROM minutes WHERE published = 1"  # noqa: S608
        " ORDER BY meeting_date DESC, seq DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [_public(r) for r in rows]


def published_one(sql: Sql, minutes_id: str) -> dict[str, Any] | None:
    row = sql.one(
        f"SELECT {PUBLIC_COLUMNS} FROM minutes WHERE published = 1 AND minutes_id = ?",  # noqa: S608
        (minutes_id,),
    )
    return None if row is None else _public(row)


def count_published(sql: Sql) -> int:
    row = sql.one("SELECT COUNT(*) AS n FROM minutes WHERE published = 1")
    return int(row["n"]) if row else 0
