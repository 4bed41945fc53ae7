"""`concord serve` as a new user meets it: a real server process, spoken to over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY, free_port


@pytest.fixture
def server(settings, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {"CONCORD_DATA_DIR": settings.data_dir, "CONCORD_ADMIN_KEY": ADMIN_KEY}
    if settings.database_url:
        env["CONCORD_DATABASE_URL"] = settings.database_url
    concord = Path(sys.executable).with_name("concord")
    log = (tmp_path / "server.log").open("w+")
    process = subprocess.Popen(
        [str(concord), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            log.seek(0)
            pytest.fail(f"concord serve did not answer: {log.read()}")
        yield base, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_new_user_onboards_lists_and_reads_the_log_over_http(server):
    base, log = server
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}

    created = httpx.post(
        f"{base}/v1/tenants",
        json={
            "slug": "kent-fja",
            "name": "Kent FJA",
            "region": "Kent",
            "template": "family-justice",
        },
        headers=admin,
    )
    listed = httpx.get(f"{base}/v1/tenants", headers=admin)
    tenant_key = created.json()["admin_key"]["secret"]
    events = httpx.get(
        f"{base}/v1/tenants/kent-fja/events", headers={"Authorization": f"Bearer {tenant_key}"}
    )

    assert created.status_code == 201
    assert [t["slug"] for t in listed.json()["items"]] == ["kent-fja"]
    assert events.json()["items"][0]["type"] == "AllianceFounded"
    log.seek(0)
    output = log.read()
    assert "Concord on http://127.0.0.1:" in output
    assert tenant_key not in output and ADMIN_KEY not in output
