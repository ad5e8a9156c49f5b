"""Leaders' controls over HTTP: pause, resume and kill from an agent's page, pause and resume from a
department's page, each confirmed with a mandatory reason that the audit chain keeps with who did it.

alice is an Executive and carol a Policy Admin (pause, resume, kill); bob supervises Finance (pause and resume
there); dave is an Auditor and erin holds no role (neither may change anything).
"""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from dashboard.controls import REASON_REQUIRED
from orchestration.models import Agent, Department, Status
from tests.support.workflows import run

pytestmark = pytest.mark.django_db

REASON = "Paying invoices twice since the 10:00 release"


def agent_status_url(agent: Agent) -> str:
    return reverse("dashboard:agent-status", args=[agent.pk])


def department_status_url(department: Department) -> str:
    return reverse("dashboard:department-status", args=[department.pk])


def offered(html: str) -> list[str]:
    """The statuses the page offers, one button (and one confirmation dialog) each."""
    return re.findall(r'data-dialog="confirm-(\w+)"', html)


def status_events(kind: str, pk: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=f"{kind}.status_changed", subject_id=str(pk)).order_by("seq"))


@pytest.mark.parametrize(
    ("username", "agent_buttons", "department_buttons"),
    [
        ("alice", ["paused", "killed"], ["paused"]),
        ("bob", ["paused"], ["paused"]),
        ("carol", ["paused", "killed"], ["paused"]),
        ("dave", [], []),
    ],
)
def test_each_role_sees_the_buttons_the_readme_grants(
    client, request, username, agent_buttons, department_buttons, finance_agent, finance
):
    client.force_login(request.getfixturevalue(username))

    agent_page = client.get(reverse("dashboard:agent", args=[finance_agent.pk])).content.decode()
    department_page = client.get(reverse("dashboard:department", args=[finance.pk])).content.decode()

    assert offered(agent_page) == agent_buttons
    assert offered(department_page) == department_buttons


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_a_leader_pauses_an_agent_with_a_reason_and_the_chain_keeps_who_and_why(
    client, request, username, finance_agent
):
    person = request.getfixturevalue(username)
    client.force_login(person)

    response = client.post(agent_status_url(finance_agent), {"status": "paused", "reason": REASON})

    assert response.status_code == 302 and response["Location"] == reverse("dashboard:agent", args=[finance_agent.pk])
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.PAUSED
    (event,) = status_events("agent", finance_agent.pk)
    assert (event.actor, event.before, event.after) == (
        person,
        {"status": "active"},
        {"status": "paused", "reason": REASON},
    )


@pytest.mark.parametrize("username", ["alice", "carol"])
def test_an_executive_or_policy_admin_kills_an_agent_with_a_reason(client, request, username, finance_agent):
    person = request.getfixturevalue(username)
    client.force_login(person)

    client.post(agent_status_url(finance_agent), {"status": "killed", "reason": REASON})

    assert Agent.objects.get(pk=finance_agent.pk).status == Status.KILLED
    assert [(e.actor, e.after) for e in status_events("agent", finance_agent.pk)] == [
        (person, {"status": "killed", "reason": REASON})
    ]


@pytest.mark.parametrize(
    ("username", "status"),
    [("dave", "paused"), ("bob", "killed"), ("dave", "killed")],
)
def test_a_role_that_may_not_is_refused_with_403_before_any_reason_is_asked(
    client, request, username, status, finance_agent
):
    client.force_login(request.getfixturevalue(username))

    with_reason = client.post(agent_status_url(finance_agent), {"status": status, "reason": REASON})
    without = client.post(agent_status_url(finance_agent), {"status": status})
    confirm_page = client.get(agent_status_url(finance_agent), {"status": status})

    assert (with_reason.status_code, without.status_code, confirm_page.status_code) == (403, 403, 403)
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE
    assert status_events("agent", finance_agent.pk) == []


def test_a_supervisor_may_not_revive_a_killed_agent(client, bob, finance_agent):
    Agent.objects.filter(pk=finance_agent.pk).update(status=Status.KILLED)
    client.force_login(bob)

    response = client.post(agent_status_url(finance_agent), {"status": "active", "reason": REASON})

    assert response.status_code == 403
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.KILLED


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_change_without_a_reason_is_a_400_with_the_message_at_the_field(client, alice, finance_agent, reason):
    client.force_login(alice)
    data = {"status": "paused"} if reason is None else {"status": "paused", "reason": reason}

    response = client.post(agent_status_url(finance_agent), data)

    assert response.status_code == 400
    html = response.content.decode()
    field_error = re.search(r'<p class="error field-error" id="reason-error-paused"[^>]*>([^<]*)</p>', html)
    assert field_error and field_error.group(1) == REASON_REQUIRED
    assert 'aria-invalid="true"' in html
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE
    assert status_events("agent", finance_agent.pk) == []


