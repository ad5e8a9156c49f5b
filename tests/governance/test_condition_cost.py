"""A condition's cost is bounded: past the limits it is refused at save, and a request whose data would
make it cost too much gets it failed closed instead of run (the runtime cannot be stopped once it runs)."""

import pytest
from django.urls import reverse

from demo.company import POLICIES
from governance.condition_cost import (
    MAX_LENGTH,
    MAX_LITERAL_ITEMS,
    MAX_MACRO_NESTING,
    MAX_NESTING,
    MAX_STEPS,
    MAX_STRING_LENGTH,
    MAX_TERMS,
)
from governance.conditions import ConditionError, compile_condition
from governance.models import Effect, Policy, Verdict
from tests.support.api import token_client

NUMBERS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
# Issue 18: nested map over a 10-item list, six levels deep. Saving it ran 5.6 s and took a web worker down.
SIX_NESTED_MAPS = "size(" + "".join(f"{NUMBERS}.map(x{d}, " for d in range(1, 7)) + "1" + ")" * 6 + ") > 0"
THIRD_MAP_COLUMN = SIX_NESTED_MAPS.index("map", SIX_NESTED_MAPS.index("map", SIX_NESTED_MAPS.index("map") + 1) + 1) + 1
NO_INLINE_ROWS = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def numbers(count: int) -> str:
    return "[" + ", ".join(str(i) for i in range(count)) + "]"


def nested_exists(items: int) -> str:
    return f"{numbers(items)}.exists(a, {numbers(items)}.exists(b, a * b < 0))"


def terms(count: int) -> str:
    """A condition of exactly `count` terms: a comparison is 3 (two operands and the operator), || and ! are 1."""
    clauses, extra = divmod(count + 1, 4)
    first = "!" * extra + "(amount > 1.0)" if extra else "amount > 1.0"
    return " || ".join([first] + ["amount > 1.0"] * (clauses - 1))


def refusal(source: str) -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)
    return raised.value


# Refused at save, saying which limit and where.


def test_the_nested_maps_of_issue_18_are_refused_at_the_third_macro():
    # When the condition from the issue is compiled
    error = refusal(SIX_NESTED_MAPS)

    # Then it is refused for nesting macros, pointing at the first map past the limit
    assert f"may nest at most {MAX_MACRO_NESTING} deep" in str(error)
    assert (error.line, error.column) == (1, THIRD_MAP_COLUMN)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("amount > 1.0" + " " * (MAX_LENGTH - 11), "characters long; the limit is 2,000", id="length"),
        pytest.param("(" * 9 + "amount" + ")" * 9 + " > 1.0", "nest more than 8 deep", id="nesting"),
        pytest.param(f"agent.risk_tier in {numbers(101)}", "list of more than 100 items", id="list"),
        pytest.param(
            "{" + ", ".join(f'"k{i}": {i}' for i in range(101)) + "}.size() > 0", "map of more than 100", id="map"
        ),
        pytest.param(f'resource == "{"x" * 257}"', "A string of 257 characters", id="string"),
        pytest.param(terms(MAX_TERMS + 1), "more than 300 terms", id="terms"),
        pytest.param(nested_exists(40), "evaluation steps; the limit is 10,000", id="steps"),
        pytest.param(r'resource.matches("^\\w+/\\w+$")', "compiling this matches() pattern", id="pattern"),
        pytest.param("resource.matches(context.pattern)", "pattern written as a string literal", id="pattern-input"),
    ],
)
def test_a_condition_past_a_limit_is_refused_naming_it(source, message):
    assert message in str(refusal(source))


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("amount > 1.0" + " " * (MAX_LENGTH - 12), id="length"),
        pytest.param("(" * MAX_NESTING + "amount" + ")" * MAX_NESTING + " > 1.0", id="nesting"),
        pytest.param(f"{NUMBERS}.exists(a, {NUMBERS}.all(b, a + b >= 0))", id="macros-two-deep"),
        pytest.param(f"agent.risk_tier in {numbers(MAX_LITERAL_ITEMS)}", id="list"),
        pytest.param("{" + ", ".join(f'"k{i}": {i}' for i in range(MAX_LITERAL_ITEMS)) + "}.size() > 0", id="map"),
        pytest.param(f'resource == "{"x" * MAX_STRING_LENGTH}"', id="string"),
        pytest.param(terms(MAX_TERMS), id="terms"),
        pytest.param(r'resource.matches("^\\w+/[0-9]+$")', id="one-unicode-class"),
        pytest.param('resource.matches("^[A-Za-z0-9_]+/[A-Za-z0-9_]+$")', id="ascii-classes"),
    ],
)
def test_a_condition_at_a_limit_is_accepted(source):
    compiled = compile_condition(source)

    assert compiled.cost.assumed_steps <= MAX_STEPS


