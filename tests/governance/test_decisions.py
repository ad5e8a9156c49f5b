"""The decision point: which policies apply to a request, what they decide together, and what is recorded."""

import datetime as dt

import pytest

from governance.models import Approval, Effect, Mode, PolicyVersion, Verdict
from orchestration.models import Status
from tests.factories import AgentFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


# Combining effects: deny > require approval > flag > allow.


@pytest.mark.parametrize(
    ("effects", "verdict"),
    [
        pytest.param([Effect.ALLOW], Verdict.ALLOW, id="allow"),
        pytest.param([Effect.ALLOW, Effect.FLAG], Verdict.FLAG, id="flag-beats-allow"),
        pytest.param([Effect.FLAG, Effect.REQUIRE_APPROVAL], Verdict.REQUIRE_APPROVAL, id="approval-beats-flag"),
        pytest.param(
            [Effect.ALLOW, Effect.FLAG, Effect.REQUIRE_APPROVAL, Effect.DENY], Verdict.DENY, id="deny-beats-all"
        ),
    ],
)
def test_the_strongest_effect_among_fired_policies_decides(make_policy, decide, finance_agent, effects, verdict):
    # Given one firing policy per effect, with the lowest priority on the strongest effect
    for priority, effect in enumerate(reversed(effects)):
        make_policy(effect=effect, approver_role="Supervisor", priority=priority)

    # When the agent acts
    decision = decide(finance_agent)

    # Then the strongest effect is the verdict and every policy is listed as fired
    assert decision.verdict == verdict
    assert sorted(m["effect"] for m in decision.matched_policies) == sorted(effects)


def test_with_no_policy_matching_the_department_default_stands(decide, finance, finance_agent):
    # Given Finance denies what no policy allows
    finance.default_verdict = Verdict.DENY
    finance.save()

    # When its agent acts
    decision = decide(finance_agent)

    # Then the default is the verdict and the explanation says so
    assert decision.verdict == Verdict.DENY
    assert decision.matched_policies == []
    assert "the Finance default (deny) stands" in decision.explanation


def test_an_allow_policy_overrides_a_deny_default(make_policy, decide, finance, finance_agent):
    # Given Finance denies by default, and a policy allows invoice approvals
    finance.default_verdict = Verdict.DENY
    finance.save()
    make_policy(name="Invoices may be approved", effect=Effect.ALLOW, actions="invoice.approve")

    # When its agent approves an invoice
    decision = decide(finance_agent)

    # Then it is allowed
    assert decision.verdict == Verdict.ALLOW


def test_a_shadow_policy_records_what_it_would_do_and_changes_nothing(make_policy, decide, finance_agent):
    # Given a deny policy in shadow mode
    policy = make_policy(name="Trial: no invoices", effect=Effect.DENY, mode=Mode.SHADOW)

    # When the agent acts
    decision = decide(finance_agent)

    # Then the action is allowed, and the decision records that the shadow policy would have denied it
    assert decision.verdict == Verdict.ALLOW
    assert decision.shadow_verdict == Verdict.DENY
    assert [(m["id"], m["mode"]) for m in decision.matched_policies] == [(policy.pk, "shadow")]
    assert "Shadow: would have denied" in decision.explanation


# Scope: a policy touches only the requests it is scoped to.


def test_a_policy_scoped_to_a_department_does_not_touch_another(
    make_policy, decide, finance, finance_agent, support_agent
):
    # Given a deny policy scoped to Finance
    make_policy(departments=[finance])

    # When an agent of each department acts
    finance_decision, support_decision = decide(finance_agent), decide(support_agent)

    # Then only Finance's agent is denied
    assert (finance_decision.verdict, support_decision.verdict) == (Verdict.DENY, Verdict.ALLOW)


def test_a_policy_scoped_to_an_agent_does_not_touch_its_colleagues(make_policy, decide, finance, finance_agent):
    # Given a second Finance agent and a deny policy scoped to the first
    colleague = AgentFactory(name="Ledger Bot", slug="ledger-bot", department=finance)
    make_policy(agents=[finance_agent])

    # When both act
    scoped, other = decide(finance_agent), decide(colleague)

    # Then only the scoped agent is denied
    assert (scoped.verdict, other.verdict) == (Verdict.DENY, Verdict.ALLOW)


def test_a_policy_scoped_to_a_capability_touches_only_agents_holding_it(
    make_policy, decide, finance, finance_agent, approve_invoices
):
    # Given one Finance agent that may approve invoices and one that may not
    finance_agent.capabilities.add(approve_invoices)
    reader = AgentFactory(name="Ledger Reader", slug="ledger-reader", department=finance)
    make_policy(capabilities=[approve_invoices])

    # When both act
    holder, other = decide(finance_agent), decide(reader)

    # Then only the capability holder is denied
    assert (holder.verdict, other.verdict) == (Verdict.DENY, Verdict.ALLOW)


