"""`make bench`: every figure of the benchmark suite, printed as ONE table at the end (and
written to var/bench/latest.md).

    .venv/bin/python -m bench.run [--only postgres,sqlite,verify,tenants]

Parts: bench/bench_http.py (figures 1 to 4: commands and reads over HTTP with wrk, the
projection lag with workers), bench/bench_verify.py (offline verification, rebuild and
replay) and bench/bench_tenants.py (10 vs 10,000 tenants), the last two if present.
BENCH_QUICK=1 shrinks every part (a smoke run, not a measurement).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_http  # noqa: E402
from bench.table import Row, render  # noqa: E402

OPTIONAL = (("verify", "bench.bench_verify"), ("tenants", "bench.bench_tenants"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", default="", help="comma-separated parts: postgres, sqlite, verify, tenants"
    )
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()} or None
    started = time.monotonic()
    rows: list[Row] = []
    failed: list[str] = []

    http_parts = None if only is None else only & {"postgres", "sqlite"}
    if http_parts is None or http_parts:
        try:
            rows += bench_http.run(http_parts)
            failed += [f"bench_http ({part})" for part in bench_http.failures]
        except Exception:
            traceback.print_exc()
            failed.append("bench_http")

    for part, module_name in OPTIONAL:
        if only is not None and part not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            print(f"[bench] {module_name} is missing: its figures are not in the table")
            continue
        print(f"[bench] running {module_name}", file=sys.stderr, flush=True)
        wants_quick = "quick" in inspect.signature(module.run).parameters
        try:
            rows += module.run(quick=_quick()) if wants_quick else module.run()
        except (Exception, SystemExit):
            traceback.print_exc()
            failed.append(module_name)

    table = render(rows)
    minutes = (time.monotonic() - started) / 60
    header = (
        f"Concord benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, {minutes:.1f} min"
        + (" (BENCH_QUICK: a smoke run, not a measurement)" if _quick() else "")
    )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(f"{header}\n\n{table}\n")
    print(f"\n{header}\n\n{table}")
    if failed:
        print(f"\nfailed parts: {', '.join(failed)} (see above)")
        return 1
    return 0


def _quick() -> bool:
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


if __name__ == "__main__":
    sys.exit(main())
