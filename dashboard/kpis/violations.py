"""One definition of a violation for every page, the board report and the API."""

from governance.models import Verdict

VIOLATION_VERDICTS = (Verdict.DENY, Verdict.FLAG)
VIOLATION_DEFINITION = "denied or flagged decisions as a share of all decisions in the period"
