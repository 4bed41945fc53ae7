"""Template: a county Family Justice Alliance, the local arm of a national alliance (seed 000)."""

from __future__ import annotations

from domain.rules import (
    ApplicationRoute,
    Body,
    Clause,
    DecisionRule,
    Eligibility,
    MeetingRule,
    Membership,
    Minutes,
    Office,
    Review,
    Rules,
    Seat,
)

TITLE = "County family justice alliance"
SOURCE = "seeds/000_879ecb69d4b722cf.txt"
SUMMARY = (
    "A local alliance of organisations from one county that works on family breakdown, "
    "led by a steering group with six required seats; it meets four times a year and "
    "publishes its minutes unless they must stay confidential."
)

SILENT = "(default: the source document is silent)"

RULES = Rules(
    membership=Membership(
        eligibility=Eligibility(organisations=True, region="Kent"),
        route=ApplicationRoute(
            written_request=True,
            received_by="steering-group",
            decided_by="steering-group",
        ),
        max_representatives=2,
        principal_contact_required=True,
    ),
    bodies=(
        Body(
            key="full-membership",
            name="The Alliance: all member organisations",
            kind="full-membership",
        ),
        Body(
            key="steering-group",
            name="Steering group",
            kind="steering-group",
            required_seats=(
                Seat(key="judiciary", name="A local member of the judiciary"),
                Seat(key="mediator", name="A local mediator"),
                Seat(key="solicitor", name="A local solicitor"),
                Seat(
                    key="third-sector-charity",
                    name="A representative of a local third-sector organisation or charity",
                ),
                Seat(key="public-health", name="A county council public health representative"),
                Seat(key="service-user-parent", name="A service user or parent"),
            ),
            members_agreed_by="full-membership",
        ),
    ),
    offices=(
        Office(
            key="chair",
            name="Chair of the steering group",
            body="steering-group",
            selection="appointed",
            appointed_by="steering-group",
        ),
    ),
    decisions=(
        DecisionRule(key="full-membership", consensus_first=True),
        DecisionRule(key="steering-group", consensus_first=True, escalate_to="full-membership"),
    ),
    meetings=(
        MeetingRule(key="full-membership", per_year=4, formats=("virtual", "in-person")),
        MeetingRule(key="steering-group", formats=("virtual", "in-person")),
    ),
    minutes=Minutes(
        every_meeting_minuted=True,
        published_by_default=True,
        confidential_allowed=True,
        confidential_reason="to protect service users",
    ),
    review=Review(cadence_months=12, amendments_approved_by="full-membership"),
    defaults=(
        "membership.route",
        "membership.max_representatives",
        "membership.principal_contact_required",
        "bodies.steering-group.members_agreed_by",
        "offices.chair",
        "decisions.full-membership",
        "decisions.steering-group",
        "review.amendments_approved_by",
    ),
)

CLAUSES = (
    Clause(
        number="1",
        heading="Aims",
        text=(
            "The Alliance works to make the county's response to family breakdown better and "
            "to improve what happens to the children and families going through it, chiefly "
            "by making people aware of the local and national help on offer. It promotes a "
            "less adversarial way of talking about and handling separation, so that families "
            "do not assume a court is the answer, while accepting that some cases involving "
            "safeguarding or domestic abuse will need the court. It helps families find a way "
            "of communicating and settling matters that suits them, and points them to "
            "services early on. It gathers insight from people affected by family breakdown "
            "on current and emerging issues, gives them a route to the key agencies and "
            "professionals and a chance to hear back, and shares good practice across the "
            "county. It champions its own work, helps the national alliance reach other parts "
            "of England and Wales by mapping the support available locally, and feeds into "
            "the national alliance's strategy and priorities."
        ),
    ),
    Clause(
        number="2",
        heading="Membership",
        text=(
            "Members are organisations from across the county with experience of family "
            "breakdown, drawn from a wide range of professions. Each takes part as an "
            "organisation, through people who hold a strategic role in, or have strategic "
            "insight into, family breakdown. Members must be based in the county. Together "
            "the member organisations form the full membership of the Alliance."
        ),
        rules=("membership", "membership.eligibility", "bodies.full-membership"),
    ),
    Clause(
        number="2.1",
        heading="Joining",
        text=(
            "An organisation asks in writing to join; the steering group receives the request "
            f"and decides on it {SILENT}."
        ),
        rules=("membership.route",),
    ),
    Clause(
        number="2.2",
        heading="Representatives",
        text=(
            "Each member organisation may be represented by up to two people, one of whom is "
            f"its principal contact with the Alliance {SILENT}."
        ),
        rules=("membership.max_representatives", "membership.principal_contact_required"),
    ),
    Clause(
        number="3",
        heading="Steering group",
        text=(
            "A steering group takes the Alliance forward in practice. Its seats must be held "
            "by: a local member of the judiciary; a local mediator; a local solicitor; a "
            "representative of a local third-sector organisation or charity; a public health "
            "representative of the county council; and a service user or parent. The full "
            f"membership agrees who sits on the steering group {SILENT}."
        ),
        rules=("bodies.steering-group",),
    ),
    Clause(
        number="3.1",
        heading="Listening",
        text=(
            "The steering group draws on the views and opinions of the whole Alliance so that "
            "a broad range of knowledge and experience is shared and put across properly, and "
            "does its utmost to bring in the voice of children and young people."
        ),
    ),
    Clause(
        number="3.2",
        heading="Chair",
        text=(
            "The steering group appoints one of its members to chair it and the meetings of "
            f"the Alliance, until it appoints someone else {SILENT}."
        ),
        rules=("offices.chair",),
    ),
    Clause(
        number="4",
        heading="Minutes",
        text=(
            "Every meeting is minuted. Minutes are made public on the Alliance's website "
            "unless they are judged confidential; confidential minutes are kept where that "
            "is needed to protect service users."
        ),
        rules=("minutes",),
    ),
    Clause(
        number="5",
        heading="Meetings",
        text=(
            "The Alliance meets four times a year. Any meeting, of the Alliance or of the "
            "steering group, may take place online or in person."
        ),
        rules=("meetings",),
    ),
    Clause(
        number="6",
        heading="Decisions",
        text=(
            "The Alliance and its steering group seek consensus first; failing that, member "
            "organisations vote, one vote each, and a simple majority of the votes cast "
            "decides. A matter on which the steering group cannot agree goes to the full "
            f"membership {SILENT}."
        ),
        rules=("decisions",),
    ),
    Clause(
        number="7",
        heading="Monitoring and review",
        text=(
            "These Terms of Reference are reviewed every year. Amendments are approved by "
            f"the full membership {SILENT}."
        ),
        rules=("review",),
    ),
)
