"""A framework's controls with the evidence each has in a period, for one viewer: what the page, the exports and
the API show. Each distinct query runs once, however many controls share it."""

from dataclasses import dataclass

from dashboard.compliance.library import Control, Framework, library
from dashboard.compliance.queries import QUERIES, Evidence, Scope
from dashboard.periods import Period
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments


@dataclass(frozen=True)
class ControlStatus:
    control: Control
    evidence: Evidence

    @property
    def status(self) -> str:
        """`evidence`, `none` (no evidence in the period) or `withheld` (not this viewer's to read)."""
        if self.evidence.count is None:
            return "withheld"
        return "evidence" if self.evidence.found else "none"

    @property
    def status_label(self) -> str:
        count = self.evidence.count
        if count is None:
            return "Not in your scope"
        return f"Evidence: {count:,} record{'s' if count != 1 else ''}" if count else "No evidence in this period"

    @property
    def coverage_label(self) -> str:
        return f"Partial: {self.control.deployer_adds}" if self.control.partial else "Served by Regent"


@dataclass(frozen=True)
class FrameworkReport:
    framework: Framework
    period: Period
    scope_label: str
    library_version: int
    controls: list[ControlStatus]

    @property
    def with_evidence(self) -> int:
        return sum(1 for row in self.controls if row.status == "evidence")

    @property
    def partial(self) -> int:
        return sum(1 for row in self.controls if row.control.partial)


def scope_label(viewer, departments: list[int] | None) -> str:
    visible = visible_departments(viewer)
    if departments:
        return ", ".join(visible.filter(pk__in=departments).order_by("name").values_list("name", flat=True))
    if sees_whole_organisation(viewer):
        return "The whole organisation"
    return ", ".join(visible.order_by("name").values_list("name", flat=True)) or "No department"


def framework_report(
    viewer, framework: Framework, period: Period, departments: list[int] | None = None
) -> FrameworkReport:
    scope = Scope(viewer, period, departments)
    found: dict[str, Evidence] = {}
    rows = []
    for control in framework.controls:
        if control.query not in found:
            found[control.query] = QUERIES[control.query](scope)
        rows.append(ControlStatus(control, found[control.query]))
    return FrameworkReport(framework, period, scope_label(viewer, departments), library().version, rows)
