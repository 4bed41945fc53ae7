"""Template: a national Kinship Care Alliance run by an executive committee (seed 004)."""

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

TITLE = "National kinship care alliance"
SOURCE = "seeds/004_3eca3f67881652df.txt"
SUMMARY = (
    "A national alliance of organisations, with individual advisers, that campaigns for "
    "children raised by family and friends; an executive committee of the chair and up to "
    "six others admits members, decides by consensus and runs an annual work plan."
)

SILENT = "(default: the source document is silent)"

RULES = Rules(
    membership=Membership(
        eligibility=Eligibility(
            organisations=True,
            legal_entity_required=True,
            individuals_advisory=True,
            commitments=(
                "the aims of the alliance",
                "the beliefs and values of the alliance",
                "tackling discrimination and disadvantage and promoting equality",
            ),
        ),
        route=ApplicationRoute(
            written_request=True,
            signatory_roles=("chief executive or equivalent",),
            received_by="executive-committee",
            circulated_to="executive-committee",
            decided_by="executive-committee",
        ),
        max_representatives=2,
        principal_contact_required=True,
        conduct_reviewed_by="executive-committee",
    ),
    bodies=(
        Body(
            key="full-membership",
            name="The Alliance: all members",
            kind="full-membership",
        ),
        Body(
            key="executive-committee",
            name="Executive committee",
            kind="committee",
            max_members=7,
            members_agreed_by="full-membership",
            term_months=36,
        ),
    ),
    offices=(
        Office(
            key="chair",
            name="Chair of the alliance",
            body="executive-committee",
            term_months=36,
            selection="appointed",
            appointed_by="full-membership",
            from_membership=True,
        ),
    ),
    decisions=(
        DecisionRule(
            key="executive-committee",
            consensus_first=True,
            voting="one-organisation-one-vote",
            escalate_to="full-membership",
        ),
        DecisionRule(key="full-membership", consensus_first=True),
    ),
    meetings=(
        MeetingRule(
            key="executive-committee",
            before_body="full-membership",
            months_before=1,
            formats=("virtual", "in-person"),
        ),
        MeetingRule(key="full-membership", per_year=4, formats=("virtual", "in-person")),
    ),
    minutes=Minutes(),
    work_plan=WorkPlan(
        required=True,
        period="annual",
        agreed_by="executive-committee",
        stages=("agreed", "delivered", "evaluated"),
    ),
    review=Review(cadence_months=12, amendments_approved_by="full-membership"),
    defaults=(
        "membership.max_representatives",
        "membership.principal_contact_required",
        "offices.chair.selection",
        "offices.chair.appointed_by",
        "offices.chair.term_months",
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
        heading="Who we are",
        text=(
            "The Alliance is a group of organisations that share aims and beliefs about "
            "family and friends care. Its members meet regularly to build a common policy "
            "agenda and agree how to advance their aims."
        ),
    ),
    Clause(
        number="2",
        heading="Belief",
        text=(
            "Where it is safe and in the child's best interests, children and young people "
            "are best brought up within their family and friends network, and the families "
            "who do this should be given help and support."
        ),
    ),
    Clause(
        number="3",
        heading="Aims",
        text=(
            "The Alliance seeks to: stop children being raised outside their family network "
            "when they need not be; make sure children living with kinship carers have the "
            "opportunities and resources that give them the best chance of doing well; and "
            "win better recognition and support for family and friends carers and the "
            "children they bring up. To that end it raises awareness of what kinship care "
            "offers children, and works to influence policy, services, professional practice "
            "and law on kinship care."
        ),
    ),
    Clause(
        number="4",
        heading="Membership criteria",
        text=(
            "Organisations may join that are legal entities, support the Alliance's aims, "
            "share its beliefs and values, and are committed to tackling discrimination and "
            "disadvantage and to promoting equality, including (among others) in respect of "
            "ethnicity, gender, religious and cultural belief, disability, sexuality and age. "
            "Together the members form the full membership."
        ),
        rules=("membership", "membership.eligibility", "bodies.full-membership"),
    ),
    Clause(
        number="4.1",
        heading="Advisory members",
        text=(
            "Individuals with particular expertise may join in an advisory capacity to inform "
            "the Alliance's work. They join in their own right, need not represent an "
            "organisation, and do not vote."
        ),
        rules=("membership.eligibility.individuals_advisory",),
    ),
    Clause(
        number="4.2",
        heading="Applying",
        text=(
            "An organisation applies by a written request to any member of the executive "
            "committee. The request must come from the applicant's chief executive or "
            "equivalent. A copy goes to every member of the executive committee, which "
            "decides the application."
        ),
        rules=("membership.route",),
    ),
    Clause(
        number="4.3",
        heading="Code of conduct",
        text=(
            "The executive committee may review a membership against the Alliance's code of "
            "conduct and protocols."
        ),
        rules=("membership.conduct_reviewed_by",),
    ),
    Clause(
        number="4.4",
        heading="Representatives",
        text=(
            "Each member organisation may be represented by up to two people, one of whom is "
            f"its principal contact {SILENT}."
        ),
        rules=("membership.max_representatives", "membership.principal_contact_required"),
    ),
    Clause(
        number="5",
        heading="Chair",
        text=(
            "The Alliance has a chair, who sits on the executive committee. The full "
            "membership appoints the chair from among its members for three years, the same "
            f"term as the executive committee {SILENT}."
        ),
        rules=("offices.chair",),
    ),
    Clause(
        number="6",
        heading="Executive committee",
        text=(
            "The executive committee is the chair and at most six others, serving three-year "
            "terms. The wider membership agrees who sits on it: which organisations, and "
            "possibly the particular role each committee member takes, such as expertise on "
            "an issue or leading one strand of the committee's work. An organisation may have "
            "more than one person on the committee."
        ),
        rules=("bodies.executive-committee",),
    ),
    Clause(
        number="6.1",
        heading="Executive decisions",
        text=(
            "The committee decides by consensus, counting one vote per organisation however "
            "many of its people sit on the committee. A matter on which it cannot reach "
            "consensus goes to the full membership for further discussion."
        ),
        rules=("decisions.executive-committee",),
    ),
    Clause(
        number="6.2",
        heading="Guests",
        text=(
            "The committee may invite outside individuals or organisations to discuss an "
            "issue or to help inform its decisions."
        ),
    ),
    Clause(
        number="6.3",
        heading="Executive meetings",
        text=(
            "The committee meets one month before each meeting of the full membership, online "
            "or in person as suits."
        ),
        rules=("meetings.executive-committee",),
    ),
    Clause(
        number="6.4",
        heading="Work plan",
        text=(
            "The committee agrees an annual work plan, sees it delivered and evaluates it, and "
            "promotes members' engagement; the plan is also reviewed regularly at meetings of "
            "the Alliance."
        ),
        rules=("work_plan",),
    ),
    Clause(
        number="7",
        heading="Meetings and decisions of the full membership",
        text=(
            "The full membership meets four times a year, online or in person. It seeks "
            "consensus first; failing that, member organisations vote, one vote each, and a "
            f"simple majority of the votes cast decides {SILENT}."
        ),
        rules=("meetings.full-membership", "decisions.full-membership"),
    ),
    Clause(
        number="8",
        heading="Minutes",
        text=(
            "Every meeting is minuted and the minutes are published unless they are judged "
            f"confidential {SILENT}."
        ),
        rules=("minutes",),
    ),
    Clause(
        number="9",
        heading="Review",
        text=(
            "These Terms of Reference are reviewed every year, and amendments are approved by "
            f"the full membership {SILENT}."
        ),
        rules=("review",),
    ),
)
