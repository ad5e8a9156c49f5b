"""What each person may see: the one place department scope is decided."""

from django.db.models import QuerySet

from orchestration.models import Agent, Department
from orchestration.roles import Role, roles_of, sees_whole_organisation


def visible_departments(user) -> QuerySet[Department]:
    if sees_whole_organisation(user):
        return Department.objects.all()
    if Role.SUPERVISOR in roles_of(user):
        return Department.objects.supervised_by(user)
    return Department.objects.none()


def visible_agents(user) -> QuerySet[Agent]:
    if sees_whole_organisation(user):
        return Agent.objects.all()
    return Agent.objects.filter(department__in=visible_departments(user))


def scope_to_departments(queryset: QuerySet, user, field: str = "department") -> QuerySet:
    """Narrow any queryset with a department relation to what the user may see."""
    if sees_whole_organisation(user):
        return queryset
    return queryset.filter(**{f"{field}__in": visible_departments(user)})


def scope_to_all_departments(queryset: QuerySet, user, field: str = "departments") -> QuerySet:
    """Narrow a queryset whose rows name a set of departments to the rows whose departments the user all sees.

    An empty set means the whole organisation, so those rows are only for people who see all of it.
    """
    if sees_whole_organisation(user):
        return queryset
    hidden = Department.objects.exclude(pk__in=visible_departments(user))
    return queryset.filter(**{f"{field}__isnull": False}).exclude(**{f"{field}__in": hidden}).distinct()


def audit_supervision_change(sender, instance, action: str, reverse: bool, pk_set, **_kwargs) -> None:
    """Record every change to who oversees a department (Department.supervisors), whichever screen or script
    made it: one event per person and department. Like a role change it is organisation-wide (no department_id),
    seen by those who see the whole organisation's audit log, not by the department's Supervisors."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from audit import chain

    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # user.supervised_departments.add(...): the instance is the person, pk_set holds departments
        departments = (
            instance.supervised_departments.all()
            if action == "pre_clear"
            else Department.objects.filter(pk__in=pk_set or [])
        )
        pairs = [(instance, department) for department in departments]
    else:
        people = instance.supervisors.all() if action == "pre_clear" else User.objects.filter(pk__in=pk_set or [])
        pairs = [(person, instance) for person in people]
    change = "added" if action == "post_add" else "removed"
    with transaction.atomic():
        for person, department in sorted(pairs, key=lambda pair: (pair[0].pk, pair[1].name)):
            chain.record(
                "supervision.changed",
                subject_type="user",
                subject_id=person.pk,
                before=None,
                after={"user": person.get_username(), change: [department.name]},
            )
