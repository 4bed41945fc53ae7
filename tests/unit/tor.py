"""Shared givens of the domain tests: a ToR version in force for each template, and how
to read a refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import RulesBroken
from domain.rules import Rules
from domain.templates import template
from domain.terms import TermsOfReference, Version

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def terms_of(name: str, rules: Rules | None = None) -> Version:
    """The version in force at NOW of an alliance founded from the template today."""
    doc = template(name)
    terms = TermsOfReference.adopt(
        slug="the-alliance",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules if rules is None else rules,
        effective_from=TODAY,
        adopted_by="key:founder",
    )
    return terms.in_force_at(NOW)


ACIC = terms_of("children-in-care")
KCA = terms_of("kinship-care")
FJA = terms_of("family-justice")
KIN = terms_of("kinship-network")
SSF = terms_of("separated-families")


def refusal(raised: pytest.ExceptionInfo[RulesBroken]) -> tuple[str, str | None]:
    """The rule path and the clause the refusal cites (and the message cites it too)."""
    error = raised.value
    if error.clause is not None:
        assert f"ToR clause {error.clause}" in error.message
    return error.violations[0].rule, error.clause
