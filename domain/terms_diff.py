"""The difference between two ToR versions, readable by a person: clause text and rules."""

from __future__ import annotations

import difflib
from typing import Any

import msgspec


class ClauseDiff(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    change: str  # added | removed | changed
    heading_before: str | None = None
    heading_after: str | None = None
    #: A unified diff of the clause text ("-" before, "+" after).
    text_diff: list[str] = []


class RuleDiff(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    before: Any = None
    after: Any = None


class VersionDiff(msgspec.Struct, frozen=True, kw_only=True):
    from_version: int
    to_version: int
    clauses: list[ClauseDiff]
    rules: list[RuleDiff]
    #: One sentence per change, for a person.
    summary: list[str]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Rule data as {path: value}; keyed lists are walked by key, other lists are values."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for name, value in data.items():
            out |= flatten(value, f"{prefix}.{name}" if prefix else name)
        return out
    if isinstance(data, list) and data and all(isinstance(i, dict) and "key" in i for i in data):
        out = {}
        for item in data:
            out |= flatten(item, f"{prefix}.{item['key']}" if prefix else item["key"])
        return out
    return {prefix: data}


def diff_versions(
    from_version: int,
    before_clauses: list[dict[str, Any]],
    before_rules: dict[str, Any],
    to_version: int,
    after_clauses: list[dict[str, Any]],
    after_rules: dict[str, Any],
) -> VersionDiff:
    clause_diffs: list[ClauseDiff] = []
    summary: list[str] = []
    before = {c["number"]: c for c in before_clauses}
    after = {c["number"]: c for c in after_clauses}
    numbers = sorted(
        before.keys() | after.keys(), key=lambda n: tuple(int(p) for p in n.split("."))
    )
    for number in numbers:
        old, new = before.get(number), after.get(number)
        if old == new:
            continue
        if old is None:
            assert new is not None
            clause_diffs.append(
                ClauseDiff(
                    number=number,
                    change="added",
                    heading_after=new["heading"],
                    text_diff=["+" + line for line in new["text"].splitlines()],
                )
            )
            summary.append(f"Clause {number} ({new['heading']}) was added.")
        elif new is None:
            clause_diffs.append(
                ClauseDiff(
                    number=number,
                    change="removed",
                    heading_before=old["heading"],
                    text_diff=["-" + line for line in old["text"].splitlines()],
                )
            )
            summary.append(f"Clause {number} ({old['heading']}) was removed.")
        else:
            lines = [
                line
                for line in difflib.unified_diff(
                    old["text"].splitlines(), new["text"].splitlines(), lineterm="", n=1
                )
                if not line.startswith(("---", "+++"))
            ]
            clause_diffs.append(
                ClauseDiff(
                    number=number,
                    change="changed",
                    heading_before=old["heading"],
                    heading_after=new["heading"],
                    text_diff=lines,
                )
            )
            summary.append(f"Clause {number} ({new['heading']}) was reworded.")
    flat_before, flat_after = flatten(before_rules), flatten(after_rules)
    rule_diffs = []
    for path in sorted(flat_before.keys() | flat_after.keys()):
        old_value, new_value = flat_before.get(path), flat_after.get(path)
        if old_value != new_value:
            rule_diffs.append(RuleDiff(path=path, before=old_value, after=new_value))
            summary.append(f"Rule {path}: {_show(old_value)} → {_show(new_value)}.")
    return VersionDiff(
        from_version=from_version,
        to_version=to_version,
        clauses=clause_diffs,
        rules=rule_diffs,
        summary=summary,
    )


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)
