"""Template: a national Alliance for Children in Care and Care Leavers (seed 002)."""

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

TITLE = "National alliance for children in care and care leavers"
SOURCE = "seeds/002_fde4038559948fa5.txt"
SUMMARY = (
    "A national coalition of non-governmental organisations working with children in care "
    "and care leavers, led by two elected co-chairs from different organisations; it decides "
    "at quarterly main meetings and reviews its terms every three years."
)

SILENT = "(default: the source document is silent)"

#: The source asks for a limited word count without giving the number.
STATEMENT_WORD_LIMIT = 300

RULES = Rules(
    membership=Membership(
        eligibility=Eligibility(
            organisations=True,
            non_governmental_only=True,
            observers=True,
            observers_approved_by="full-membership",
            commitments=(
                "the objective and values of the Alliance",
                "these Terms of Reference",
            ),
        ),
        route=ApplicationRoute(
            written_request=True,
            received_by="co-chair",
            recommended_by="co-chair",
            decided_by="full-membership",
            at_next_main_meeting=True,
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
            key="working-groups",
            name="Working groups",
            kind="working-group",
            established_by="full-membership",
        ),
    ),
    offices=(
        Office(
            key="co-chair",
            name="Co-chair",
            body="full-membership",
            seats=2,
            term_months=24,
            re_eligible=True,
            selection="elected",
            election=Election(
                method="simple-majority",
                # "elected by a simple majority of voting Alliance members"
                majority="of-voting-members",
                secret_ballot=True,
                statement_word_limit=STATEMENT_WORD_LIMIT,
                electorate="voting-members",
            ),
            from_membership=True,
            distinct_organisations=True,
        ),
        Office(
            key="working-group-lead",
            name="Working group lead member",
            body="working-groups",
            selection="appointed",
            appointed_by="full-membership",
            from_membership=True,
        ),
    ),
    decisions=(
        DecisionRule(
            key="full-membership",
            consensus_first=True,
            voting="one-organisation-one-vote",
            majority="of-votes-cast",
            public_stance_electorate="all-members",
            casting_vote_office="co-chair",
            main_meetings_only=True,
        ),
    ),
    meetings=(
        MeetingRule(
            key="full-membership",
            per_year=4,
            formats=("virtual", "in-person"),
            additional_meetings_allowed=True,
        ),
        MeetingRule(key="working-groups", formats=("virtual", "in-person")),
    ),
    minutes=Minutes(
        every_meeting_minuted=True,
        published_by_default=False,
        confidential_allowed=True,
        circulated_by="co-chair",
    ),
    review=Review(cadence_months=36, amendments_approved_by="full-membership"),
    defaults=(
        "offices.co-chair.election.statement_word_limit",
        "meetings.full-membership.formats",
        "meetings.working-groups.formats",
        "minutes.published_by_default",
    ),
)