@pytest.mark.parametrize(
    ("actions", "action", "verdict"),
    [
        pytest.param("invoice.approve", "invoice.approve", Verdict.DENY, id="exact-match"),
        pytest.param("invoice.approve", "invoice.pay", Verdict.ALLOW, id="exact-other-action"),
        pytest.param("invoice.*", "invoice.pay", Verdict.DENY, id="glob-match"),
        pytest.param("invoice.*", "invoice", Verdict.ALLOW, id="glob-needs-a-dot"),
        pytest.param("invoice.*", "refund.issue", Verdict.ALLOW, id="glob-other-action"),
        pytest.param("refund.issue, invoice.*", "invoice.approve", Verdict.DENY, id="list-with-glob"),
        pytest.param("invoice.*.approve", "invoice.eu.approve", Verdict.DENY, id="inner-glob-match"),
        pytest.param("invoice.*.approve", "invoice.eu.pay", Verdict.ALLOW, id="inner-glob-other-action"),
        pytest.param("*", "anything.at_all", Verdict.DENY, id="star-matches-all"),
    ],
)
def test_a_policy_applies_only_to_the_actions_it_names(make_policy, decide, finance_agent, actions, action, verdict):
    # Given a deny policy scoped to some actions
    make_policy(actions=actions)

    # When the agent performs an action
    decision = decide(finance_agent, action)

    # Then it is denied only when the policy names that action
    assert decision.verdict == verdict


def test_a_disabled_policy_does_not_apply(make_policy, decide, finance_agent):
    make_policy(enabled=False)

    decision = decide(finance_agent)

    assert decision.verdict == Verdict.ALLOW
    assert decision.policy_versions == []


def test_disabling_a_policy_takes_it_out_of_the_next_decision(make_policy, edit_policy, decide, finance_agent):
    # Given a deny policy that has applied
    policy = make_policy()
    assert decide(finance_agent).verdict == Verdict.DENY

    # When it is disabled
    edit_policy(policy, enabled=False)

    # Then the next request is allowed
    assert decide(finance_agent).verdict == Verdict.ALLOW


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "verdict"),
    [
        pytest.param(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1), Verdict.DENY, id="inside"),
        pytest.param(NOW, None, Verdict.DENY, id="starts-now"),
        pytest.param(NOW + dt.timedelta(minutes=1), None, Verdict.ALLOW, id="not-started"),
        pytest.param(None, NOW - dt.timedelta(minutes=1), Verdict.ALLOW, id="ended"),
        pytest.param(None, NOW, Verdict.ALLOW, id="ends-now"),
    ],
)
def test_a_policy_applies_only_inside_its_validity_window(
    make_policy, decide, finance_agent, valid_from, valid_until, verdict
):
    # Given a deny policy valid for a window
    make_policy(valid_from=valid_from, valid_until=valid_until)

    # When the agent acts at NOW
    decision = decide(finance_agent)

    # Then it is denied only inside the window
    assert decision.verdict == verdict


# Status: a paused or killed agent, or a paused department, may not act whatever the policies say.


@pytest.mark.parametrize(
    ("holder", "status", "reason"),
    [
        pytest.param("agent", Status.PAUSED, "Agent invoice-bot is paused: it may not act.", id="paused-agent"),
        pytest.param("agent", Status.KILLED, "Agent invoice-bot is killed: it may not act.", id="killed-agent"),
        pytest.param(
            "department",
            Status.PAUSED,
            "Department Finance is paused: its agents may not act.",
            id="paused-department",
        ),
    ],
)
def test_an_agent_that_may_not_act_is_denied_with_the_reason(
    make_policy, decide, finance_agent, holder, status, reason
):
    # Given a policy that would allow the action, and an agent or department that is stopped
    make_policy(effect=Effect.ALLOW)
    stopped = finance_agent if holder == "agent" else finance_agent.department
    stopped.status = status
    stopped.save()

    # When the agent acts
    decision = decide(finance_agent, amount=10)

    # Then it is denied, saying why, and nothing is spent
    assert decision.verdict == Verdict.DENY
    assert decision.explanation == reason
    finance_agent.refresh_from_db()
    assert finance_agent.month_spent == 0


# Approvals.