def test_the_most_steps_allowed_are_accepted_and_one_more_item_is_refused():
    # Given the longest lists for which two nested exists are accepted
    items = max(n for n in range(1, MAX_LITERAL_ITEMS) if _accepted(nested_exists(n)))

    # Then that condition is close to the limit, and one more item in each list takes it past
    assert compile_condition(nested_exists(items)).cost.assumed_steps > 0.9 * MAX_STEPS
    assert "evaluation steps" in str(refusal(nested_exists(items + 1)))


def _accepted(source: str) -> bool:
    try:
        compile_condition(source)
    except ConditionError:
        return False
    return True


@pytest.mark.parametrize("spec", POLICIES, ids=lambda spec: spec["name"])
def test_every_demo_condition_is_well_within_the_limits(spec):
    assert compile_condition(spec["condition"]).cost.assumed_steps <= MAX_STEPS // 10


# Where a Policy Admin saves: the admin form and the API.


def policy_form(**overrides) -> dict:
    data = {
        "name": "Nested maps",
        "rationale": "From issue 18.",
        "enabled": "on",
        "mode": "enforce",
        "priority": "100",
        "risk_weight": "10",
        "actions": "invoice.approve",
        "condition": SIX_NESTED_MAPS,
        "effect": Effect.DENY,
        "approval_deadline_minutes": "240",
        **{f"{field}_{part}": "" for field in ("valid_from", "valid_until") for part in (0, 1)},
        **{f"{prefix}-{name}": value for prefix in ("examples", "versions") for name, value in NO_INLINE_ROWS.items()},
    }
    return {**data, **overrides}


