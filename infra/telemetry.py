"""OpenTelemetry wiring: one tracer provider per process, exporter chosen by settings.

Spans carry ids, names and counts only: never a key, a secret or a record's content.
"""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer


class Telemetry:
    """The process's tracer provider and Concord's tracer."""

    def __init__(self, exporter: str = "none", *, span_exporter: SpanExporter | None = None):
        self.provider = TracerProvider(resource=Resource.create({"service.name": "concord"}))
        if span_exporter is not None:
            # Tests hand in an in-memory exporter and read spans synchronously.
            self.provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        elif exporter == "console":
            self.provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif exporter == "otlp":
            # Endpoint and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
            self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer: Tracer = self.provider.get_tracer("concord")

    def shutdown(self) -> None:
        self.provider.shutdown()
