"""The service around the API: OpenAPI, health, and traces that carry no secrets."""

from __future__ import annotations

import shutil

import psycopg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import sql

from infra.telemetry import Telemetry
from tests.conftest import ADMIN, ADMIN_KEY


def test_every_operation_has_an_id_and_a_description(client):
    document = client.get("/schema/openapi.json").json()

    operations = [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 10
    for operation in operations:
        assert operation.get("operationId"), operation
        assert operation.get("description"), operation["operationId"]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))


def test_health_reports_the_store_is_reachable(client, backend):
    body = client.get("/health").json()

    assert body["status"] == "ok" and body["reachable"] is True
    assert body["store"] == ("postgresql" if backend == "postgres" else "sqlite")


def test_health_says_unavailable_when_the_store_goes_away(client, backend, settings):
    assert client.get("/health").status_code == 200
    if backend == "postgres":
        database = settings.database_url.rsplit("/", 1)[1]
        server = settings.database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
    else:
        shutil.rmtree(settings.data_dir)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["reachable"] is False


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans) -> Telemetry:
    return Telemetry("none", span_exporter=spans)


def test_a_write_is_traced_from_request_to_projection(client, spans, onboard):
    spans.clear()

    body = onboard("kent-fja")

    names = [span.name for span in spans.get_finished_spans()]
    assert any(name.startswith("POST /v1/tenants") for name in names), names
    assert "command.onboard_tenant" in names
    assert "events.save" in names
    assert "projection.catch_up" in names
    by_name = {span.name: span for span in spans.get_finished_spans()}
    command = by_name["command.onboard_tenant"]
    request = next(s for s in spans.get_finished_spans() if s.name.startswith("POST /v1/tenants"))
    save = by_name["events.save"]
    # One trace: the save and the projection hang under the command, under the request.
    assert save.context.trace_id == command.context.trace_id == request.context.trace_id
    assert body["admin_key"]["secret"]


def test_spans_carry_no_key_secrets(client, spans, onboard):
    spans.clear()

    secret = onboard("kent-fja")["admin_key"]["secret"]
    client.get("/v1/tenants/kent-fja/events", headers={"Authorization": f"Bearer {secret}"})
    client.get("/v1/tenants", headers=ADMIN)

    recorded = spans.get_finished_spans()
    assert recorded
    dumped = " ".join(span.to_json() for span in recorded)
    assert secret not in dumped
    assert ADMIN_KEY not in dumped
    assert "Bearer" not in dumped
