"""The alliance's profile as its own store records it: name, region, template, founding."""

from __future__ import annotations

from typing import Any

from domain.alliance import Alliance
from infra.stores import Sql
from projections.base import Projection, on


class AllianceProfile(Projection):
    name = "alliance_profile"
    tables = {
        "alliance_profile": (
            "CREATE TABLE IF NOT EXISTS alliance_profile ("
            " slug TEXT PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " region TEXT NOT NULL,"
            " template TEXT NOT NULL,"
            " founded_by TEXT NOT NULL,"
            " founded_at TEXT NOT NULL)"
        )
    }

    @on(Alliance.Founded)
    def founded(self, sql: Sql, event: Alliance.Founded, position: int) -> None:
        sql.execute(
            "INSERT INTO alliance_profile (slug, name, region, template, founded_by, founded_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                event.slug,
                event.name,
                event.region,
                event.template,
                event.founded_by,
                event.timestamp.isoformat(),
            ),
        )


def load(sql: Sql) -> dict[str, Any] | None:
    return sql.one(
        "SELECT slug, name, region, template, founded_by, founded_at FROM alliance_profile"
    )
