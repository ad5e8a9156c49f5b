"""The navigation each person sees, by what they may do."""

from dataclasses import dataclass

from django.urls import reverse

from orchestration.roles import roles_of


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)


# Short labels: an executive's whole menu fits on one line at 1440 px; each page's heading says it in full.
NAV_ITEMS = [
    NavItem("Overview", "dashboard:overview"),
    NavItem("Risk", "dashboard:risk", "governance.view_decision"),
    NavItem("Strategy", "dashboard:strategy", "governance.view_decision"),
    NavItem("Board report", "dashboard:board", "governance.view_decision"),
    NavItem("Agents", "dashboard:agents", "orchestration.view_agent"),
    NavItem("Interactions", "dashboard:interactions", "orchestration.view_agent"),
    NavItem("Decisions", "dashboard:decisions", "governance.view_decision"),
    NavItem("Departments", "dashboard:departments", "orchestration.view_department"),
    NavItem("Approvals", "dashboard:approvals", "governance.view_approval"),
    NavItem("Alerts", "alerting:alerts", "alerting.view_alert"),
    NavItem("Policies", "dashboard:policies", "governance.view_policy"),
    NavItem("Providers", "admin:orchestration_modelprovider_changelist", "orchestration.change_modelprovider"),
    NavItem("Audit log", "dashboard:audit-log", "audit.view_auditevent"),
    NavItem("Integrity", "dashboard:integrity", "audit.view_auditevent"),
    NavItem("Controls", "dashboard:controls-index", "dashboard.view_controls"),
]


def items_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if item.permission is None or user.has_perm(item.permission)]


def role_label(user) -> str:
    if user.is_superuser:
        return "Superuser"
    return ", ".join(sorted(roles_of(user))) or "No role"
