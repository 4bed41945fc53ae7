"""Real brokers for tests, and `concord worker` as a real process.

Redis is reached at CONCORD_TEST_REDIS_URL (default redis://127.0.0.1:6379/0), RabbitMQ at
CONCORD_TEST_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2F). Each test gets a
namespace of its own (Redis keys, RabbitMQ queue names), deleted afterwards. Outside CI an
unreachable broker skips with one line; with CI=true it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pika
import pytest
import redis

from infra.settings import Settings
from tests.conftest import IN_CI, free_port

REDIS_URL = os.environ.get("CONCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("CONCORD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def unavailable(what: str, problem: str) -> None:
    message = f"{what} not reachable ({problem})"
    if IN_CI:
        pytest.fail("CI=true: " + message)
    pytest.skip(message)


def new_namespace() -> str:
    return f"concord-test-{uuid.uuid4().hex[:10]}"


def flush_redis(url: str, namespace: str) -> int:
    """Delete every key of a namespace (what a flushed broker loses). Returns how many."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def delete_amqp_queues(url: str, namespace: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for suffix in ("", ".DQ", ".XQ"):
            channel.queue_delete(queue=f"{namespace}.projections{suffix}")
    finally:
        connection.close()


@pytest.fixture
def redis_broker() -> Iterator[tuple[str, str]]:
    """(url, namespace) on the test Redis; the namespace's keys are deleted afterwards."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as error:
        unavailable(f"Redis at {REDIS_URL}", type(error).__name__)
    namespace = new_namespace()
    try:
        yield REDIS_URL, namespace
    finally:
        flush_redis(REDIS_URL, namespace)


@pytest.fixture
def amqp_broker() -> Iterator[tuple[str, str]]:
    """(url, namespace) on the test RabbitMQ; the namespace's queues are deleted afterwards."""
    try:
        pika.BlockingConnection(pika.URLParameters(AMQP_URL + "?connection_attempts=1")).close()
    except pika.exceptions.AMQPError as error:
        unavailable(f"RabbitMQ at {AMQP_URL}", type(error).__name__)
    namespace = new_namespace()
    try:
        yield AMQP_URL, namespace
    finally:
        delete_amqp_queues(AMQP_URL, namespace)


@dataclass
class PrivateRedis:
    """A redis-server of the test's own (so the test may stop and restart it)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server (to run a private one)", "not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # abrupt: what it held is lost, as in a crash
            self.process.wait(timeout=10)
            self.process = None


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `concord worker` for these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env["CONCORD_DATA_DIR"] = settings.data_dir
    if settings.database_url:
        env["CONCORD_DATABASE_URL"] = settings.database_url
    if settings.signing_key_file:
        env["CONCORD_SIGNING_KEY_FILE"] = settings.signing_key_file
    assert settings.broker_url is not None
    env["CONCORD_BROKER_URL"] = settings.broker_url
    env["CONCORD_BROKER_NAMESPACE"] = settings.broker_namespace
    env["CONCORD_SWEEP_INTERVAL"] = str(settings.sweep_interval)
    env["CONCORD_WORKER_THREADS"] = str(settings.worker_threads)
    env.update(extra)
    return env


#: Every worker process a test started and has not stopped (killed at teardown).
RUNNING: set[Worker] = set()


@pytest.fixture(autouse=True)
def no_worker_left_behind() -> Iterator[None]:
    """Whatever a test asserts, the worker processes it started are gone after it."""
    yield
    for worker in list(RUNNING):
        worker.kill()


class Worker:
    """`concord worker` as a real process (its own session, stopped by its pid)."""

    def __init__(self, settings: Settings, log_path: Path, **extra_env: str) -> None:
        self.settings = settings
        self.log_path = log_path
        self.env = worker_env(settings, **extra_env)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[Any] | None = None

    def start(self) -> Worker:
        concord = Path(sys.executable).with_name("concord")
        ready_before = self.output().count("concord worker ready")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(concord), "worker"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        RUNNING.add(self)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.output().count("concord worker ready") > ready_before:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"concord worker did not start:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, transactions cut off."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, signum: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        RUNNING.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
