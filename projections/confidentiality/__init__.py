"""The alliance's setting of who may read confidential minutes (by role)."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.confidentiality import DEFAULT_READERS, ConfidentialityPolicy
from infra.stores import Sql
from projections.base import Projection, json_text, on


class ConfidentialityView(Projection):
    name = "confidentiality"
    tables = {
        "confidential_readers": (
            "CREATE TABLE IF NOT EXISTS confidential_readers ("
            " id INTEGER PRIMARY KEY,"
            " readers TEXT NOT NULL,"
            " changed_by TEXT NOT NULL,"
            " changed_at TEXT NOT NULL)"
        ),
    }

    @on(ConfidentialityPolicy.Set, ConfidentialityPolicy.Changed)
    def changed(self, sql: Sql, event: Any, position: int) -> None:
        sql.execute("DELETE FROM confidential_readers")
        sql.execute(
            "INSERT INTO confidential_readers (id, readers, changed_by, changed_at)"
            " VALUES (1, ?, ?, ?)",
            (json_text(event.readers), event.by, event.timestamp.isoformat()),
        )


def readers(sql: Sql) -> dict[str, Any]:
    """The roles allowed, who set them and when (the default when never set)."""
    row = sql.one("SELECT readers, changed_by, changed_at FROM confidential_readers")
    if row is None:
        return {"readers": list(DEFAULT_READERS), "changed_by": None, "changed_at": None}
    return {**row, "readers": msgspec.json.decode(row["readers"])}