def test_require_approval_opens_a_pending_approval_for_the_policys_role(make_policy, decide, finance_agent):
    # Given a policy that holds large invoices for an Executive, who has 90 minutes to decide
    make_policy(
        effect=Effect.REQUIRE_APPROVAL,
        condition="amount > 1000.0",
        approver_role="Executive",
        approval_deadline_minutes=90,
    )

    # When the agent approves a large invoice
    decision = decide(finance_agent, amount=2500)

    # Then the decision waits on a pending approval for an Executive, due 90 minutes from now
    assert decision.verdict == Verdict.REQUIRE_APPROVAL
    approval = Approval.objects.get(decision=decision)
    assert (approval.status, approval.approver_role) == (Approval.Status.PENDING, "Executive")
    assert approval.deadline == NOW + dt.timedelta(minutes=90)
    assert approval.department == finance_agent.department


# Conditions that cannot be evaluated fail closed.


@pytest.mark.parametrize(
    ("condition", "request_fields", "error"),
    [
        pytest.param('context.region == "eu"', {"context": {}}, "region", id="missing-context-key"),
        pytest.param('data_classes[0] == "pii"', {"data_classes": []}, "index", id="missing-list-element"),
        pytest.param("100 / context.batches > 10", {"context": {"batches": 0}}, "division", id="division-by-zero"),
    ],
)
def test_a_deny_condition_that_cannot_be_evaluated_fires(
    make_policy, decide, finance_agent, condition, request_fields, error
):
    # Given a deny policy whose condition this request cannot satisfy the types of
    policy = make_policy(name="Guard", condition=condition)

    # When the agent acts
    decision = decide(finance_agent, **request_fields)

    # Then the policy counts as fired, and the decision records why it could not be evaluated
    assert decision.verdict == Verdict.DENY
    (matched,) = decision.matched_policies
    assert matched["id"] == policy.pk
    assert error in matched["error"]
    assert "treated as fired" in decision.explanation


def test_an_allow_condition_that_cannot_be_evaluated_does_not_fire(make_policy, decide, finance, finance_agent):
    # Given Finance denies by default, and a policy allows only requests from the EU
    finance.default_verdict = Verdict.DENY
    finance.save()
    make_policy(effect=Effect.ALLOW, condition='context.region == "eu"')

    # When a request comes without a region
    decision = decide(finance_agent, context={})

    # Then the allow does not fire and the default denies
    assert decision.verdict == Verdict.DENY
    assert decision.matched_policies == []


# What a decision records.


def test_a_matched_policy_is_recorded_with_its_id_version_name_effect_and_rationale(
    make_policy, edit_policy, decide, finance_agent
):
    # Given a flag policy at its second version
    policy = make_policy(name="Watch invoices", effect=Effect.FLAG, rationale="Invoices are audited.")
    edit_policy(policy, rationale="Every invoice is audited.")

    # When it fires
    decision = decide(finance_agent)

    # Then the decision names it as it stood
    (matched,) = decision.matched_policies
    assert {key: matched[key] for key in ("id", "version", "name", "effect", "rationale", "mode")} == {
        "id": policy.pk,
        "version": 2,
        "name": "Watch invoices",
        "effect": "flag",
        "rationale": "Every invoice is audited.",
        "mode": "enforce",
    }


def test_a_decision_lists_the_version_of_every_applicable_policy(make_policy, decide, finance_agent, support):
    # Given a policy that fires, one that applies but does not fire, a shadow one, and one for Support only
    fires = make_policy(effect=Effect.FLAG)
    holds_back = make_policy(condition="amount > 1000.0")
    shadow = make_policy(mode=Mode.SHADOW)
    make_policy(departments=[support])

    # When a Finance agent acts
    decision = decide(finance_agent, amount=10)

    # Then the versions of the three that apply to it are recorded, and only those
    applicable = PolicyVersion.objects.filter(policy__in=[fires, holds_back, shadow])
    assert sorted(decision.policy_versions) == sorted(applicable.values_list("pk", flat=True))


def test_the_next_decision_uses_a_policys_newly_recorded_version(make_policy, edit_policy, decide, finance_agent):
    # Given a deny policy that has already decided a request, so the engine has cached it
    policy = make_policy(effect=Effect.DENY)
    first = decide(finance_agent)

    # When it is changed to flag and the change recorded
    edit_policy(policy, effect=Effect.FLAG)
    second = decide(finance_agent)

    # Then the next decision flags, under the new version
    latest = policy.versions.get(number=2)
    assert (first.verdict, second.verdict) == (Verdict.DENY, Verdict.FLAG)
    assert second.policy_versions == [latest.pk]
    assert second.matched_policies[0]["version_id"] == latest.pk