CLAUSES = (
    Clause(
        number="1",
        heading="Purpose",
        text=(
            "The Alliance brings together organisations that work with children and young "
            "people in care or who have left care and that are committed to a better care "
            "system in England. Its objective is to work jointly to improve that system and "
            "the outcomes of young people who spend time in care. It aims to speak with one "
            "strong voice to those who make policy locally, regionally and nationally, and "
            "gives member organisations a place to share information, find common ground, "
            "test ideas, debate priorities and choose issues to campaign on together where "
            "joint action will achieve more than separate action."
        ),
    ),
    Clause(
        number="2",
        heading="Values",
        text=(
            "Members sign up to these values: the child's needs come first and sit at the "
            "heart of practice; each child's diversity and individuality is recognised and "
            "valued; children's views are taken into account in every decision about their "
            "lives; every decision about a child is explained to them in a way they can "
            "understand; children are helped to take part in decisions, individually and "
            "together; the relationships that matter to a child are recognised and valued; "
            "children's rights are recognised and upheld; the child comes before "
            "organisational concerns; and the workforce is supported and developed to put "
            "children at the centre."
        ),
    ),
    Clause(
        number="3",
        heading="Membership",
        text=(
            "Any non-governmental organisation may join that works directly with children in "
            "care or care leavers, is committed to the Alliance's purpose as set out here and "
            "can sign up to these Terms of Reference. Members are organisations, not "
            "individuals; together they form the full membership."
        ),
        rules=("membership", "membership.eligibility", "bodies.full-membership"),
    ),
    Clause(
        number="3.1",
        heading="Applying",
        text=(
            "An organisation applies to the co-chairs in writing, saying why it wishes to "
            "join and committing to the Alliance's objective and values. The co-chairs "
            "consider the application and put a recommendation to the members at the next "
            "main meeting, where the full membership decides."
        ),
        rules=("membership.route",),
    ),
    Clause(
        number="3.2",
        heading="Representatives and principal contact",
        text=(
            "A person attending for a member organisation does so as its representative and "
            "with its permission. Several people from one organisation may be on the mailing "
            "list, but one of them is the organisation's principal contact and is responsible "
            "for reporting the Alliance's work back to it. As a rule no more than two people "
            "from an organisation attend a meeting; this may be raised in particular cases. "
            "The Alliance benefits when the same staff stay involved over time."
        ),
        rules=("membership.max_representatives", "membership.principal_contact_required"),
    ),
    Clause(
        number="3.3",
        heading="Taking part",
        text=(
            "Members are expected to take a full part: to attend most meetings and to be "
            "active in working groups and the Alliance's other work, because the Alliance "
            "exists to act."
        ),
    ),
    Clause(
        number="3.4",
        heading="Observers",
        text=(
            "An organisation whose constitution prevents it from becoming a member may be "
            "given observer status, without a vote, if it commits to the Alliance's values "
            "and objective and the membership approves."
        ),
        rules=("membership.eligibility.observers", "membership.eligibility.observers_approved_by"),
    ),
    Clause(
        number="4",
        heading="Branding",
        text=(
            "The Alliance's logo appears on publications and promotional material the "
            "Alliance produces, and on material promoting its events and conferences."
        ),
    ),
    Clause(
        number="5",
        heading="Disagreement and public positions",
        text=(
            "Members discuss issues safely, openly and professionally and respect differing "
            "views. The Alliance seeks consensus first. If it must take a public position on "
            "an issue without consensus, every member organisation, including those absent "
            "from the meeting, is given a vote, one per organisation, and a simple majority "
            "of the votes cast decides. A tie is settled by the casting vote of the "
            "co-chairs. No member organisation is bound by the Alliance's public positions."
        ),
        rules=("decisions.full-membership",),
    ),
    Clause(
        number="6",
        heading="Co-chairs",
        text=(
            "The Alliance has two co-chairs, who must come from different member "
            "organisations and who hold the strategic overview of the Alliance. They steer it "
            "to act more effectively as one force for children in care and care leavers; "
            "encourage members to share information, views and good practice; chair meetings "
            "inclusively so that everyone can contribute, the agenda is covered and actions "
            "are followed up; coordinate how the Alliance is represented to senior officials, "
            "ministers and key stakeholders and sign its correspondence; sign off its "
            "consultation responses and external communications before they go out; and "
            "arrange its administration (meetings, minutes, follow-up of actions, members' "
            "queries, elections and its online presence), which they may delegate to "
            "volunteer members or colleagues."
        ),
        rules=("offices.co-chair",),
    ),
    Clause(
        number="6.1",
        heading="Electing the co-chairs",
        text=(
            "Co-chairs are elected by a simple majority of the voting members, by secret "
            "ballot, for a term of two years, and may be re-elected. A candidate applies with "
            "a short statement of why they want the role and why they suit it, of no more "
            f"than {STATEMENT_WORD_LIMIT} words (the word limit is a default: the source "
            "document asks for a limited word count without giving a number)."
        ),
        rules=(
            "offices.co-chair.election",
            "offices.co-chair.term_months",
            "offices.co-chair.re_eligible",
            "offices.co-chair.selection",
        ),
    ),
    Clause(
        number="7",
        heading="Working groups",
        text=(
            "Working groups are formed from the membership to carry out particular tasks, "
            "short or one-off (such as a joint statement on a new development) or longer "
            "(such as watching how legislation is implemented). The full membership agrees, "
            "at a main meeting, to set up each working group and its terms of reference, and "
            "so permits it to lead on that activity in line with the Alliance's values. "
            "Working groups are small and stop when no longer needed."
        ),
        rules=("bodies.working-groups",),
    ),
    Clause(
        number="7.1",
        heading="Working group leads",
        text=(
            "Each working group has a lead member who coordinates it, reports to and consults "
            "the co-chairs and keeps the full membership informed. Members volunteer to lead "
            "by telling the co-chairs; the lead may be shared when more than one volunteers. "
            "The full membership agrees each appointment."
        ),
        rules=("offices.working-group-lead",),
    ),
    Clause(
        number="8",
        heading="Meetings",
        text=(
            "The full membership meets every quarter, with further meetings when needed; the "
            "co-chairs and working groups meet in between as necessary. Meetings may be held "
            f"online or in person {SILENT}."
        ),
        rules=("meetings",),
    ),
    Clause(
        number="8.1",
        heading="Decisions at main meetings",
        text=(
            "Decisions on the Alliance's activity and policy positions are taken at main "
            "meetings. Working groups feed into main meetings in good time and consult the "
            "full membership on any activity or decision they need."
        ),
        rules=("decisions.full-membership.main_meetings_only",),
    ),
    Clause(
        number="8.2",
        heading="Minutes",
        text=(
            "Every meeting is minuted, and the co-chairs share the minutes with members after "
            "each meeting. Minutes are for the membership and are not published (default: "
            "the source document says only that they are shared with members)."
        ),
        rules=("minutes",),
    ),
    Clause(
        number="8.3",
        heading="Media statements",
        text=(
            "The co-chairs sign off media statements and, when time allows, share them with "
            "members for comment."
        ),
    ),
    Clause(
        number="9",
        heading="Review",
        text=(
            "These Terms of Reference are reviewed every three years, and amendments are "
            "approved by the full membership of the Alliance."
        ),
        rules=("review",),
    ),
)
