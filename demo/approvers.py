"""The company's approvers, simulated: they answer most held requests within minutes, as a working team does.

The history is seeded with their answers and the simulator keeps giving them live, through the same
`decide_approval` a person's click goes through, so the inbox holds a realistic few waiting requests and
the odd one that nobody answers escalates at its deadline.
"""

import datetime as dt
import math
import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone

from governance.approvals import ApprovalError, decide_approval, may_decide
from governance.models import Approval

APPROVAL_WINDOW = dt.timedelta(hours=4)
UNANSWERED = 0.04  # left for the deadline: it escalates, and at the top it expires
APPROVED = 0.85
TYPICAL_MINUTES = 6.0  # the median wait for an answer
APPROVE_REASONS = (
    "Checked against the purchase order.",
    "Matches the signed contract.",
    "Within the quarter's plan.",
    "Customer history checks out.",
)
REJECT_REASONS = (
    "Not justified by the ticket history.",
    "Vendor is not on the approved list.",
    "Duplicate of an earlier request.",
    "Amount is above what was agreed with the customer.",
)
OVER_BUDGET_REASON = "Over this month's budget; resubmit next month or ask Finance to raise it."


@dataclass(frozen=True)
class Answer:
    approve: bool
    after: dt.timedelta  # from the moment the request reached this approver
    comment: str


def people_answer(rng: random.Random) -> Answer | None:
    """How a person answers one held request, or None when nobody does before its deadline."""
    if rng.random() < UNANSWERED:
        return None
    approve = rng.random() < APPROVED
    minutes = rng.lognormvariate(math.log(TYPICAL_MINUTES), 0.8)
    return Answer(approve, dt.timedelta(minutes=minutes), rng.choice(APPROVE_REASONS if approve else REJECT_REASONS))


class Approvers:
    """The demo's supervisor and executive working their inboxes; `work()` answers what is due."""

    def __init__(self, rng: random.Random, usernames: tuple[str, ...] = ("supervisor", "executive")):
        self.rng = rng
        self.usernames = usernames
        # (request, escalation level) -> how its approver answers, and since when they have had it
        self._answers: dict[tuple[int, int], tuple[Answer | None, dt.datetime]] = {}

    def work(self, now: dt.datetime | None = None, limit: int = 200) -> int:
        """Answer the pending requests whose approver's usual delay has passed; return how many were answered."""
        now = now or timezone.now()
        people = list(User.objects.filter(username__in=self.usernames).order_by("username").reverse())
        answered = 0
        pending = Approval.objects.filter(status=Approval.Status.PENDING).order_by("requested_at")[:limit]
        for approval in pending:
            since = approval.requested_at if approval.escalation_level == 0 else now
            key = (approval.pk, approval.escalation_level)
            answer, since = self._answers.setdefault(key, (people_answer(self.rng), since))
            if answer is None or since + answer.after > now:
                continue
            person = next((p for p in people if may_decide(p, approval)), None)
            if person is None:
                continue
            try:
                decide_approval(approval.pk, approve=answer.approve, by=person, comment=answer.comment)
            except ApprovalError:  # over budget, or answered by someone else meanwhile
                try:
                    decide_approval(approval.pk, approve=False, by=person, comment=OVER_BUDGET_REASON)
                except ApprovalError:
                    continue
            answered += 1
        return answered
