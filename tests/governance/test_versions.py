"""Every change to a policy becomes an immutable, numbered version; the admin records one on each save."""

import pytest
from django.urls import reverse

from governance.models import Effect, Policy, PolicyVersion
from governance.policies import record_policy_version, version_diff
from tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db

NO_INLINE_ROWS = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def admin_url(model: type, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def policy_form(**overrides) -> dict:
    data = {
        "name": "Large invoices need a supervisor",
        "rationale": "Finance signs off anything over 1000.",
        "enabled": "on",
        "mode": "enforce",
        "priority": "100",
        "risk_weight": "10",
        "actions": "invoice.approve",
        "condition": "amount > 1000.0",
        "effect": Effect.REQUIRE_APPROVAL,
        "approver_role": "Supervisor",
        "approval_deadline_minutes": "240",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        **{f"{prefix}-{name}": value for prefix in ("examples", "versions") for name, value in NO_INLINE_ROWS.items()},
    }
    return {**data, **overrides}


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


# record_policy_version


def test_recording_a_new_policy_stores_version_1(db):
    # Given a policy just created
    policy = PolicyFactory(name="No refunds", effect=Effect.DENY)

    # When its version is recorded
    version = record_policy_version(policy)

    # Then it is version 1, holding the policy as it stands
    policy.refresh_from_db()
    assert (version.number, policy.version) == (1, 1)
    assert version.snapshot["name"] == "No refunds"
    assert version.snapshot["effect"] == "deny"


def test_recording_a_changed_policy_stores_the_next_version(make_policy):
    # Given a policy at version 1
    policy = make_policy(effect=Effect.FLAG)

    # When it is changed and recorded
    policy.effect = Effect.DENY
    policy.save()
    version = record_policy_version(policy)

    # Then version 2 holds the change
    policy.refresh_from_db()
    assert (version.number, policy.version) == (2, 2)
    assert version.snapshot["effect"] == "deny"


def test_a_scope_change_is_a_new_version(make_policy, finance):
    # Given a policy for every department
    policy = make_policy()

    # When it is narrowed to Finance and recorded
    policy.departments.set([finance])
    version = record_policy_version(policy)

    # Then the new version holds the narrower scope
    assert version.number == 2
    assert version.snapshot["department_ids"] == [finance.pk]


def test_recording_an_unchanged_policy_stores_nothing(make_policy):
    # Given a policy at version 1
    policy = make_policy()

    # When it is recorded again without a change
    version = record_policy_version(policy)

    # Then no version is stored and it stays at version 1
    policy.refresh_from_db()
    assert version is None
    assert policy.version == 1
    assert policy.versions.count() == 1


def test_the_diff_of_a_version_shows_the_field_that_changed(make_policy, edit_policy):
    # Given a flag policy changed to deny
    policy = edit_policy(make_policy(effect=Effect.FLAG), effect=Effect.DENY)

    # When version 2 is compared with version 1
    diff = version_diff(policy.versions.get(number=2))

    # Then the diff removes the old effect, adds the new one, and touches nothing else
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ['-  "effect": "flag",', '+  "effect": "deny",']


# The admin


def test_a_policy_saved_in_the_admin_gets_its_first_version(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves a valid policy
    response = client.post(admin_url(Policy, "add"), policy_form())

    # Then the policy is stored with version 1, recorded as hers
    assert response.status_code == 302
    policy = Policy.objects.get(name="Large invoices need a supervisor")
    version = policy.versions.get()
    assert (policy.version, version.number, version.created_by) == (1, 1, carol)


def test_a_policy_changed_in_the_admin_gets_its_next_version(client, carol, make_policy):
    # Given a policy at version 1 and carol on its change form
    policy = make_policy(
        name="Large invoices need a supervisor",
        actions="invoice.approve",
        condition="amount > 1000.0",
        effect=Effect.REQUIRE_APPROVAL,
        approver_role="Supervisor",
    )
    client.force_login(carol)

    # When she saves it with a higher threshold
    response = client.post(admin_url(Policy, "change", policy.pk), policy_form(condition="amount > 5000.0"))

    # Then version 2 holds the new condition
    assert response.status_code == 302
    latest = policy.versions.get(number=2)
    assert (latest.snapshot["condition"], latest.created_by) == ("amount > 5000.0", carol)


def test_a_condition_that_does_not_compile_is_a_form_error_naming_its_position(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves a condition with an unknown attribute
    response = client.post(admin_url(Policy, "add"), policy_form(condition="amount > 1000.0 && agent.tierr > 2"))

    # Then the condition field says what and where, and neither a policy nor a version is stored
    assert response.status_code == 200
    (message,) = form_errors(response)["condition"]
    assert "Unknown attribute 'agent.tierr'" in message
    assert "(line 1, column 26)" in message
    assert not Policy.objects.exists()
    assert not PolicyVersion.objects.exists()


def test_a_condition_that_does_not_compile_leaves_an_existing_policy_as_it_was(client, carol, make_policy):
    # Given a policy at version 1 and carol on its change form
    policy = make_policy(condition="amount > 1000.0")
    client.force_login(carol)

    # When she saves a condition with a syntax error
    response = client.post(admin_url(Policy, "change", policy.pk), policy_form(name=policy.name, condition="amount >"))

    # Then the form says where the error is, and the policy and its versions are unchanged
    assert response.status_code == 200
    assert "(line 1, column 9)" in form_errors(response)["condition"][0]
    policy.refresh_from_db()
    assert (policy.condition, policy.version, policy.versions.count()) == ("amount > 1000.0", 1, 1)


def test_require_approval_without_an_approver_role_is_a_form_error(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves a require-approval policy without saying who approves
    response = client.post(admin_url(Policy, "add"), policy_form(approver_role=""))

    # Then the approver role is flagged and nothing is stored
    assert response.status_code == 200
    assert "approver_role" in form_errors(response)
    assert not Policy.objects.exists()


@pytest.mark.parametrize("person", ["carol", "admin_user"])
def test_a_policy_version_cannot_be_changed_in_the_admin(request, client, make_policy, person):
    # Given a recorded version and someone who manages policies
    version = make_policy(name="No refunds").versions.get()
    client.force_login(request.getfixturevalue(person))

    # When they post a change to the version
    response = client.post(admin_url(PolicyVersion, "change", version.pk), {"number": "7"})

    # Then they are refused and it is unchanged
    assert response.status_code == 403
    version.refresh_from_db()
    assert (version.number, version.snapshot["name"]) == (1, "No refunds")


@pytest.mark.parametrize("person", ["carol", "admin_user"])
def test_a_policy_version_cannot_be_deleted_in_the_admin(request, client, make_policy, person):
    # Given a recorded version and someone who manages policies
    version = make_policy().versions.get()
    client.force_login(request.getfixturevalue(person))

    # When they confirm its deletion
    response = client.post(admin_url(PolicyVersion, "delete", version.pk), {"post": "yes"})

    # Then they are refused and it is still there
    assert response.status_code == 403
    assert PolicyVersion.objects.filter(pk=version.pk).exists()


@pytest.mark.parametrize("person", ["carol", "admin_user"])
def test_a_policy_cannot_be_deleted_in_the_admin(request, client, make_policy, person):
    # Given a policy and someone who manages policies
    policy = make_policy()
    client.force_login(request.getfixturevalue(person))

    # When they confirm its deletion
    response = client.post(admin_url(Policy, "delete", policy.pk), {"post": "yes"})

    # Then they are refused and it is still there
    assert response.status_code == 403
    assert Policy.objects.filter(pk=policy.pk).exists()


def test_the_delete_action_is_not_offered_on_the_policy_list(admin_client, make_policy):
    # Given a policy
    make_policy()

    # When a superuser opens the policy list
    response = admin_client.get(admin_url(Policy, "changelist"))

    # Then there is no bulk delete
    policy_admin = response.context["cl"].model_admin
    assert "delete_selected" not in policy_admin.get_actions(response.wsgi_request)