def test_the_admin_refuses_the_nested_maps_as_a_condition_error(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves the condition from the issue
    response = client.post(reverse("admin:governance_policy_add"), policy_form())

    # Then the form comes back with the limit on the condition field, and nothing is stored
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["condition"]
    assert f"may nest at most {MAX_MACRO_NESTING} deep" in message
    assert f"(line 1, column {THIRD_MAP_COLUMN})" in message
    assert not Policy.objects.exists()


def test_the_admin_saves_a_condition_at_the_limits(client, carol):
    # Given carol on the policy add form
    client.force_login(carol)

    # When she saves two macros nested as deep as allowed
    condition = f"{NUMBERS}.exists(a, {NUMBERS}.exists(b, a * b == 81))"
    response = client.post(reverse("admin:governance_policy_add"), policy_form(condition=condition))

    # Then the policy is stored with that condition
    assert response.status_code == 302
    assert Policy.objects.get().condition == condition


def test_the_api_refuses_the_nested_maps_with_a_field_message(carol):
    # When carol creates a policy with the condition from the issue
    body = {"name": "Nested maps", "rationale": "r", "effect": "deny", "condition": SIX_NESTED_MAPS}
    response = token_client(carol).post("/api/v1/policies", body, format="json")

    # Then she is told what is wrong with the condition, and nothing is stored
    assert response.status_code == 400
    (message,) = response.json()["fields"]["condition"]
    assert f"may nest at most {MAX_MACRO_NESTING} deep" in message
    assert not Policy.objects.exists()


def test_the_api_refuses_a_costly_change_to_an_existing_policy(carol, make_policy):
    # Given a policy with a cheap condition
    policy = make_policy(condition="amount > 1000.0")

    # When carol changes it to two nested macros over lists too long for the limit
    response = token_client(carol).patch(
        f"/api/v1/policies/{policy.pk}", {"condition": nested_exists(40)}, format="json"
    )

    # Then the change is refused with the estimate, and the policy keeps its condition and version
    assert response.status_code == 400
    assert "evaluation steps; the limit is 10,000" in response.json()["fields"]["condition"][0]
    policy.refresh_from_db()
    assert (policy.condition, policy.version) == ("amount > 1000.0", 1)


# On each request: past the limit on this request's data, a condition fails closed without running.


def test_a_guard_that_would_cost_too_much_on_this_request_fails_closed_and_says_why(make_policy, decide, finance_agent):
    # Given a deny policy that copies a list from the request for each item in it
    policy = make_policy(name="Guard", condition="size(context.items.map(i, i)) > 1000")

    # When a request brings a list long enough to take that past the limit
    decision = decide(finance_agent, context={"items": [f"item-{i}" for i in range(500)]})

    # Then the policy counts as fired, and the decision records that it was not run, and why
    assert decision.verdict == Verdict.DENY
    (matched,) = decision.matched_policies
    assert matched["id"] == policy.pk
    assert "would take about" in matched["error"]
    assert f"(limit {MAX_STEPS:,})" in matched["error"]
    assert "treated as fired" in decision.explanation


def test_the_same_guard_runs_on_a_request_with_little_data(make_policy, decide, finance_agent):
    # Given the same deny policy
    make_policy(name="Guard", condition="size(context.items.map(i, i)) > 1000")

    # When a request brings a short list
    decision = decide(finance_agent, context={"items": ["a", "b", "c"]})

    # Then the condition runs, and is false
    assert decision.verdict == Verdict.ALLOW
    assert decision.matched_policies == []


def test_an_allow_that_would_cost_too_much_does_not_fire(make_policy, decide, finance, finance_agent):
    # Given Finance denies by default, and an allow policy over a list from the request
    finance.default_verdict = Verdict.DENY
    finance.save()
    make_policy(effect=Effect.ALLOW, condition='context.items.map(i, i + "!").exists(i, i == "ok!")')

    # When a request brings a list long enough to take it past the limit
    decision = decide(finance_agent, context={"items": ["ok"] * 500})

    # Then the allow does not fire and the default denies
    assert decision.verdict == Verdict.DENY
    assert decision.matched_policies == []


def test_only_the_data_a_condition_reads_counts_against_its_limit(make_policy, decide, finance_agent):
    # Given a deny policy on the request's data classes
    make_policy(name="No health data", condition='data_classes.exists(c, c == "health")')

    # When a request without health data brings a large context as well
    decision = decide(finance_agent, data_classes=["pii"], context={"items": [f"item-{i}" for i in range(3000)]})

    # Then the condition runs on the data classes alone, and does not fire
    assert decision.verdict == Verdict.ALLOW
    assert decision.matched_policies == []


def test_a_condition_stored_before_the_limits_fails_closed_without_running(make_policy, decide, finance_agent):
    # Given a deny policy whose condition was stored before the limits existed (recorded past validation)
    make_policy(name="Old guard", condition=SIX_NESTED_MAPS)

    # When the agent acts
    decision = decide(finance_agent, amount=10)

    # Then the condition is not run: the policy counts as fired, with the reason recorded
    assert decision.verdict == Verdict.DENY
    (matched,) = decision.matched_policies
    assert "refused at save today" in matched["error"]
    assert f"nest at most {MAX_MACRO_NESTING} deep" in matched["error"]
