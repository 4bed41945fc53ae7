"""Supply chain: bandit finds no high-severity issue in Concord's code (and every medium
one carries a reviewed, line-level exception), and pip-audit finds no dependency with a
known vulnerability, apart from the documented exceptions in .pip-audit-ignore.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) about each
installed distribution (the project itself, installed editable, excluded). Where that
per-version API does not answer (the CI machine's registry proxy answers 404 to it), the
project JSON (https://pypi.org/pypi/<name>/json) is asked instead: it lists the
vulnerabilities of the latest release, so it audits exactly the dependencies installed at
their latest release; the others are printed as not audited (the documented exception,
docs/security.md). When PyPI answers for nothing at all, the audit is skipped outside CI
and fails under CI=true: an audit that audited nothing must never read as a pass.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
#: Concord's own code (tests and tooling aside).
PACKAGES = ("domain", "services", "infra", "projections")
IGNORE_FILE = ROOT / ".pip-audit-ignore"
#: A line of .pip-audit-ignore: the vulnerability's id, then `#` and why it is accepted.
IGNORE_LINE = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9._:-]+)\s+#\s*(?P<reason>\S.*)$")


# ---------------------------------------------------------------------------------- bandit


def bandit_report() -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", *PACKAGES, "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode in (0, 1), finished.stderr  # 1: it found something
    report: dict[str, Any] = json.loads(finished.stdout)
    return report


def reviewed(finding: dict[str, Any]) -> bool:
    """A finding someone has reviewed in place: `# nosec` (bandit skips those itself) or
    ruff's flake8-bandit twin of the same check, `# noqa: S<number>`, on its lines (ruff
    runs in `make lint` and stops any new one that has no such mark)."""
    lines = (ROOT / finding["filename"]).read_text().splitlines()
    first, last = min(finding["line_range"]), max(finding["line_range"])
    ruff_code = "S" + finding["test_id"][1:]
    return any(
        re.search(rf"#\s*noqa:[^#]*\b{ruff_code}\b", lines[number - 1])
        for number in range(first, last + 1)
    )


def test_bandit_finds_no_high_severity_issue_and_every_medium_one_was_reviewed():
    report = bandit_report()
    results = report["results"]

    high = [r for r in results if r["issue_severity"] == "HIGH"]
    medium_unreviewed = [r for r in results if r["issue_severity"] == "MEDIUM" and not reviewed(r)]

    assert report["errors"] == []
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it read the code
    assert high == [], [(r["filename"], r["line_number"], r["issue_text"]) for r in high]
    assert medium_unreviewed == [], [
        (r["filename"], r["line_number"], r["test_id"], r["issue_text"]) for r in medium_unreviewed
    ]


def test_the_reviewed_mark_is_read_from_the_flagged_lines_only(tmp_path):
    finding = {"filename": "", "line_range": [2, 3], "test_id": "B608"}
    source = tmp_path / "example.py"
    source.write_text("x = 1  # noqa: S608\ny = 2\nz = 3  # noqa: E501, S608 - constant\n")
    finding["filename"] = str(source)
    other = dict(finding, line_range=[2], test_id="B608")
    wrong_code = dict(finding, test_id="B704")

    assert reviewed(finding)
    assert not reviewed(other)
    assert not reviewed(wrong_code)


# ------------------------------------------------------------------------------- pip-audit


def ignored_vulnerabilities() -> dict[str, str]:
    """.pip-audit-ignore: vulnerability id -> the reason it is accepted (required)."""
    accepted: dict[str, str] = {}
    for number, line in enumerate(IGNORE_FILE.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = IGNORE_LINE.match(line.strip())
        assert match, f".pip-audit-ignore line {number}: write `ID  # why it is accepted`"
        accepted[match["id"]] = match["reason"]
    return accepted


def pip_audit(ignored: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable"]
    command += ["--format", "json", "--progress-spinner", "off", "--timeout", "30"]
    for vulnerability in ignored:
        command += ["--ignore-vuln", vulnerability]
    finished = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert finished.stdout.strip(), f"pip-audit said nothing:\n{finished.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(finished.stdout)
    return report


def latest_release_vulnerabilities(name: str, version: str) -> list[str] | None:
    """The known vulnerabilities of name==version from PyPI's project JSON, which describes
    the latest release only: None when version is not the latest (or PyPI did not answer)."""
    url = f"https://pypi.org/pypi/{name}/json"  # a fixed https address of the registry
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            project = json.load(answer)
    except (OSError, ValueError):
        return None
    if project["info"]["version"] != version:
        return None
    return [v["id"] for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]


def test_no_installed_dependency_has_a_known_vulnerability():
    ignored = ignored_vulnerabilities()
    report = pip_audit(ignored)
    dependencies = [d for d in report["dependencies"] if d["name"] != "concord"]
    vulnerable = {
        f"{d['name']} {d['version']}": [
            f"{v['id']} (fixed in {', '.join(v['fix_versions']) or 'no release yet'})"
            for v in d["vulns"]
        ]
        for d in dependencies
        if d.get("vulns")
    }
    # pip-audit asks PyPI's per-version JSON; where that does not answer (this CI
    # machine's registry proxy answers 404 to it), ask the project JSON, which holds the
    # vulnerabilities of the latest release: exact for a dependency at its latest release.
    unaudited: list[str] = []
    for dependency in (d for d in dependencies if "skip_reason" in d):
        name = dependency["name"]
        version = dependency.get("version") or importlib.metadata.version(name)
        found = latest_release_vulnerabilities(name, version)
        if found is None:
            unaudited.append(f"{name} {version}")
        elif accepted := [v for v in found if v not in ignored]:
            vulnerable[f"{name} {version}"] = accepted
    print(
        f"\naudited {len(dependencies) - len(unaudited)} of {len(dependencies)} dependencies;"
        f" not audited (not their latest release, and PyPI's per-version API did not "
        f"answer): {', '.join(unaudited) or 'none'}"
    )

    assert vulnerable == {}, vulnerable
    if len(unaudited) == len(dependencies):
        message = "PyPI answered for no dependency: nothing was audited"
        if IN_CI:
            pytest.fail("CI=true: " + message)
        pytest.skip(message)
    assert len(dependencies) > 20  # the whole environment, not an empty one


def test_every_accepted_vulnerability_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "IGNORE_FILE", tmp_path / "ignore")
    (tmp_path / "ignore").write_text("# accepted\nGHSA-xxxx-yyyy-zzzz  # no fix; unused path\n")
    assert ignored_vulnerabilities() == {"GHSA-xxxx-yyyy-zzzz": "no fix; unused path"}

    (tmp_path / "ignore").write_text("PYSEC-2024-1\n")
    with pytest.raises(AssertionError, match="line 1"):
        ignored_vulnerabilities()
