"""Template: a regional Kinship Network of local authorities and children's trusts (seed 003)."""

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
    WorkPlan,
)

TITLE = "Regional kinship network of local authorities"
SOURCE = "seeds/003_33482f36634a6bb6.txt"
SUMMARY = (
    "A regional network of the children's services authorities of one English region, "
    "overseen by the region's Directors of Children's Services, with a sponsor, appointed "
    "chairs and vice-chairs, an annual work programme and quarterly meetings."
)

SILENT = "(default: the source document is silent)"

#: The source says membership is open to "all 19" without naming them; these are the
#: region's 19 children's services authorities (public bodies), trusts named where they
#: deliver the service.
SOUTH_EAST_AUTHORITIES = (
    "Bracknell Forest Council",
    "Brighton and Hove City Council",
    "Buckinghamshire Council",
    "East Sussex County Council",
    "Hampshire County Council",
    "Isle of Wight Council",
    "Kent County Council",
    "Medway Council",
    "Milton Keynes City Council",
    "Oxfordshire County Council",
    "Portsmouth City Council",
    "Reading (Brighter Futures for Children)",
    "Slough (Slough Children First)",
    "Southampton City Council",
    "Surrey County Council",
    "West Berkshire Council",
    "West Sussex County Council",
    "Windsor and Maidenhead (Achieving for Children)",
    "Wokingham Borough Council",
)

REGIONAL_DCS_GROUP = "the regional group of Directors of Children's Services"

RULES = Rules(
    membership=Membership(
        eligibility=Eligibility(
            organisations=True,
            organisation_kinds=("local authority", "children's trust"),
            region="South East",
            eligible_bodies=SOUTH_EAST_AUTHORITIES,
        ),
        route=ApplicationRoute(
            written_request=True,
            received_by="chair",
            decided_by="full-membership",
        ),
        max_representatives=2,
        principal_contact_required=True,
    ),
    bodies=(
        Body(
            key="full-membership",
            name="The Network: all member authorities",
            kind="full-membership",
        ),
        Body(
            key="working-groups",
            name="Task and finish groups and project groups",
            kind="working-group",
            established_by="full-membership",
        ),
    ),
    offices=(
        Office(
            key="sponsor",
            name="Network sponsor (a Director of Children's Services in the region)",
            body="full-membership",
            seats=1,
            selection="appointed",
            from_membership=False,
            change_approved_by_outside=REGIONAL_DCS_GROUP,
        ),
        Office(
            key="chair",
            name="Chair",
            body="full-membership",
            selection="appointed",
            appointed_by="full-membership",
            from_membership=True,
        ),
        Office(
            key="vice-chair",
            name="Vice-chair",
            body="full-membership",
            selection="appointed",
            appointed_by="full-membership",
            from_membership=True,
        ),
    ),
    decisions=(DecisionRule(key="full-membership", consensus_first=True),),
    meetings=(MeetingRule(key="full-membership", per_year=4, formats=("virtual", "in-person")),),
    minutes=Minutes(every_meeting_minuted=True, published_by_default=True),
    work_plan=WorkPlan(
        required=True,
        period="annual",
        agreed_by="full-membership",
        stages=("agreed", "delivered", "evaluated"),
    ),
    review=Review(cadence_months=12, amendments_approved_by="full-membership"),
    defaults=(
        "membership.route",
        "membership.max_representatives",
        "membership.principal_contact_required",
        "bodies.working-groups.established_by",
        "decisions.full-membership",
        "meetings.full-membership.formats",
        "minutes",
        "work_plan.stages",
        "review.amendments_approved_by",
    ),
)

