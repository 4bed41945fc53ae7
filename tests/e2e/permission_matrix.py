"""The permission matrix: every operation of the OpenAPI document and the roles allowed
to call it. The test oracle of tests/e2e/test_tenant_walls.py (it is not what the API
enforces: the guards in services/api/ are, and the sweep checks them against this).

A new endpoint fails the suite until it has a row here. docs/permissions.md is generated
from this file (`python -m tests.e2e.permission_matrix > docs/permissions.md`; a test
checks it is current).
"""

from __future__ import annotations

import sys

#: Anyone, without a key.
PUBLIC = "public"
#: Any valid key, of any alliance or role.
ANY_KEY = "any-key"
#: The roles a key of an alliance can have.
TENANT_ROLES = ["tenant-admin", "officer", "member", "auditor"]

# Who may call the operations of a kind.
READERS = {"platform-admin", "tenant-admin", "officer", "member", "auditor"}
EDITORS = {"tenant-admin", "officer"}
RUNNERS = EDITORS
RECORD_READERS = {"tenant-admin", "officer", "auditor"}
VOTERS = {"tenant-admin", "officer", "member"}
LOG_READERS = {"tenant-admin", "auditor"}

# operationId -> who may call it. Tenant roles act on their own alliance only.
ACCESS: dict[str, set[str]] = {
    "health": {PUBLIC},
    "whoAmI": {ANY_KEY},
    "onboardTenant": {"platform-admin"},
    "listTenants": {"platform-admin"},
    "getTenant": {"platform-admin", "tenant-admin", "officer", "member", "auditor"},
    "suspendTenant": {"platform-admin"},
    "reinstateTenant": {"platform-admin"},
    # The national directory with governance health: counts and dates, for the umbrella.
    "listDirectory": {"platform-admin"},
    "exportDirectory": {"platform-admin"},
    "refreshDirectory": {"platform-admin"},
    "getDirectoryEntry": {"platform-admin"},
    # An alliance's own obligations calendar and health.
    "listObligations": READERS,
    "getObligation": READERS,
    "getGovernanceHealth": READERS,
    # Where reminders go: officers read them (no secret); tenant admins set them.
    "getReminderChannels": RUNNERS,
    "setReminderChannels": {"tenant-admin"},
    "removeReminderChannels": {"tenant-admin"},
    "issueKey": {"tenant-admin"},
    "listKeys": {"tenant-admin"},
    "getKey": {"tenant-admin"},
    "revokeKey": {"tenant-admin"},
    "readEventLog": {"tenant-admin", "auditor"},
    "listTemplates": {ANY_KEY},
    "getTemplate": {ANY_KEY},
    "getTermsInForce": READERS,
    "listTermsVersions": READERS,
    "getTermsVersion": READERS,
    "diffTermsVersions": READERS,
    "getTermsReview": READERS,
    "listAmendments": READERS,
    "getAmendment": READERS,
    "proposeAmendment": EDITORS,
    "approveAmendment": EDITORS,
    "rejectAmendment": EDITORS,
    "withdrawAmendment": EDITORS,
    "openTermsReview": EDITORS,
    "concludeTermsReview": EDITORS,
    # Membership: applications and representatives carry personal data.
    "submitApplication": RUNNERS,
    "listApplications": RECORD_READERS,
    "getApplication": RECORD_READERS,
    "circulateApplication": RUNNERS,
    "recommendApplication": RUNNERS,
    "decideApplication": RUNNERS,
    "withdrawApplication": RUNNERS,
    "listMembers": READERS,
    "getMember": READERS,
    "suspendMember": RUNNERS,
    "reinstateMember": RUNNERS,
    "resignMember": RUNNERS,
    "removeMember": RUNNERS,
    "reviewMemberConduct": RUNNERS,
    # A member key sees its own organisation's representatives (the world's member key
    # speaks for the member these calls read).
    "listRepresentatives": RECORD_READERS | {"member"},
    "addRepresentative": RUNNERS,
    "replaceRepresentative": RUNNERS,
    "removeRepresentative": RUNNERS,
    "makePrincipalContact": RUNNERS,
    "listOffices": READERS,
    "getOffice": READERS,
    "appointToOffice": RUNNERS,
    "recordElectionResult": RUNNERS,
    "endOfficeHolding": RUNNERS,
    "listBodies": READERS,
    "takeCommitteeSeat": RUNNERS,
    "endCommitteeSeat": RUNNERS,
    "listWorkingGroups": READERS,
    "getWorkingGroup": READERS,
    "proposeWorkingGroup": RUNNERS,
    "establishWorkingGroup": RUNNERS,
    "changeWorkingGroupLeads": RUNNERS,
    "joinWorkingGroup": RUNNERS,
    "leaveWorkingGroup": RUNNERS,
    "recordWorkingGroupReport": RUNNERS,
    "dissolveWorkingGroup": RUNNERS,
    "listWorkPlans": READERS,
    "getWorkPlan": READERS,
    "addWorkPlanItem": RUNNERS,
    "agreeWorkPlan": RUNNERS,
    "progressWorkPlanItem": RUNNERS,
    "deliverWorkPlanItem": RUNNERS,
    "evaluateWorkPlanItem": RUNNERS,
    "evaluateWorkPlan": RUNNERS,
    # Meetings, minutes and action items: read by every key of the alliance (confidential
    # text only by the roles the alliance allows), run by officers and tenant admins.
    "listMeetings": READERS,
    "getMeeting": READERS,
    "scheduleMeeting": RUNNERS,
    "rescheduleMeeting": RUNNERS,
    "addAgendaItem": RUNNERS,
    "withdrawAgendaItem": RUNNERS,
    "cancelMeeting": RUNNERS,
    "holdMeeting": RUNNERS,
    "getComplianceCalendar": READERS,
    "listMinutes": READERS,
    "getMinutes": READERS,
    "getPublicMinutes": READERS,
    "draftMinutes": RUNNERS,
    "amendMinutes": RUNNERS,
    "approveMinutes": RUNNERS,
    "publishMinutes": RUNNERS,
    "correctMinutes": RUNNERS,
    "listActionItems": READERS,
    "getActionItem": READERS,
    "noteActionProgress": RUNNERS,
    "completeActionItem": RUNNERS,
    "getConfidentialReaders": READERS,
    "setConfidentialReaders": {"tenant-admin"},
    # Motions and elections: read by every key of the alliance (and the platform admin),
    # run by officers and tenant admins; voting also with a member organisation's own key.
    # The handlers refuse a member key acting for another organisation, and any key but
    # the organisation's own casting a secret ballot (403): the sweep points the member
    # key at its own organisation and casts in an open election; the refusals have tests
    # of their own below.
    "listMotions": READERS,
    "getVotingRecord": READERS,
    "getMotion": READERS,
    "proposeMotion": RUNNERS,
    "seekConsensus": RUNNERS,
    "openMotionVoting": RUNNERS,
    "castVote": VOTERS,
    "closeMotionVoting": RUNNERS,
    "giveCastingVote": RUNNERS,
    "withdrawMotion": RUNNERS,
    "listElections": READERS,
    "getElection": READERS,
    "recountElection": LOG_READERS,
    "openElection": RUNNERS,
    "nominateCandidate": VOTERS,
    "withdrawNomination": VOTERS,
    "openElectionVoting": RUNNERS,
    "castBallot": VOTERS,
    "closeElection": RUNNERS,
    "cancelElection": RUNNERS,
    # Tamper evidence (issue 7)
    "issueCheckpoint": LOG_READERS,
    "listCheckpoints": LOG_READERS,
    "getCheckpoint": LOG_READERS,
    "getInclusionProof": LOG_READERS,
    "getConsistencyProof": LOG_READERS,
    "exportAuditBundle": LOG_READERS,
    "addCheckpointWebhook": LOG_READERS,
    "listCheckpointWebhooks": LOG_READERS,
    "removeCheckpointWebhook": LOG_READERS,
    "getSigningKey": {PUBLIC},
    "getReviewPack": LOG_READERS,
    "getAuditState": LOG_READERS,
    # Personal data (issue 7): the tenant admin acts; the auditor reads the registers.
    "subjectAccessExport": {"tenant-admin"},
    "requestErasure": {"tenant-admin"},
    "listErasures": LOG_READERS,
    "placeRetentionHold": {"tenant-admin"},
    "listRetentionHolds": LOG_READERS,
    "liftRetentionHold": {"tenant-admin"},
    "diffAuditStates": LOG_READERS,
    "getReviewPackHtml": LOG_READERS,
}


def as_markdown() -> str:
    """The matrix as the table of docs/permissions.md."""
    roles = ["platform-admin", *TENANT_ROLES]
    lines = [
        "# Permission matrix",
        "",
        "Who may call each operation of the API (generated from",
        "`tests/e2e/permission_matrix.py`; `make test` fails when this page or the matrix",
        "falls behind the OpenAPI document). Tenant roles act on their own alliance only: a",
        "key of another alliance gets 404, a key without the role 403, no valid key 401.",
        "",
        "| operation | public | any key | " + " | ".join(roles) + " |",
        "|---|---|---|" + "---|" * len(roles),
    ]
    for operation in sorted(ACCESS):
        allowed = ACCESS[operation]
        marks = [PUBLIC in allowed, ANY_KEY in allowed] + [role in allowed for role in roles]
        lines.append(f"| `{operation}` | " + " | ".join("✓" if m else "" for m in marks) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(as_markdown())
