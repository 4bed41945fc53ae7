"""Record a golden event log: run once when new event types are added, then commit.

    .venv/bin/python -m tests.golden.record

An old golden log is never rewritten: its whole point is that events recorded by old
code still replay with today's code. When an event type is added, record a new file
(terms_of_reference_<n>.jsonl) beside the old ones; the tests read them all.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.application import Application

from domain.amendments import Changes, ClauseChange, RuleChange
from domain.templates import template
from domain.terms import TermsOfReference

HERE = Path(__file__).parent
TERMS_LOG = HERE / "terms_of_reference.jsonl"


def record_terms() -> list[dict[str, object]]:
    """Every event type of the ToR aggregate, in a plausible order."""
    doc = template("children-in-care")
    now = datetime.now(UTC)
    terms = TermsOfReference.adopt(
        slug="golden-acic",
        template=doc.name,
        clauses=doc.clauses,
        rules=doc.rules,
        effective_from=now.date(),
        adopted_by="key:founder",
    )
    longer = Changes(
        rules=(RuleChange(path="offices.co-chair.term_months", value=36),),
        clauses=(ClauseChange(number="1", text="The alliance works to improve the care system."),),
    )
    approved = terms.propose_amendment(
        rationale="longer terms", changes=longer, proposed_by="key:a"
    )
    terms.approve_amendment(
        approved,
        body="full-membership",
        decision_ref="main meeting 4, item 2",
        effective_from=now.date() + timedelta(days=1),
        approved_by="key:a",
        now=now,
    )
    fewer = Changes(rules=(RuleChange(path="membership.max_representatives", value=1),))
    rejected = terms.propose_amendment(rationale="fewer reps", changes=fewer, proposed_by="key:b")
    terms.reject_amendment(
        rejected, reason="no support", decision_ref="main meeting 5", rejected_by="key:a", now=now
    )
    withdrawn = terms.propose_amendment(
        rationale="second thoughts", changes=fewer, proposed_by="key:b"
    )
    terms.withdraw_amendment(withdrawn, withdrawn_by="key:b")
    terms.open_review(opened_by="key:a", now=now)
    terms.conclude_review(
        outcome="no-change",
        notes="fit for purpose",
        amendment_ids=[],
        concluded_by="key:a",
        now=now,
    )
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(terms)
    return [
        {
            "originator_id": str(n.originator_id),
            "originator_version": n.originator_version,
            "topic": n.topic,
            "state": json.loads(n.state),
        }
        for n in app.recorder.select_notifications(start=1, limit=1000)
    ]


def main() -> None:
    if TERMS_LOG.exists():
        sys.exit(f"{TERMS_LOG} exists: golden logs are never rewritten")
    rows = record_terms()
    TERMS_LOG.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    print(f"recorded {len(rows)} events in {TERMS_LOG}")


if __name__ == "__main__":
    main()