CLAUSES = (
    Clause(
        number="1",
        heading="Background and oversight",
        text=(
            "The Network was set up in mid-2023. It is overseen by the region's Directors of "
            "Children's Services, and its support is paid for through the region's sector-led "
            "improvement programme."
        ),
    ),
    Clause(
        number="2",
        heading="Aim and objectives",
        text=(
            "The Network gives sector-led leadership and support to kinship practice in the "
            "region: it seeks to understand and develop practice and brings together shared "
            "concerns and good practice so that children and young people do well. To that "
            "end it: passes examples of good practice and key concerns to the regional group "
            "of Directors of Children's Services; agrees regional answers to national "
            "consultations and speaks on key kinship issues, connected carers and special "
            "guardianship included; uses data and other evidence to see the region's "
            "strengths and where it can improve; uses data and discussion to choose the "
            "region's main questions and commissions detailed work on them where fitting; "
            "and makes sure national messages reach the whole region."
        ),
    ),
    Clause(
        number="3",
        heading="Sponsor",
        text=(
            "The Network's sponsor is a Director of Children's Services in the region. A "
            "change of sponsor needs the approval of the regional group of Directors of "
            "Children's Services."
        ),
        rules=("offices.sponsor",),
    ),
    Clause(
        number="4",
        heading="Reporting and minutes",
        text=(
            "The Network reports to the regional group of Directors of Children's Services, "
            "and its reports are published on the regional improvement programme's website. "
            "Every meeting is minuted and the minutes are published unless they are judged "
            f"confidential {SILENT}."
        ),
        rules=("minutes",),
    ),
    Clause(
        number="5",
        heading="Chairs and vice-chairs",
        text=(
            "The Network appoints one or more chairs and one or more vice-chairs from among "
            "its members. They help the consultant appointed by the improvement programme to "
            "draw up agendas, chair meetings as needed and take part in national events and "
            "calls on the Network's behalf."
        ),
        rules=("offices.chair", "offices.vice-chair"),
    ),
    Clause(
        number="6",
        heading="Membership",
        text=(
            "The Network aims to include everyone it can: membership is open to each of the "
            "region's 19 local authorities and children's trusts (listed by name in the "
            "rules; the source gives only their number). Together the member authorities form "
            "the full membership."
        ),
        rules=("membership", "membership.eligibility", "bodies.full-membership"),
    ),
    Clause(
        number="6.1",
        heading="Joining",
        text=(
            "An eligible authority joins by writing to the chair; the full membership "
            f"confirms it {SILENT}."
        ),
        rules=("membership.route",),
    ),
    Clause(
        number="6.2",
        heading="Representatives",
        text=(
            "Representatives are senior enough to speak for their organisation at a strategic "
            "level and to understand its kinship services. Each member authority may send up "
            f"to two, one of whom is its principal contact {SILENT}."
        ),
        rules=("membership.max_representatives", "membership.principal_contact_required"),
    ),
    Clause(
        number="7",
        heading="Work programme",
        text=(
            "The Network draws up a yearly work programme that reflects the region's "
            "priorities and issues. The programme is agreed, delivered and then evaluated "
            "each year (delivery and evaluation are a default: the source document is silent "
            "on them)."
        ),
        rules=("work_plan",),
    ),
    Clause(
        number="8",
        heading="Meetings",
        text=(
            f"The Network meets every quarter. Meetings may be held online or in person {SILENT}."
        ),
        rules=("meetings",),
    ),
    Clause(
        number="9",
        heading="Task and finish groups",
        text=(
            "Depending on the work programme, project groups or task and finish groups may be "
            "set up to complete particular pieces of work. The full membership sets them up "
            f"{SILENT}."
        ),
        rules=("bodies.working-groups",),
    ),
    Clause(
        number="10",
        heading="Decisions",
        text=(
            "The Network seeks consensus first; failing that, member authorities vote, one "
            f"vote each, and a simple majority of the votes cast decides {SILENT}."
        ),
        rules=("decisions",),
    ),
    Clause(
        number="11",
        heading="Review",
        text=(
            "The Network reviews these Terms of Reference every year. Amendments are "
            f"approved by the full membership {SILENT}."
        ),
        rules=("review",),
    ),
)
