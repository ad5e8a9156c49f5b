"""Group mappings in the admin: who gets what from single sign-on. root is a superuser."""

import pytest

from accounts.models import GroupMapping
from audit.models import AuditEvent
from orchestration.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True)


def test_a_superuser_maps_a_group_to_a_role_and_departments(client, root, finance):
    # When root maps the provider's group finance-supervisors to the Supervisor role over Finance
    client.force_login(root)
    response = client.post(
        "/admin/accounts/groupmapping/add/",
        {"idp_group": "finance-supervisors", "role": Role.SUPERVISOR, "departments": [finance.pk]},
    )

    # Then the mapping is saved and listed with its departments
    assert response.status_code == 302
    mapping = GroupMapping.objects.get(idp_group="finance-supervisors")
    assert (mapping.role, list(mapping.departments.all())) == (Role.SUPERVISOR, [finance])
    listing = client.get("/admin/accounts/groupmapping/").content.decode()
    assert "finance-supervisors" in listing and "Finance" in listing
    # And the audit log says who mapped what
    event = AuditEvent.objects.get(kind="sso.mapping_added")
    assert (event.actor, event.after) == (
        root,
        {"group": "finance-supervisors", "role": Role.SUPERVISOR, "departments": ["Finance"]},
    )


def test_deleting_a_mapping_is_audited(client, root):
    mapping = GroupMapping.objects.create(idp_group="regent-auditors", role=Role.AUDITOR)
    client.force_login(root)

    response = client.post(f"/admin/accounts/groupmapping/{mapping.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and not GroupMapping.objects.exists()
    event = AuditEvent.objects.get(kind="sso.mapping_deleted")
    assert (event.actor, event.after) == (root, {"group": "regent-auditors", "role": Role.AUDITOR, "departments": []})


def test_a_mapping_that_gives_nothing_is_refused_with_a_message(client, root):
    client.force_login(root)
    response = client.post("/admin/accounts/groupmapping/add/", {"idp_group": "all-staff", "role": ""})

    assert response.status_code == 200
    assert "Give the group a role, departments to oversee, or both." in response.content.decode()
    assert not GroupMapping.objects.exists()


def test_people_with_roles_cannot_change_the_mappings(client, alice, carol):
    # An Executive or a Policy Admin may not decide who gets which role
    for person in (alice, carol):
        client.force_login(person)
        assert client.get("/admin/accounts/groupmapping/add/").status_code == 403
