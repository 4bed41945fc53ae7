"""The message broker (dramatiq on Redis or RabbitMQ) and the middleware that carries a
trace from the request that sent a message into the worker that processes it.

Messages carry ids and positions only: a store's name, a projection's name, a log
position. Never a record's content.
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import default_middleware
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from infra.settings import Settings

#: The message option holding the W3C trace context (traceparent, tracestate).
TRACE_OPTION = "otel"


class TraceContext(dramatiq.Middleware):
    """OpenTelemetry for dramatiq, which has no official instrumentation.

    Sending: a PRODUCER span, whose context is written into the message's options.
    Processing: a CONSUMER span, child of that context, current while the actor runs, so
    the actor's own spans (catch-up batches, SQL) join the trace of the request.
    """

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self._local = threading.local()

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int) -> None:
        with self.tracer.start_as_current_span(
            f"{message.actor_name} send",
            kind=SpanKind.PRODUCER,
            attributes=_attributes(message),
        ):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
        message.options[TRACE_OPTION] = carrier

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        parent = propagate.extract(message.options.get(TRACE_OPTION) or {})
        span = self.tracer.start_span(
            f"{message.actor_name} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=_attributes(message),
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        self._stack().append((span, token))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        stack = self._stack()
        if not stack:
            return
        span, token = stack.pop()
        if exception is not None:
            # The type only: an exception's text may quote what it was working on.
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
        context.detach(token)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.after_process_message(broker, message)

    def _stack(self) -> list[Any]:
        stack: list[Any] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack


def _attributes(message: Any) -> dict[str, Any]:
    return {
        "messaging.system": "dramatiq",
        "messaging.destination.name": message.queue_name,
        "messaging.message.id": message.message_id,
    }


def make_broker(settings: Settings, tracer: Tracer) -> dramatiq.Broker:
    """The broker named by CONCORD_BROKER_URL, namespaced by CONCORD_BROKER_NAMESPACE."""
    url = settings.broker_url
    if url is None:
        raise ValueError("no broker configured (CONCORD_BROKER_URL is unset)")
    middleware = [m() for m in default_middleware] + [TraceContext(tracer)]
    broker: dramatiq.Broker
    if url.startswith("redis://"):
        # A killed worker's unacknowledged messages come back after this long; the
        # sweep wakes lagging projections sooner, so a lost message costs little.
        broker = RedisBroker(
            url=url,
            namespace=settings.broker_namespace,
            middleware=middleware,
            heartbeat_timeout=15_000,
        )
    else:
        broker = RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    return broker


def queue_name(settings: Settings, queue: str) -> str:
    """A queue's name in this deployment (RabbitMQ has no namespaces: prefix instead)."""
    return f"{settings.broker_namespace}.{queue}"
