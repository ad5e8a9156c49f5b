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


@dataclass(frozen=True)
class NavGroup:
    """Menu entries under one heading (a disclosure): the auditor's evidence pages fit one line at 1440 px."""

    label: str
    items: tuple[NavItem, ...]

    def current(self, path: str) -> bool:
        return any(item.url == path for item in self.items)


# Short labels: every role's whole menu fits on one line at 1440 px; each page's heading says it in full.
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
    NavGroup(
        "Evidence",
        (
            NavItem("Audit log", "dashboard:audit-log", "audit.view_auditevent"),
            NavItem("Integrity", "dashboard:integrity", "audit.view_auditevent"),
            NavItem("Controls", "dashboard:controls-index", "dashboard.view_controls"),
        ),
    ),
]


def items_for(user) -> list[NavItem | NavGroup]:
    """The entries `user` may open; a group with one of them left is that entry alone."""
    if not user.is_authenticated:
        return []

    def allowed(item: NavItem) -> bool:
        return item.permission is None or user.has_perm(item.permission)

    entries: list[NavItem | NavGroup] = []
    for entry in NAV_ITEMS:
        if isinstance(entry, NavItem):
            entries += [entry] if allowed(entry) else []
            continue
        kept = tuple(item for item in entry.items if allowed(item))
        entries += [NavGroup(entry.label, kept)] if len(kept) > 1 else list(kept)
    return entries


def role_label(user) -> str:
    if user.is_superuser:
        return "Superuser"
    return ", ".join(sorted(roles_of(user))) or "No role"
