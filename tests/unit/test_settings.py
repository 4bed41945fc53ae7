"""Settings come from CONCORD_* variables once; a mistake is named, never ignored."""

from __future__ import annotations

import pytest

from infra.settings import Settings, SettingsError
from infra.telemetry import Telemetry


def test_the_embedded_default_needs_nothing():
    settings = Settings.from_env({})

    assert settings.database_url is None and not settings.uses_postgres
    assert settings.data_dir == "./var"
    assert settings.otel_exporter == "none"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_values_are_read_and_converted():
    settings = Settings.from_env(
        {
            "CONCORD_DATABASE_URL": "postgresql://app@db:5432/concord",
            "CONCORD_PORT": "9000",
            "CONCORD_OTEL_EXPORTER": "console",
            "CONCORD_ADMIN_KEY": "a-long-enough-secret",
            "UNRELATED": "ignored",
        }
    )

    assert settings.uses_postgres and settings.port == 9000
    assert settings.otel_exporter == "console"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CONCORD_PORT": "eighty"}, "CONCORD_PORT"),
        ({"CONCORD_PORT": "70000"}, "CONCORD_PORT"),
        ({"CONCORD_OTEL_EXPORTER": "jaeger"}, "CONCORD_OTEL_EXPORTER"),
        ({"CONCORD_ADMIN_KEY": "short"}, "CONCORD_ADMIN_KEY"),
        ({"CONCORD_DATABASE_URL": "mysql://x"}, "CONCORD_DATABASE_URL"),
        ({"CONCORD_DATABSE_URL": "postgresql://x"}, "CONCORD_DATABSE_URL"),
        ({"CONCORD_BROKER_URL": "kafka://x"}, "CONCORD_BROKER_URL"),
        ({"CONCORD_BROKER_NAMESPACE": "Has Spaces"}, "CONCORD_BROKER_NAMESPACE"),
        ({"CONCORD_PROJECTION_WAIT_MS": "0"}, "CONCORD_PROJECTION_WAIT_MS"),
        ({"CONCORD_SWEEP_INTERVAL": "0"}, "CONCORD_SWEEP_INTERVAL"),
        ({"CONCORD_WORKER_THREADS": "65"}, "CONCORD_WORKER_THREADS"),
        ({"CONCORD_RATE_LIMIT_PER_KEY": "-1"}, "CONCORD_RATE_LIMIT_PER_KEY"),
        ({"CONCORD_RATE_LIMIT_PER_TENANT": "lots"}, "CONCORD_RATE_LIMIT_PER_TENANT"),
    ],
)
def test_a_bad_or_unknown_variable_is_named(environ, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)


@pytest.mark.parametrize("exporter", ["none", "console", "otlp"])
def test_every_exporter_setting_builds_a_working_tracer(exporter):
    telemetry = Telemetry(exporter)
    try:
        # No span is ended for otlp: that would send it to a collector this test lacks.
        span = telemetry.tracer.start_span("probe")
        assert span.get_span_context().is_valid
        if exporter != "otlp":
            span.end()
    finally:
        telemetry.shutdown()


def test_the_worker_settings_are_read():
    settings = Settings.from_env(
        {
            "CONCORD_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
            "CONCORD_BROKER_NAMESPACE": "kent.prod",
            "CONCORD_SWEEP_INTERVAL": "2.5",
            "CONCORD_RATE_LIMIT_PER_KEY": "0",
        }
    )
    assert settings.broker_url is not None and settings.broker_namespace == "kent.prod"
    assert settings.sweep_interval == 2.5 and settings.rate_limit_per_key == 0
    assert Settings.from_env({"CONCORD_BROKER_URL": " "}).broker_url is None
