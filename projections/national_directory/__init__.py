"""The national directory: every alliance on the platform, where it is, and its status.

Holds only what the umbrella may see: never a tenant's own records.
"""

from __future__ import annotations

from typing import Any

from domain.tenant import Tenant
from infra.stores import Sql
from projections.base import Projection, on

ACTIVE = "active"
SUSPENDED = "suspended"


class NationalDirectory(Projection):
    name = "national_directory"
    tables = {
        "directory": (
            "CREATE TABLE IF NOT EXISTS directory ("
            " tenant_id TEXT PRIMARY KEY,"
            " slug TEXT NOT NULL UNIQUE,"
            " name TEXT NOT NULL,"
            " region TEXT NOT NULL,"
            " template TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " onboarded_at TEXT NOT NULL,"
            " onboarded_by TEXT NOT NULL,"
            " status_reason TEXT,"
            " status_changed_at TEXT,"
            " position BIGINT NOT NULL)"
        )
    }

    @on(Tenant.Onboarded)
    def onboarded(self, sql: Sql, event: Tenant.Onboarded, position: int) -> None:
        sql.execute(
            "INSERT INTO directory (tenant_id, slug, name, region, template, status,"
            " onboarded_at, onboarded_by, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                event.slug,
                event.name,
                event.region,
                event.template,
                ACTIVE,
                event.timestamp.isoformat(),
                event.onboarded_by,
                position,
            ),
        )

    @on(Tenant.Suspended)
    def suspended(self, sql: Sql, event: Tenant.Suspended, position: int) -> None:
        self._set_status(sql, event, SUSPENDED, event.reason, position)

    @on(Tenant.Reinstated)
    def reinstated(self, sql: Sql, event: Tenant.Reinstated, position: int) -> None:
        self._set_status(sql, event, ACTIVE, None, position)

    @staticmethod
    def _set_status(sql: Sql, event: Any, status: str, reason: str | None, position: int) -> None:
        sql.execute(
            "UPDATE directory SET status = ?, status_reason = ?, status_changed_at = ?,"
            " position = ? WHERE tenant_id = ?",
            (status, reason, event.timestamp.isoformat(), position, str(event.originator_id)),
        )


COLUMNS = (
    "slug, name, region, template, status, onboarded_at, onboarded_by,"
    " status_reason, status_changed_at"
)


def find(sql: Sql, slug: str) -> dict[str, Any] | None:
    return sql.one(f"SELECT {COLUMNS} FROM directory WHERE slug = ?", (slug,))  # noqa: S608


def page(
    sql: Sql,
    *,
    after: str | None,
    limit: int,
    region: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Alliances in slug order, after the given slug (keyset pagination)."""
    where, params = ["slug > ?"], [after or ""]
    if region is not None:
        where.append("region = ?")
        params.append(region)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    return sql.all(
        f"SELECT {COLUMNS} FROM directory WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY slug LIMIT ?",
        (*params, limit),
    )
