"""The eventsourcing Applications: one for the platform store, one per alliance store."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, JSONTranscoder, Mapper, Transcoding
from eventsourcing.utils import Environment
from opentelemetry.trace import Tracer

from infra.personal_keys import PersonalDataMapper
from infra.stores import Backend


class DateAsISO(Transcoding):
    """Days (meeting dates, due dates) are stored as ISO 8601 text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class StoreApplication(Application[UUID]):
    """An Application whose infrastructure the backend provides, and whose saves are traced."""

    def __init__(self, backend: Backend, store: str, tracer: Tracer) -> None:
        self.backend = backend
        self.store = store
        self.tracer = tracer
        super().__init__(env=backend.application_env(store))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # eventsourcing would merge os.environ here; Concord's settings are read once, at
        # the entrypoint, so stray variables (CIPHER_TOPIC, ...) must not change a store.
        return Environment(name, {**type(self).env, **(env or {})})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        return self.backend.factory(self.store, env)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        with self.tracer.start_as_current_span(
            "events.save", attributes={"concord.store": self.store}
        ) as span:
            recordings = super().save(*objs, **kwargs)
            span.set_attribute(
                "concord.event_types",
                [type(r.domain_event).__qualname__ for r in recordings],
            )
            if recordings:
                span.set_attribute("concord.last_position", recordings[-1].notification.id)
            return recordings


class PlatformApplication(StoreApplication):
    """The platform store: the tenant registry and the API keys."""

    name = "Platform"


class AllianceApplication(StoreApplication):
    """One alliance's own store: its whole governance history."""

    name = "Alliance"

    def construct_mapper(self) -> Mapper[UUID]:
        # People's data is sealed under their own keys (infra/personal_keys.py); the Store
        # attaches the keyring once its view store is open.
        plain = super().construct_mapper()
        return PersonalDataMapper(
            transcoder=plain.transcoder, compressor=plain.compressor, cipher=plain.cipher
        )
