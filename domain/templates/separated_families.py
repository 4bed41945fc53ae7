"""Template: a city Supporting Separated Families local alliance (seed 001)."""

from __future__ import annotations

from domain.rules import (
    ApplicationRoute,
    Body,
    Clause,
    DecisionRule,
    Election,
    Eligibility,
    MeetingRule,
    Membership,
    Minutes,
    Office,
    Review,
    Rules,
)

TITLE = "City local alliance for supporting separated families"
SOURCE = "seeds/001_9540e6e845bec355.txt"
SUMMARY = (
    "A local alliance of the services and organisations in one city that help separating "
    "families before they turn to court; the source sets out objectives only, so almost "
    "every governance rule here is a marked default."
)

SILENT = "(default: the source document is silent)"

RULES = Rules(
    membership=Membership(
        eligibility=Eligibility(
            organisations=True,
            region="Leicester",
            commitments=("the objectives of the alliance",),
        ),
        route=ApplicationRoute(
            written_request=True,
            received_by="chair",
            decided_by="full-membership",
            at_next_main_meeting=True,
        ),
        max_representatives=2,
        principal_contact_required=True,
    ),
    bodies=(
        Body(
            key="full-membership",
            name="The local alliance: all member organisations",
            kind="full-membership",
        ),
    ),
    offices=(
        Office(
            key="chair",
            name="Chair",
            body="full-membership",
            term_months=24,
            re_eligible=True,
            selection="elected",
            election=Election(method="simple-majority", secret_ballot=False),
        ),
    ),
    decisions=(DecisionRule(key="full-membership", consensus_first=True),),
    meetings=(MeetingRule(key="full-membership", per_year=4, formats=("virtual", "in-person")),),
    minutes=Minutes(),
    review=Review(cadence_months=12, amendments_approved_by="full-membership"),
    defaults=(
        "membership.route",
        "membership.max_representatives",
        "membership.principal_contact_required",
        "offices.chair",
        "decisions.full-membership",
        "meetings.full-membership",
        "minutes",
        "review.cadence_months",
        "review.amendments_approved_by",
    ),
)

CLAUSES = (
    Clause(
        number="1",
        heading="Purpose",
        text=(
            "This is a local alliance for separating families in the city. It is set up to "
            "put into practice the recommendations of the national reviews of private family "
            "law, so that parents can get support and advice to settle the issues their "
            "separation raises before they think of applying to court. Local alliances work "
            "at city or county level and are expected in time to come together under a "
            "national umbrella."
        ),
    ),
    Clause(
        number="2",
        heading="Objectives",
        text=(
            "The alliance aims to: (a) give families in conflict information and help early, "
            "so they understand how conflict affects their children, become better co-parents "
            "and can reach therapeutic help for children who may be traumatised; (b) where "
            "there are safeguarding worries, give families information and point them to "
            "support alongside any court process; (c) where it is safe and suitable, "
            "encourage more families to use help outside court to get through the breakdown "
            "and reach agreement, since early help limits the harm; (d) spot the particular "
            "needs of families affected by domestic abuse sooner, with better support and "
            "safety, and better information for the court and its advisers if the case gets "
            "there; (e) refer families to wider advice and support, online services included, "
            "and then offer a package of dispute resolution, including co-parenting support "
            "where suitable, as part of activities the court directs; (f) secure one "
            "coherent set of standards for co-parenting services and the people who provide "
            "them."
        ),
    ),
    Clause(
        number="3",
        heading="Membership",
        text=(
            "Members are the services and organisations in the city that help separating "
            "families and commit to the objectives in clause 2. Together they form the full "
            "membership of the alliance."
        ),
        rules=("membership", "membership.eligibility", "bodies.full-membership"),
    ),
    Clause(
        number="3.1",
        heading="Suggestions from practitioners",
        text=(
            "Local practitioners are invited to suggest services or organisations that ought "
            "to belong to the alliance in order to further its objectives. Any suggestion is "
            "welcome and may be sent through the alliance's contact page; an organisation "
            "suggested in this way is invited to apply under clause 3.2."
        ),
    ),
    Clause(
        number="3.2",
        heading="Joining",
        text=(
            "An organisation applies in writing to the chair, and the full membership decides "
            f"on the application at its next main meeting {SILENT}."
        ),
        rules=("membership.route",),
    ),
    Clause(
        number="3.3",
        heading="Representatives",
        text=(
            "Each member organisation may be represented by up to two people, one of whom is "
            f"its principal contact with the alliance {SILENT}."
        ),
        rules=("membership.max_representatives", "membership.principal_contact_required"),
    ),
    Clause(
        number="4",
        heading="Chair",
        text=(
            "The full membership elects a chair by a simple majority for a term of two years; "
            f"the chair may stand again {SILENT}."
        ),
        rules=("offices.chair",),
    ),
    Clause(
        number="5",
        heading="Meetings",
        text=(
            "The full membership meets four times a year, online or in person, and may hold "
            f"further meetings when needed {SILENT}."
        ),
        rules=("meetings.full-membership",),
    ),
    Clause(
        number="6",
        heading="Decisions",
        text=(
            "The alliance seeks consensus first; failing that, member organisations vote, one "
            f"vote each, and a simple majority of the votes cast decides {SILENT}."
        ),
        rules=("decisions.full-membership",),
    ),
    Clause(
        number="7",
        heading="Minutes",
        text=(
            "Every meeting is minuted and the minutes are published unless they are judged "
            f"confidential {SILENT}."
        ),
        rules=("minutes",),
    ),
    Clause(
        number="8",
        heading="Review",
        text=(
            "These Terms of Reference are reviewed every year, and amendments are approved by "
            f"the full membership {SILENT}."
        ),
        rules=("review",),
    ),
)
