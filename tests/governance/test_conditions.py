"""A condition is checked when a policy is saved: what is wrong is named, with where it is."""

import pytest

from governance.conditions import ConditionError, compile_condition


def test_a_syntax_error_is_rejected_with_its_line_and_column():
    # Given a condition whose second line has one ">" too many
    source = 'action == "invoice.approve" &&\n  amount > > 1000.0'

    # When it is compiled
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)

    # Then the error is a syntax error pointing at the second ">"
    assert "Syntax error" in str(raised.value)
    assert (raised.value.line, raised.value.column) == (2, 12)
    assert str(raised.value).endswith("(line 2, column 12)")


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        pytest.param('action == "invoice.approve" && amout > 100.0', "Unknown name 'amout'", 1, 32, id="name"),
        pytest.param("amount > 100.0 &&\nis_weekend(now)", "Unknown function 'is_weekend'", 2, 1, id="function"),
        pytest.param(
            "agent.risk_tier >= 3 || agent.tierr > 1", "Unknown attribute 'agent.tierr'", 1, 31, id="attribute"
        ),
        pytest.param(
            'department.region == "eu"', "Unknown attribute 'department.region'", 1, 12, id="department-attribute"
        ),
    ],
)
def test_an_unknown_identifier_is_rejected_with_its_position(source, message, line, column):
    # When a condition naming something the engine does not provide is compiled
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)

    # Then the error names it and says where it is
    assert message in str(raised.value)
    assert (raised.value.line, raised.value.column) == (line, column)


def test_adding_an_int_to_the_double_amount_is_rejected_as_a_type_error():
    with pytest.raises(ConditionError, match=r"cannot be evaluated: .*float \+ int"):
        compile_condition("amount + 1 > 100.0")


@pytest.mark.parametrize("source", ["amount * 2.0", '"yes"', "data_classes"])
def test_a_condition_that_is_not_true_or_false_is_rejected(source):
    with pytest.raises(ConditionError, match="not true or false"):
        compile_condition(source)


def test_a_division_by_zero_is_rejected():
    with pytest.raises(ConditionError, match="division by zero"):
        compile_condition("amount > 0.0 && 100 / 0 > 1")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('data_classes.exists(c, c == "pii")', id="exists-macro"),
        pytest.param('data_classes.all(c, c != "health") && size(data_classes) < 3', id="all-macro"),
        pytest.param('has(context.region) && context.region == "eu"', id="has-macro"),
        pytest.param("now.getHours() < 8 || now.getHours() >= 18", id="clock"),
        pytest.param('agent.risk_tier >= 3 && department.slug == "finance"', id="attributes"),
        pytest.param('resource == "agent.tierr"', id="names-in-strings-are-text"),
        pytest.param('context.agent.tier == "gold"', id="context-keys-are-free-form"),
        pytest.param('data_classes[1] == "health"', id="list-element-the-sample-lacks"),
    ],
)
def test_a_valid_condition_compiles_without_stateful_functions(source):
    # When a condition using only the request is compiled
    compiled = compile_condition(source)

    # Then it compiles and needs no spend or counts from the database
    assert compiled.source == source
    assert compiled.functions == frozenset()


@pytest.mark.parametrize(
    ("source", "functions"),
    [
        pytest.param("agent_spend_month() + amount > agent.monthly_budget", {"agent_spend_month"}, id="agent-spend"),
        pytest.param(
            "department_spend_month() > 5000.0 || agent_actions_last_hour() >= 20",
            {"department_spend_month", "agent_actions_last_hour"},
            id="department-spend-and-rate",
        ),
    ],
)
def test_a_condition_reports_the_stateful_functions_it_uses(source, functions):
    assert compile_condition(source).functions == functions
