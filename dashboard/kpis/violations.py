"""One definition of a violation for every page, the board report and the API (worded in dashboard.glossary)."""

from dashboard.glossary import VIOLATION_RATE, VIOLATION_VERDICTS

VIOLATION_DEFINITION = VIOLATION_RATE

__all__ = ["VIOLATION_DEFINITION", "VIOLATION_VERDICTS"]
