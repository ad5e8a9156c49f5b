"""The four roles people hold in Regent, as Django groups with permissions.

`ensure_roles` runs after every migrate, so the groups exist and carry exactly these permissions on
any database, whatever was there before.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q


class Role:
    EXECUTIVE = "Executive"
    SUPERVISOR = "Supervisor"
    POLICY_ADMIN = "Policy Admin"
    AUDITOR = "Auditor"

    ALL = (EXECUTIVE, SUPERVISOR, POLICY_ADMIN, AUDITOR)
    # Roles that see every department; a Supervisor sees only the departments they oversee.
    ORGANISATION_WIDE = (EXECUTIVE, POLICY_ADMIN, AUDITOR)


_VIEW_DOMAIN = [
    "orchestration.view_department",
    "orchestration.view_capability",
    "orchestration.view_modelprovider",
    "orchestration.view_agent",
    "governance.view_decision",
    "governance.view_outcome",
    "governance.view_approval",
    "governance.view_override",
    "governance.view_policy",
    "governance.view_policyversion",
    "governance.view_policyexample",
    "workflows.view_strategy",
    "workflows.view_workflowtemplate",
    "workflows.view_steptemplate",
    "workflows.view_workflowrun",
    "workflows.view_steprun",
    "alerting.view_alert",  # open and recent alerts of their scope (alerting)
    "alerting.view_alertrule",
    "traces.view_tokenprice",
    "traces.view_redactionpattern",
    "traces.view_contentsetting",
    "gateway.view_upstreamserver",
    "gateway.view_gatewaytool",
    "gateway.view_toolcall",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.EXECUTIVE: [
        *_VIEW_DOMAIN,
        "workflows.add_strategy",
        "workflows.start_workflowrun",
        "orchestration.pause_agent",  # and whole departments, from their pages
        "orchestration.kill_agent",
        "dashboard.view_controls",  # the controls frameworks ask for and their evidence (dashboard.compliance)
    ],
    Role.SUPERVISOR: [
        *_VIEW_DOMAIN,
        "orchestration.pause_agent",
        "workflows.start_workflowrun",
        "audit.view_auditevent",  # scoped to their departments in every view
        "governance.add_outcome",  # for systems reporting what happened, with a Supervisor's token
        "governance.add_override",  # of denied or flagged decisions in their departments (governance.overrides)
        "integrations.manage_webhooks",  # for their departments' events only (integrations.webhooks.check_scope)
        "dashboard.view_controls",  # their departments' evidence only
    ],
    Role.POLICY_ADMIN: [
        *_VIEW_DOMAIN,
        *(
            f"orchestration.{verb}_{model}"
            for verb in ("add", "change", "delete")
            for model in ("agent", "modelprovider", "capability")
        ),
        *(f"governance.{verb}_{model}" for verb in ("add", "change") for model in ("policy", "policyexample")),
        *(
            f"gateway.{verb}_{model}"
            for verb in ("add", "change", "delete")
            for model in ("upstreamserver", "gatewaytool")
        ),
        "governance.delete_policyexample",
        *(f"alerting.{verb}_alertrule" for verb in ("add", "change", "delete")),
        "workflows.start_workflowrun",
        *(
            f"workflows.{verb}_{model}"
            for verb in ("add", "change", "delete")
            for model in ("workflowtemplate", "steptemplate")
        ),
        "governance.view_replayrun",
        *(
            f"traces.{verb}_{model}"
            for verb in ("add", "change", "delete")
            for model in ("tokenprice", "redactionpattern", "contentsetting")
        ),
        "orchestration.manage_agent_keys",
        "orchestration.pause_agent",
        "orchestration.kill_agent",
        "integrations.manage_webhooks",
    ],
    Role.AUDITOR: [
        *_VIEW_DOMAIN,
        "auth.view_user",
        "auth.view_group",
        "audit.view_auditevent",
        "audit.export_evidence",
        "audit.verify_chain",  # start a verification, sign a checkpoint (dashboard integrity page)
        "dashboard.view_controls",
    ],
}


def ensure_roles(sender=None, **_signal_kwargs) -> None:
    """Create the role groups and set their permissions to exactly ROLE_PERMISSIONS.

    post_migrate is sent once per app (and after every flush, so before each transactional test): only the last
    app's signal acts, when every app's permissions exist; the others would repeat the same work.
    """
    if sender is not None and sender is not _last_app_with_models():
        return
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = Q(pk__in=[])
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(wanted).select_related("content_type"))
        missing = set(codenames) - {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
        if missing:
            # Permissions appear after their app's migrations; the last post_migrate call completes the set.
            continue
        group.permissions.set(permissions)


def _last_app_with_models():
    from django.apps import apps

    return [config for config in apps.get_app_configs() if config.models_module is not None][-1]


def roles_of(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_regent_roles"):
        user._regent_roles = set(user.groups.filter(name__in=Role.ALL).values_list("name", flat=True))
    return user._regent_roles


def sees_whole_organisation(user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(roles_of(user) & set(Role.ORGANISATION_WIDE)))


def audit_role_change(sender, instance, action: str, reverse: bool, pk_set, **_kwargs) -> None:
    """Record every change to who holds a role (User.groups), whichever screen or script made it."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from audit import chain

    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # group.user_set.add(...): the instance is the group, pk_set holds the people
        people = instance.user_set.all() if action == "pre_clear" else User.objects.filter(pk__in=pk_set or [])
        changes = [(person, [instance.name]) for person in people]
    else:
        user: User = instance
        names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True)) if pk_set else []
        if action == "pre_clear":
            names = sorted(user.groups.values_list("name", flat=True))
        changes = [(user, names)] if names else []
    with transaction.atomic():
        for user, names in changes:
            chain.record(
                "role.changed",
                subject_type="user",
                subject_id=user.pk,
                before=None,
                after={"user": user.get_username(), "added" if action == "post_add" else "removed": names},
            )
