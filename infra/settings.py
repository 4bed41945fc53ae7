"""The one settings object, read from the environment once, at the entrypoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

PREFIX = "CONCORD_"


class SettingsError(Exception):
    """The environment holds a setting Concord cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything configurable, with the embedded default for every value."""

    #: Absent: embedded SQLite under data_dir. A postgresql:// URL: PostgreSQL.
    database_url: str | None = None
    data_dir: str = "./var"
    #: When set, a platform-admin key with exactly this secret exists after start-up.
    admin_key: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    #: How many tenants' stores one process keeps open (least recently used go first).
    tenant_cache_size: Annotated[int, msgspec.Meta(ge=1)] = 256
    #: PostgreSQL: connections in the one pool a process shares across all tenants.
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 10
    #: Largest request body accepted, in bytes.
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 65536

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read CONCORD_* variables; an unknown CONCORD_ variable is an error, not a silence."""
        values: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith(PREFIX) and not key.startswith("CONCORD_TEST_"):
                values[key[len(PREFIX) :].lower()] = value
        if values.get("database_url", "").strip() == "":
            values.pop("database_url", None)
        url = values.get("database_url")
        if url is not None and not url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(
                "CONCORD_DATABASE_URL must be a postgresql:// URL, or be left unset for "
                "the embedded SQLite store"
            )
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as error:
            raise SettingsError(_explain(str(error))) from None


def _explain(message: str) -> str:
    # msgspec says "... - at `$.port`"; name the variable the operator actually set.
    if "`$." in message:
        head, _, path = message.partition(" - at `$.")
        name = PREFIX + path.rstrip("`").upper()
        return f"{name}: {head}"
    if "unknown field" in message:
        field = message.split("`")[1]
        return f"{PREFIX}{field.upper()} is not a Concord setting (see the README)"
    return message
