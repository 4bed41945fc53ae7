"""Amendments as changes: what an amendment does to the clauses and rules of a version.

Rule changes address a value by its path (`offices.co-chair.term_months`); items of
keyed lists are found by their key, a new key adds an item, and `null` removes one.
"""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any

import msgspec

from domain.errors import AmendmentInvalid
from domain.rule_checks import Violation, validate_rules
from domain.rules import Clause, Rules, clauses_from_data, clauses_to_data, rules_to_data

ClauseNumber = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$")]


class ClauseChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Add, reword or remove one numbered clause."""

    number: ClauseNumber
    heading: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)] | None = None
    rules: (
        Annotated[
            tuple[Annotated[str, msgspec.Meta(max_length=200)], ...], msgspec.Meta(max_length=50)
        ]
        | None
    ) = None
    remove: bool = False


class RuleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Set one rule value by its path (null removes a keyed item)."""

    path: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[a-z_.0-9-]+$")]
    value: Any = None


class Changes(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    clauses: Annotated[tuple[ClauseChange, ...], msgspec.Meta(max_length=200)] = ()
    rules: Annotated[tuple[RuleChange, ...], msgspec.Meta(max_length=200)] = ()


def apply_changes(
    clauses: tuple[Clause, ...], rules: Rules, changes: Changes
) -> tuple[tuple[Clause, ...], Rules]:
    """The clauses and rules after the changes, or AmendmentInvalid naming every problem."""
    if not changes.clauses and not changes.rules:
        raise AmendmentInvalid([_problem("changes", "an amendment must change a clause or a rule")])
    problems: list[Violation] = []
    new_clauses = _apply_clause_changes(clauses, changes.clauses, problems)
    data = rules_to_data(rules)
    for change in changes.rules:
        try:
            _set(data, change.path, copy.deepcopy(change.value))
        except _PathError as error:
            problems.append(_problem(change.path, str(error)))
    if problems:
        raise AmendmentInvalid(problems)
    try:
        new_rules = msgspec.convert(data, Rules)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `")
        path = _readable(data, where.rstrip("`")) if where else "rules"
        raise AmendmentInvalid([_problem(path, f"{path}: {message}")]) from None
    contradictions = validate_rules(new_rules, new_clauses)
    if contradictions:
        raise AmendmentInvalid(contradictions)
    if new_clauses == clauses and new_rules == rules:
        raise AmendmentInvalid(
            [_problem("changes", "these changes leave the ToR exactly as it is")]
        )
    return new_clauses, new_rules


def _problem(rule: str, message: str) -> Violation:
    return Violation(rule=rule, clause=None, message=message)


def _clause_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def _apply_clause_changes(
    clauses: tuple[Clause, ...], changes: tuple[ClauseChange, ...], problems: list[Violation]
) -> tuple[Clause, ...]:
    by_number = {c["number"]: c for c in clauses_to_data(clauses)}
    for change in changes:
        where = f"clause {change.number}"
        if change.remove:
            if by_number.pop(change.number, None) is None:
                problems.append(
                    _problem("clauses", f"{where} does not exist, so cannot be removed")
                )
            continue
        fields = {
            k: v
            for k, v in (
                ("heading", change.heading),
                ("text", change.text),
                ("rules", change.rules),
            )
            if v is not None
        }
        if change.number in by_number:
            if not fields:
                problems.append(_problem("clauses", f"{where}: give a heading, text or rules"))
            by_number[change.number].update(msgspec.to_builtins(fields))
        elif change.heading is None or change.text is None:
            problems.append(_problem("clauses", f"{where} is new: give it a heading and text"))
        else:
            by_number[change.number] = {"number": change.number, **msgspec.to_builtins(fields)}
    ordered = sorted(by_number.values(), key=lambda c: _clause_key(c["number"]))
    return clauses_from_data(ordered)


class _PathError(Exception):
    pass


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise _PathError(f"{path}: there is no rule {part!r} here")
        return node[part]
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict) and item.get("key") == part:
                return item
        raise _PathError(f"{path}: there is no {part!r} in this list")
    raise _PathError(f"{path}: {part!r} is inside a single value")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = _child(node, part, path)
    if isinstance(node, dict):
        if last not in node:
            raise _PathError(f"{path}: there is no rule {last!r} here")
        node[last] = value
        return
    if not isinstance(node, list):
        raise _PathError(f"{path}: {last!r} is inside a single value")
    index = next(
        (i for i, item in enumerate(node) if isinstance(item, dict) and item.get("key") == last),
        None,
    )
    if value is None:
        if index is None:
            raise _PathError(f"{path}: there is no {last!r} to remove")
        del node[index]
    elif not isinstance(value, dict) or value.get("key", last) != last:
        raise _PathError(f"{path}: give an object whose key is {last!r}")
    elif index is None:
        node.append({"key": last, **value})
    else:
        node[index] = {"key": last, **value}


_STEP = re.compile(r"\.([A-Za-z_]+)|\[(\d+)\]")


def _readable(data: Any, where: str) -> str:
    """msgspec's `$.offices[0].term_months` as our path `offices.co-chair.term_months`."""
    parts: list[str] = []
    node = data
    for name, index in _STEP.findall(where.removeprefix("$")):
        if name:
            parts.append(name)
            node = node.get(name) if isinstance(node, dict) else None
        else:
            item = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
            parts.append(str(item.get("key", index)) if isinstance(item, dict) else index)
            node = item
    return ".".join(parts) or "rules"


# Build msgspec's conversion plan at import, not racing on first use (see domain/rules.py).
msgspec.json.Decoder(Changes)