def test_the_confirm_page_says_exactly_what_will_happen(client, alice, finance_agent):
    run(finance_agent)
    run(finance_agent)
    run(finance_agent)
    client.force_login(alice)

    pause = client.get(agent_status_url(finance_agent), {"status": "paused"}).content.decode()
    kill = client.get(agent_status_url(finance_agent), {"status": "killed"}).content.decode()

    assert "Pause Invoice Bot?" in pause
    assert "It will stop acting now" in pause and "3 unfinished workflow steps" in pause
    assert "Kill Invoice Bot?" in kill and "its 3 unfinished workflow steps fail" in kill
    assert 'name="reason"' in pause and "required" in pause
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE  # asking is not doing


def test_the_agent_page_shows_its_status_history_with_who_and_why(client, alice, bob, finance_agent):
    client.force_login(bob)
    client.post(agent_status_url(finance_agent), {"status": "paused", "reason": REASON})
    client.force_login(alice)
    client.post(agent_status_url(finance_agent), {"status": "active", "reason": "Fixed by the 11:00 release"})

    html = client.get(reverse("dashboard:agent", args=[finance_agent.pk])).content.decode()

    history = html[html.index('data-testid="status-history"') :]
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", history)
    assert rows == [("Paused → Active", "alice", "Fixed by the 11:00 release"), ("Active → Paused", "bob", REASON)]


# --- departments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_a_leader_pauses_and_resumes_a_department_with_reasons(client, request, username, finance, finance_agent):
    person = request.getfixturevalue(username)
    client.force_login(person)

    paused = client.post(department_status_url(finance), {"status": "paused", "reason": REASON})
    stopped = Department.objects.get(pk=finance.pk).status
    client.post(department_status_url(finance), {"status": "active", "reason": "Back to normal"})

    assert paused.status_code == 302 and stopped == Status.PAUSED
    assert Department.objects.get(pk=finance.pk).status == Status.ACTIVE
    assert [(e.actor, e.after) for e in status_events("department", finance.pk)] == [
        (person, {"status": "paused", "reason": REASON}),
        (person, {"status": "active", "reason": "Back to normal"}),
    ]
    page = client.get(reverse("dashboard:department", args=[finance.pk])).content.decode()
    assert "Back to normal" in page and REASON in page


def test_a_department_is_not_killed_from_its_page(client, alice, finance):
    client.force_login(alice)

    response = client.post(department_status_url(finance), {"status": "killed", "reason": REASON})

    assert response.status_code == 403
    assert Department.objects.get(pk=finance.pk).status == Status.ACTIVE


def test_an_auditor_may_not_pause_a_department(client, dave, finance):
    client.force_login(dave)

    response = client.post(department_status_url(finance), {"status": "paused", "reason": REASON})

    assert response.status_code == 403
    assert status_events("department", finance.pk) == []


def test_someone_without_a_role_sees_no_agent_or_department_to_change(client, erin, finance, finance_agent):
    client.force_login(erin)

    agent = client.post(agent_status_url(finance_agent), {"status": "paused", "reason": REASON})
    department = client.post(department_status_url(finance), {"status": "paused", "reason": REASON})

    assert (agent.status_code, department.status_code) == (404, 404)
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE
    assert Department.objects.get(pk=finance.pk).status == Status.ACTIVE


def test_a_supervisor_cannot_reach_another_departments_controls(client, bob, support):
    client.force_login(bob)

    assert client.get(reverse("dashboard:department", args=[support.pk])).status_code == 404
    assert client.post(department_status_url(support), {"status": "paused", "reason": REASON}).status_code == 404
    assert Department.objects.get(pk=support.pk).status == Status.ACTIVE


def test_pausing_a_department_without_a_reason_is_a_400_and_changes_nothing(client, alice, finance):
    client.force_login(alice)

    response = client.post(department_status_url(finance), {"status": "paused", "reason": ""})

    assert response.status_code == 400 and REASON_REQUIRED in response.content.decode()
    assert Department.objects.get(pk=finance.pk).status == Status.ACTIVE
    assert status_events("department", finance.pk) == []


def test_the_department_confirmation_counts_its_agents_and_their_steps(client, alice, finance, finance_agent):
    run(finance_agent)
    client.force_login(alice)

    html = client.get(department_status_url(finance), {"status": "paused"}).content.decode()

    assert "Pause Finance?" in html
    assert "Its 1 agent will stop acting now" in html and "1 unfinished workflow step;" in html


def test_the_confirmation_says_so_when_no_work_is_under_way(client, alice, finance_agent):
    client.force_login(alice)

    pause = client.get(agent_status_url(finance_agent), {"status": "paused"}).content.decode()
    kill = client.get(agent_status_url(finance_agent), {"status": "killed"}).content.decode()

    assert "It has no unfinished workflow steps." in pause
    assert "It stops at once: calls to its provider under way are stopped" in kill
