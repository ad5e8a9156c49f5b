"""What a person's groups at the identity provider give them, and making their roles and departments match it.

Applied at each sign-in: roles and overseen departments are granted and taken away to match the groups. Each
change is recorded in the audit log by the signals on User.groups and Department.supervisors, so a change made
here and one made in the admin read the same.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group, User

from accounts.models import GroupMapping
from audit import chain
from orchestration.models import Department
from orchestration.roles import Role


@dataclass(frozen=True)
class Grants:
    roles: frozenset[str]
    department_ids: frozenset[int]
    mapped: bool  # at least one of the groups is mapped (a mapping may give neither role nor departments yet)


NOTHING = Grants(frozenset(), frozenset(), mapped=False)


def grants_for(groups: Iterable[str]) -> Grants:
    mappings = list(GroupMapping.objects.filter(idp_group__in=list(groups)).prefetch_related("departments"))
    return Grants(
        roles=frozenset(mapping.role for mapping in mappings if mapping.role),
        department_ids=frozenset(department.pk for mapping in mappings for department in mapping.departments.all()),
        mapped=bool(mappings),
    )


def apply(user: User, grants: Grants) -> None:
    """Give `user` exactly the roles and overseen departments of `grants`; other groups and headships stay."""
    held = set(user.groups.filter(name__in=Role.ALL).values_list("name", flat=True))
    if lost := held - grants.roles:
        user.groups.remove(*Group.objects.filter(name__in=lost))
    if gained := grants.roles - held:
        user.groups.add(*Group.objects.filter(name__in=gained))
    overseen = set(user.supervised_departments.values_list("pk", flat=True))
    if lost := overseen - grants.department_ids:
        user.supervised_departments.remove(*Department.objects.filter(pk__in=lost))
    if gained := grants.department_ids - overseen:
        user.supervised_departments.add(*Department.objects.filter(pk__in=gained))
    staff = user.is_superuser or bool(grants.roles)  # the admin site opens to anyone with a role, as in the demo
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def record_mapping_change(mapping: GroupMapping, change: str) -> None:
    """Audit a mapping saved or deleted: it decides who gets which role from the next sign-in on."""
    chain.record(
        f"sso.mapping_{change}",
        subject_type="group_mapping",
        subject_id=mapping.pk,
        after={
            "group": mapping.idp_group,
            "role": mapping.role,
            "departments": sorted(department.name for department in mapping.departments.all()),
        },
    )
