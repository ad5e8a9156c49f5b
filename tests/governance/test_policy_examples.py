"""Policy examples: requests a policy carries with the verdict they must get, a policy's unit tests.

Examples run against the whole policy set with their own policy enforced, so a shadow policy's examples
say what it will do once enforced. Enforcing a policy, or changing an enforced one, requires them to pass.
"""

from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from governance.models import Effect, Mode, Policy, PolicyExample, Verdict
from governance.policy_examples import PolicyExamplesFailed, run_examples, set_policy_mode

pytestmark = pytest.mark.django_db

NO_INLINE_ROWS = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}
LARGE_INVOICE = {"action": "invoice.approve", "amount": "5000.00", "currency": "EUR"}
SMALL_INVOICE = {"action": "invoice.approve", "amount": "50.00", "currency": "EUR"}


def admin_url(view: str, *args) -> str:
    return reverse(f"admin:governance_policy_{view}", args=args)


def policy_form(policy: Policy | None = None, **overrides) -> dict:
    """The admin form as a Policy Admin submits it: the policy's own fields, no inline rows."""
    data = {
        "name": policy.name if policy else "No large invoices",
        "rationale": "Large invoices go through procurement.",
        "enabled": "on",
        "priority": "100",
        "risk_weight": "10",
        "actions": "invoice.approve",
        "condition": "amount > 1000.0",
        "effect": Effect.DENY,
        "approver_role": "",
        "approval_deadline_minutes": "240",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        **{f"{prefix}-{name}": value for prefix in ("examples", "versions") for name, value in NO_INLINE_ROWS.items()},
    }
    return {**data, **overrides}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def large_invoice_policy(make_policy):
    """A shadow policy denying invoice approvals over 1000."""
    return make_policy(
        name="No large invoices",
        effect=Effect.DENY,
        mode=Mode.SHADOW,
        actions="invoice.approve",
        condition="amount > 1000.0",
    )


@pytest.fixture
def add_example(finance_agent):
    """Give a policy an example request by the Finance agent and the verdict it must get."""

    def add(policy: Policy, request: dict, expected: str, description: str = "") -> PolicyExample:
        return PolicyExample.objects.create(
            policy=policy,
            description=description or f"{request.get('amount')} {request.get('action')} is {expected}",
            agent=finance_agent,
            request=request,
            expected_verdict=expected,
        )

    return add


@pytest.fixture
def passing_examples(large_invoice_policy, add_example) -> list[PolicyExample]:
    return [
        add_example(large_invoice_policy, LARGE_INVOICE, Verdict.DENY),
        add_example(large_invoice_policy, SMALL_INVOICE, Verdict.ALLOW),
    ]


@pytest.fixture
def failing_example(large_invoice_policy, add_example) -> PolicyExample:
    return add_example(large_invoice_policy, SMALL_INVOICE, Verdict.DENY, "small invoices are denied too")


# An example is a valid request.


@pytest.mark.parametrize(
    ("request_json", "message"),
    [
        pytest.param({"action": "Approve!"}, "action: Use dotted lower-case words", id="bad-action"),
        pytest.param({"action": "invoice.approve", "amount": "-5"}, "amount: Ensure", id="negative-amount"),
        pytest.param({"action": "invoice.approve", "amount": "5"}, "currency: Give the currency", id="no-currency"),
        pytest.param({"amount": "5", "currency": "EUR"}, "action: This field is required.", id="no-action"),
        pytest.param(["invoice.approve"], "No data provided", id="not-an-object"),
    ],
)
def test_an_example_with_an_invalid_request_does_not_clean(large_invoice_policy, finance_agent, request_json, message):
    # Given an example whose request an agent could not send
    example = PolicyExample(
        policy=large_invoice_policy,
        description="bad",
        agent=finance_agent,
        request=request_json,
        expected_verdict=Verdict.DENY,
    )

    # When it is cleaned
    with pytest.raises(ValidationError) as invalid:
        example.full_clean()

    # Then the request field says what is wrong
    (error,) = invalid.value.message_dict["request"]
    assert message in error


def test_an_example_with_a_valid_request_cleans(large_invoice_policy, finance_agent):
    example = PolicyExample(
        policy=large_invoice_policy,
        description="ok",
        agent=finance_agent,
        request=LARGE_INVOICE,
        expected_verdict=Verdict.DENY,
    )

    example.full_clean()


# run_examples


def test_a_shadow_policys_examples_run_as_if_it_were_enforced(large_invoice_policy, passing_examples):
    # When the examples of the shadow policy run
    results = run_examples(large_invoice_policy)

    # Then the large invoice is denied as if the policy were enforced, the small one allowed, and both pass
    assert [(r.example, r.verdict, r.passed) for r in results] == [
        (passing_examples[0], Verdict.DENY, True),
        (passing_examples[1], Verdict.ALLOW, True),
    ]


def test_an_example_expecting_another_verdict_fails(large_invoice_policy, failing_example):
    # When the examples run
    (result,) = run_examples(large_invoice_policy)

    # Then the small invoice is allowed, not denied as expected, and the result says so
    assert (result.verdict, result.passed) == (Verdict.ALLOW, False)
    assert "default (allow) stands" in result.explanation


def test_examples_run_against_the_whole_policy_set(make_policy, large_invoice_policy, add_example):
    # Given another enforced policy holding every invoice approval for a supervisor
    make_policy(
        name="Invoices need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        approver_role="Supervisor",
        actions="invoice.approve",
    )
    # And an example of the large-invoice policy expecting a small invoice to be allowed
    add_example(large_invoice_policy, SMALL_INVOICE, Verdict.ALLOW)

    # When the examples run
    (result,) = run_examples(large_invoice_policy)

    # Then the other policy holds it: the example fails with require_approval
    assert (result.verdict, result.passed) == (Verdict.REQUIRE_APPROVAL, False)


