"""msgspec builds a type's conversion plan on first use, and two threads doing that at
once crashed the process (SIGSEGV in parallel onboarding). Concord's processes build
every plan first (infra/msgspec_types.py); a fresh process whose threads all convert at
once must then survive, every time."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading, msgspec
from services.api.app import create_app  # imports every Struct the API converts
from infra import msgspec_types
from domain.rules import Rules, rules_to_data
from domain.templates import template
from services.api.schemas import TenantOut
msgspec_types.prepare()
data = rules_to_data(template("family-justice").rules)
row = {"slug": "kent-fja", "name": "Kent", "region": "Kent", "template": "family-justice",
       "status": "active", "onboarded_at": "2026-01-01T00:00:00+00:00", "position": 1}
barrier = threading.Barrier(16)
def go():
    barrier.wait()
    for _ in range(3):
        msgspec.convert(data, Rules)
        try:
            msgspec.convert(row, TenantOut, strict=False)
        except msgspec.ValidationError:
            pass
threads = [threading.Thread(target=go) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
print("survived")
"""


def test_threads_converting_at_once_in_a_fresh_process_never_crash_it():
    crashed = []
    for _ in range(15):  # without the plans built first, about 1 in 5 of these died
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT], check=False, capture_output=True, text=True, timeout=60
        )
        if run.returncode != 0 or "survived" not in run.stdout:
            crashed.append((run.returncode, run.stderr[-500:]))
    assert crashed == []
