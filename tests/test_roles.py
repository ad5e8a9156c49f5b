"""The four role groups, their permissions, and what each person may see."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dashboard.overview_numbers import overview_numbers
from dashboard.periods import Period, period_for
from orchestration.roles import ROLE_PERMISSIONS, Role, ensure_roles
from orchestration.scoping import visible_agents, visible_departments
from tests.factories import DecisionFactory, UserFactory

pytestmark = pytest.mark.django_db


def last_day() -> Period:
    return period_for("24h", timezone.now())


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def role_snapshot() -> dict[str, tuple[int, set[str]]]:
    return {role: (Group.objects.get(name=role).pk, permissions_of(role)) for role in Role.ALL}


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_migrate_creates_the_four_role_groups():
    assert set(Group.objects.filter(name__in=Role.ALL).values_list("name", flat=True)) == set(Role.ALL)


@pytest.mark.parametrize("role", Role.ALL)
def test_each_role_group_has_exactly_its_permissions_after_migrate(role):
    assert permissions_of(role) == set(ROLE_PERMISSIONS[role])


def test_ensure_roles_run_twice_changes_nothing():
    # Given the roles as migrate left them
    before = role_snapshot()

    # When ensure_roles runs twice more
    ensure_roles()
    ensure_roles()

    # Then the same groups hold the same permissions
    assert role_snapshot() == before
    assert Group.objects.filter(name__in=Role.ALL).count() == len(Role.ALL)


def test_ensure_roles_restores_a_removed_permission():
    # Given someone took pausing away from Supervisors
    Group.objects.get(name=Role.SUPERVISOR).permissions.remove(permission("orchestration.pause_agent"))

    # When ensure_roles runs
    ensure_roles()

    # Then Supervisors may pause again
    assert "orchestration.pause_agent" in permissions_of(Role.SUPERVISOR)


def test_ensure_roles_removes_a_permission_granted_by_hand():
    # Given someone let Auditors delete agents
    Group.objects.get(name=Role.AUDITOR).permissions.add(permission("orchestration.delete_agent"))

    # When ensure_roles runs
    ensure_roles()

    # Then Auditors hold exactly their role's permissions again
    assert permissions_of(Role.AUDITOR) == set(ROLE_PERMISSIONS[Role.AUDITOR])


def test_ensure_roles_recreates_a_deleted_group():
    # Given the Policy Admin group was deleted
    Group.objects.filter(name=Role.POLICY_ADMIN).delete()

    # When ensure_roles runs
    ensure_roles()

    # Then it exists again with its permissions
    assert permissions_of(Role.POLICY_ADMIN) == set(ROLE_PERMISSIONS[Role.POLICY_ADMIN])


def test_migrate_repairs_role_permissions():
    # Given someone took killing away from Policy Admins
    Group.objects.get(name=Role.POLICY_ADMIN).permissions.remove(permission("orchestration.kill_agent"))

    # When migrate runs, with nothing to apply
    call_command("migrate", verbosity=0)

    # Then Policy Admins may kill agents again
    assert "orchestration.kill_agent" in permissions_of(Role.POLICY_ADMIN)


SCOPE_BY_PERSON = [
    ("alice", {"finance", "support"}),
    ("bob", {"finance"}),
    ("carol", {"finance", "support"}),
    ("dave", {"finance", "support"}),
    ("erin", set()),
]


@pytest.mark.parametrize(("person", "expected"), SCOPE_BY_PERSON)
def test_visible_departments_follow_the_role(request, finance, support, person, expected):
    user = request.getfixturevalue(person)

    assert set(visible_departments(user).values_list("slug", flat=True)) == expected


@pytest.mark.parametrize(("person", "expected"), SCOPE_BY_PERSON)
def test_visible_agents_follow_the_role(request, finance_agent, support_agent, person, expected):
    user = request.getfixturevalue(person)

    assert set(visible_agents(user).values_list("department__slug", flat=True)) == expected


def test_a_supervisor_sees_the_department_they_head(support):
    # Given a Supervisor who heads Support without being listed among its supervisors
    frank = UserFactory(username="frank", roles=[Role.SUPERVISOR])
    support.head = frank
    support.save()

    # When we ask what frank may see
    departments = visible_departments(frank)

    # Then it is Support
    assert list(departments) == [support]


def test_heading_a_department_without_a_role_shows_nothing(erin, support):
    # Given erin heads Support but holds no role
    support.head = erin
    support.save()

    # When we ask what erin may see
    departments = visible_departments(erin)

    # Then it is nothing
    assert not departments.exists()


def test_a_superuser_sees_every_department(admin_user, finance, support):
    assert set(visible_departments(admin_user)) == {finance, support}


def test_a_supervisor_counts_only_their_departments_decisions_on_the_overview(bob, finance_agent, support_agent):
    # Given one decision in Finance and two in Support
    DecisionFactory(agent=finance_agent)
    DecisionFactory.create_batch(2, agent=support_agent)

    # When bob's overview numbers are computed
    numbers = overview_numbers(bob, last_day())

    # Then only the Finance decision counts and shows
    assert numbers["tiles"]["decisions"]["value"] == 1
    assert [row["department"] for row in numbers["recent"]] == ["Finance"]


def test_a_supervisor_counts_only_their_departments_active_agents(bob, finance_agent, support_agent):
    assert overview_numbers(bob, last_day())["tiles"]["active_agents"]["value"] == 1


def test_an_executive_counts_every_departments_decisions_on_the_overview(alice, finance_agent, support_agent):
    # Given one decision in Finance and two in Support
    DecisionFactory(agent=finance_agent)
    DecisionFactory.create_batch(2, agent=support_agent)

    # When alice's overview numbers are computed
    numbers = overview_numbers(alice, last_day())

    # Then all three count
    assert numbers["tiles"]["decisions"]["value"] == 3


def test_a_supervisor_gets_only_their_departments_decisions_from_the_live_endpoint(
    client, bob, finance_agent, support_agent
):
    # Given one decision in Finance and two in Support, and bob signed in
    finance_decision = DecisionFactory(agent=finance_agent)
    DecisionFactory.create_batch(2, agent=support_agent)
    client.force_login(bob)

    # When bob's page polls the live numbers
    response = client.get(reverse("dashboard:overview-numbers"))

    # Then they cover Finance only
    assert response.status_code == 200
    body = response.json()
    assert body["tiles"]["decisions"]["value"] == 1
    assert [row["id"] for row in body["recent"]] == [finance_decision.pk]


def test_the_live_endpoint_needs_a_signed_in_person(client):
    response = client.get(reverse("dashboard:overview-numbers"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