def test_a_policy_without_examples_has_no_results(large_invoice_policy):
    assert run_examples(large_invoice_policy) == []


# Enforcing a policy requires its examples to pass.


def test_enforcing_a_policy_whose_example_fails_is_refused(large_invoice_policy, failing_example, carol):
    # When carol tries to enforce the policy
    with pytest.raises(PolicyExamplesFailed) as refused:
        set_policy_mode(large_invoice_policy, Mode.ENFORCE, by=carol)

    # Then the failure names the example, and the policy stays in shadow at version 1
    assert refused.value.failures[0].example == failing_example
    assert "“small invoices are denied too” expected deny, got allow" in str(refused.value)
    large_invoice_policy.refresh_from_db()
    assert (large_invoice_policy.mode, large_invoice_policy.version) == (Mode.SHADOW, 1)


def test_enforcing_a_policy_whose_examples_pass_records_a_new_version(large_invoice_policy, passing_examples, carol):
    # When carol enforces the policy
    set_policy_mode(large_invoice_policy, Mode.ENFORCE, by=carol)

    # Then it is enforced, and version 2 records that, by her
    large_invoice_policy.refresh_from_db()
    version = large_invoice_policy.versions.get(number=2)
    assert (large_invoice_policy.mode, large_invoice_policy.version) == (Mode.ENFORCE, 2)
    assert (version.snapshot["mode"], version.created_by) == ("enforce", carol)


# The admin


def test_the_enforce_action_reports_failing_examples_and_enforces_nothing(
    client, carol, large_invoice_policy, failing_example
):
    # Given carol on the policy list
    client.force_login(carol)

    # When she runs "enforce" on the policy whose example fails
    response = client.post(
        admin_url("changelist"), {"action": "enforce", "_selected_action": [large_invoice_policy.pk]}
    )

    # Then she is told why it was not enforced, and it stays in shadow
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message.startswith("Not enforced: No large invoices: 1 example(s) fail")
    large_invoice_policy.refresh_from_db()
    assert large_invoice_policy.mode == Mode.SHADOW


def test_the_enforce_action_enforces_a_policy_whose_examples_pass(
    client, carol, large_invoice_policy, passing_examples
):
    # Given carol on the policy list
    client.force_login(carol)

    # When she runs "enforce" on the policy whose examples pass
    response = client.post(
        admin_url("changelist"), {"action": "enforce", "_selected_action": [large_invoice_policy.pk]}
    )

    # Then it is enforced and she is told so
    assert messages_of(response) == ["No large invoices is enforced."]
    large_invoice_policy.refresh_from_db()
    assert large_invoice_policy.mode == Mode.ENFORCE


def test_a_change_that_breaks_an_enforced_policys_examples_is_a_form_error(
    client, carol, large_invoice_policy, passing_examples
):
    # Given the policy enforced with its examples passing, and carol on its change form
    set_policy_mode(large_invoice_policy, Mode.ENFORCE)
    large_invoice_policy.refresh_from_db()
    client.force_login(carol)

    # When she raises the threshold above the large invoice of its example
    response = client.post(
        admin_url("change", large_invoice_policy.pk),
        policy_form(large_invoice_policy, condition="amount > 10000.0"),
    )

    # Then the form names the failing example, and neither the policy nor its versions change
    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert "No large invoices: 1 example(s) fail" in error
    assert "expected deny, got allow" in error
    large_invoice_policy.refresh_from_db()
    assert (large_invoice_policy.condition, large_invoice_policy.version) == ("amount > 1000.0", 2)
    assert large_invoice_policy.versions.count() == 2


def test_a_change_that_keeps_an_enforced_policys_examples_passing_is_saved(
    client, carol, large_invoice_policy, passing_examples
):
    # Given the policy enforced with its examples passing, and carol on its change form
    set_policy_mode(large_invoice_policy, Mode.ENFORCE)
    client.force_login(carol)

    # When she raises the threshold to one the large invoice still exceeds
    response = client.post(
        admin_url("change", large_invoice_policy.pk),
        policy_form(large_invoice_policy, condition="amount > 2000.0"),
    )

    # Then the change is saved as version 3
    assert response.status_code == 302
    large_invoice_policy.refresh_from_db()
    assert (large_invoice_policy.condition, large_invoice_policy.version) == ("amount > 2000.0", 3)


def test_a_policy_added_in_the_admin_starts_in_shadow_mode(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves a new deny policy, even posting mode=enforce
    response = client.post(admin_url("add"), policy_form(mode="enforce"))

    # Then it is stored in shadow mode, and its first version says so
    assert response.status_code == 302
    policy = Policy.objects.get(name="No large invoices")
    assert policy.mode == Mode.SHADOW
    assert policy.versions.get().snapshot["mode"] == "shadow"


# manage.py test_policies


def test_test_policies_passes_when_every_example_passes(passing_examples):
    # When every policy's examples run from the command line
    out = StringIO()
    call_command("test_policies", stdout=out)

    # Then it exits normally, listing each example and the total
    lines = out.getvalue().splitlines()
    assert lines[-1] == "All 2 policy examples pass."
    assert sum(line.startswith("ok") for line in lines) == 2


def test_test_policies_fails_when_an_example_fails(passing_examples, failing_example):
    # When every policy's examples run from the command line, one of them failing
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("test_policies", stdout=out)

    # Then it exits non-zero, counting the failure and naming it
    assert failure.value.returncode != 0
    assert str(failure.value) == "1 of 3 policy examples failed."
    failed_line = "FAIL No large invoices / small invoices are denied too: expected deny, got allow"
    assert failed_line in out.getvalue().splitlines()
