"""The one settings object, read from the environment once, at the entrypoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from infra import outbound

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
    #: PostgreSQL: the longest one SQL statement may run (statement_timeout), in ms.
    db_statement_timeout_ms: Annotated[int, msgspec.Meta(ge=100, le=3_600_000)] = 10_000
    #: The longest a request waits for a lock another transaction holds, in ms
    #: (PostgreSQL lock_timeout; SQLite's busy timeout, rounded up to whole seconds).
    db_lock_timeout_ms: Annotated[int, msgspec.Meta(ge=10, le=3_600_000)] = 5_000
    #: PostgreSQL: the longest a request waits for a free pooled connection, in ms.
    db_pool_timeout_ms: Annotated[int, msgspec.Meta(ge=100, le=600_000)] = 10_000
    #: Largest request body accepted, in bytes.
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 65536
    #: PostgreSQL: a URL for the role that owns the schemas and event tables. When set,
    #: stores are provisioned with it and database_url's role (the application role) is
    #: granted only SELECT and INSERT on the event tables.
    database_owner_url: str | None = None
    #: The Ed25519 key that signs audit checkpoints (PEM, PKCS#8). Absent: a key is made
    #: on first use under data_dir/signing/. Every process of a deployment must share it.
    signing_key_file: str | None = None
    #: Seconds between scheduled checkpoints of every alliance whose log grew (0: never).
    checkpoint_interval: Annotated[int, msgspec.Meta(ge=0)] = 86400
    #: A folder where every checkpoint is also written, one file each, for the operator
    #: to ship off the platform (absent: not written).
    checkpoint_dir: str | None = None

    #: A redis:// or amqp:// URL: projections then run in dramatiq workers
    #: (`concord worker`), woken after each commit; absent: in the API process.
    broker_url: str | None = None
    #: Redis key namespace / RabbitMQ queue prefix, so deployments (and tests) sharing
    #: one broker keep apart.
    broker_namespace: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")] = (
        "concord"
    )
    #: With workers: how long a write waits for the workers to apply it to the
    #: projections before this process applies it itself (so the answer, and reads after
    #: it, see the write), in milliseconds.
    projection_wait_ms: Annotated[int, msgspec.Meta(ge=1, le=60000)] = 2000
    #: With workers: seconds between sweeps that wake every projection lagging its log
    #: (heals a lost wake-up).
    sweep_interval: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    #: Dramatiq worker threads per `concord worker` process.
    worker_threads: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    #: Without a broker: seconds between the API process's refreshes of the governance
    #: snapshots of alliances written to, and of any not yet refreshed today (so a day
    #: passing is seen). 0: off (then `concord sweep-obligations` from cron).
    obligations_interval: Annotated[float, msgspec.Meta(ge=0)] = 60.0

    #: Requests a minute one API key may make (per API process; 0: no limit).
    rate_limit_per_key: Annotated[int, msgspec.Meta(ge=0)] = 1200
    #: Requests a minute all the keys of one alliance may make together (per API
    #: process; 0: no limit).
    rate_limit_per_tenant: Annotated[int, msgspec.Meta(ge=0)] = 6000

    #: How long the answer to a write sent with an Idempotency-Key is kept for replay.
    idempotency_ttl_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 24
    #: How long a repeat waits for the first request with its key to finish before it
    #: answers 409 idempotency-request-in-progress, in seconds.
    idempotency_wait_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 10.0
    #: A claim still pending this long after it was made belongs to a request that died
    #: (its outcome is unknown), in seconds; keep it above the longest write.
    idempotency_lease_seconds: Annotated[int, msgspec.Meta(ge=10)] = 300

    #: The national dashboard (/dashboard): how long a sign-in lasts, in hours.
    dashboard_session_hours: Annotated[int, msgspec.Meta(ge=1, le=168)] = 8
    #: Sign-in attempts a minute one client address may make (per API process; 0: no limit).
    dashboard_sign_in_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 10
    #: The secret that signs dashboard sessions (at least 32 characters). Absent: derived
    #: from the checkpoint signing key, which every process of a deployment shares already.
    #: Changing it (or that key) ends every session.
    dashboard_session_secret: Annotated[str, msgspec.Meta(min_length=32)] | None = None

    #: Private networks webhooks may be sent to (comma-separated CIDRs, e.g.
    #: "10.20.0.0/16"); by default only public addresses are used.
    outbound_private_networks: str = ""

    #: The address people reach this platform at (links in reminders), e.g.
    #: "https://concord.example.org"; absent: http://localhost:8000.
    public_base_url: str | None = None
    #: The SMTP server reminders are e-mailed through: smtp://host:port (plain, or
    #: upgraded with smtp_starttls) or smtps://host:port (TLS from the start); absent:
    #: no e-mail (an alliance cannot add e-mail recipients).
    smtp_url: str | None = None
    #: The From address of reminder e-mails.
    smtp_from: str = "concord@localhost"
    #: Upgrade an smtp:// connection with STARTTLS before sending.
    smtp_starttls: bool = False
    #: Log in to the SMTP server with this user name and password (both, or neither).
    smtp_username: str | None = None
    smtp_password: str | None = None
    #: How long a worker's attempt to deliver a reminder holds it before another worker
    #: may try again (the attempt's lease), in seconds; keep it above the longest send.
    reminder_lease_seconds: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 120

    def __post_init__(self) -> None:
        if self.db_lock_timeout_ms > self.db_statement_timeout_ms:
            raise ValueError(
                f"{PREFIX}DB_LOCK_TIMEOUT_MS ({self.db_lock_timeout_ms}) must not exceed "
                f"{PREFIX}DB_STATEMENT_TIMEOUT_MS ({self.db_statement_timeout_ms}): the "
                "statement timeout would end every longer lock wait first"
            )
        try:
            outbound.parse_networks(self.outbound_private_networks)
        except ValueError as error:
            raise ValueError(f"{PREFIX}OUTBOUND_PRIVATE_NETWORKS: {error}") from None

    @property
    def outbound_networks(self) -> tuple[outbound.Network, ...]:
        return outbound.parse_networks(self.outbound_private_networks)

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
        for name in (
            "database_url",
            "database_owner_url",
            "signing_key_file",
            "checkpoint_dir",
            "broker_url",
            "public_base_url",
            "smtp_url",
            "smtp_username",
            "smtp_password",
        ):
            if values.get(name, "").strip() == "":
                values.pop(name, None)
        for name in ("database_url", "database_owner_url"):
            url = values.get(name)
            if url is not None and not url.startswith(("postgresql://", "postgres://")):
                raise SettingsError(
                    f"{PREFIX}{name.upper()} must be a postgresql:// URL, or be left unset "
                    "for the embedded SQLite store"
                )
        broker = values.get("broker_url")
        if broker is not None and not broker.startswith(("redis://", "amqp://", "amqps://")):
            raise SettingsError(
                "CONCORD_BROKER_URL must be a redis:// or amqp:// URL, or be left unset to "
                "run projections in the API process"
            )
        smtp = values.get("smtp_url")
        if smtp is not None and not smtp.startswith(("smtp://", "smtps://")):
            raise SettingsError(
                "CONCORD_SMTP_URL must be an smtp://host:port or smtps://host:port URL, or be "
                "left unset (no reminder e-mail)"
            )
        if ("smtp_username" in values) != ("smtp_password" in values):
            raise SettingsError(
                "CONCORD_SMTP_USERNAME and CONCORD_SMTP_PASSWORD are set together, or neither"
            )
        base = values.get("public_base_url")
        if base is not None and not base.startswith(("http://", "https://")):
            raise SettingsError("CONCORD_PUBLIC_BASE_URL must be an http:// or https:// URL")
        if "database_owner_url" in values and "database_url" not in values:
            raise SettingsError(
                "CONCORD_DATABASE_OWNER_URL is only used with CONCORD_DATABASE_URL (PostgreSQL)"
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
