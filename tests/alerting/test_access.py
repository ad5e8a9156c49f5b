"""Who writes rules and who sees alerts: Policy Admins write rules (admin and API) and get field messages for bad
ones; everyone with a role reads the alerts of their scope (API and page); a Supervisor only their departments'."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alerting.evaluation import evaluate_rules
from alerting.models import AlertRule
from audit.models import AuditEvent, VerificationRun
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from tests.support.clock import NOW

Kind = AlertRule.Kind


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        pytest.param(
            {"kind": "budget"},
            {
                "level": "Say whether to watch each agent's budget or each department's.",
                "threshold": "Give the percent of the monthly budget that fires the alert, such as 80 or 100.",
            },
            id="budget-without-level-or-threshold",
        ),
        pytest.param(
            {"kind": "violation_rate", "threshold": "0.5", "minimum_volume": 20, "window_hours": 1, "baseline_days": 7},
            {"threshold": "Give a factor above 1: the rate must be this many times its baseline."},
            id="factor-below-one",
        ),
        pytest.param(
            {"kind": "risk_appetite", "minimum_volume": 10, "window_hours": 500},
            {"window_hours": "Give the hours to look at, from 1 to 168."},
            id="window-too-long",
        ),
        pytest.param(
            {"kind": "kill_switch", "threshold": "3"},
            {"threshold": "A rule for kill switch used does not use this: leave it empty."},
            id="unused-parameter",
        ),
        pytest.param(
            {"kind": "approvals_waiting"},
            {"threshold": "Give how many waiting approvals fire the alert, or the minutes the oldest may wait."},
            id="approvals-without-count-or-minutes",
        ),
        pytest.param(
            {"kind": "approvals_waiting", "threshold": "2.5"},
            {"threshold": "Give a whole number of waiting approvals, 1 or more."},
            id="fractional-count",
        ),
        pytest.param({"kind": "weather"}, {"kind": '"weather" is not a valid choice.'}, id="unknown-kind"),
    ],
)
def test_a_bad_rule_is_a_400_naming_each_field_to_change(carol, body, messages):
    # When carol (Policy Admin) posts a rule that cannot work
    response = api(carol).post("/api/v1/alert-rules", {"name": "Bad", **body}, format="json")

    # Then it is refused with a message on each field, and nothing is saved
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {name: fields[name] for name in messages} == {name: [text] for name, text in messages.items()}
    assert not AlertRule.objects.exists()


def test_an_audit_chain_rule_naming_departments_is_refused(carol, finance):
    response = api(carol).post(
        "/api/v1/alert-rules", {"name": "Chain", "kind": "audit_chain", "departments": [finance.pk]}, format="json"
    )

    assert response.status_code == 400
    assert "leave the departments empty" in str(response.json())


def test_a_policy_admin_writes_a_rule_and_the_change_is_audited(carol, finance):
    # When carol writes an 80% budget rule for Finance's agents, then changes it to pro rata
    created = api(carol).post(
        "/api/v1/alert-rules",
        {"name": "Agents at 80%", "kind": "budget", "level": "agent", "threshold": "80", "departments": [finance.pk]},
        format="json",
    )
    changed = api(carol).patch(f"/api/v1/alert-rules/{created.json()['id']}", {"pro_rata": True}, format="json")

    # Then the rule is kept as written and both changes are in the audit log under her name
    assert (created.status_code, changed.status_code) == (201, 200)
    rule = AlertRule.objects.get()
    assert (rule.threshold, rule.pro_rata, rule.created_by, list(rule.departments.all())) == (
        80,
        True,
        carol,
        [finance],
    )
    kinds = list(AuditEvent.objects.filter(subject_type="alert_rule").values_list("kind", "actor__username"))
    assert kinds == [("alert_rule.created", "carol"), ("alert_rule.changed", "carol")]


def test_a_change_that_breaks_a_rule_is_refused(carol, make_rule):
    rule = make_rule(Kind.BUDGET, level="agent", threshold=80)

    response = api(carol).patch(f"/api/v1/alert-rules/{rule.pk}", {"level": ""}, format="json")

    assert response.status_code == 400
    assert "level" in str(response.json())


@pytest.mark.parametrize("person", ["bob", "alice", "dave"])
def test_only_policy_admins_write_rules(request, person):
    response = api(request.getfixturevalue(person)).post(
        "/api/v1/alert-rules", {"name": "Kills", "kind": "kill_switch"}, format="json"
    )

    assert response.status_code == 403


def test_the_admin_form_names_the_field_to_change(client, carol):
    # When carol submits a violation rate rule without its baseline in the admin
    client.force_login(carol)
    form = {"name": "Violations", "kind": "violation_rate", "enabled": "on", "threshold": "2", "minimum_volume": "20"}
    form |= {"window_hours": "1", "throttle_minutes": "60"}
    response = client.post(reverse("admin:alerting_alertrule_add"), form)

    # Then the form comes back with the message on that field and nothing is saved
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["baseline_days"] == ["Give the days before the window that make the baseline, from 1 to 30."]
    assert not AlertRule.objects.exists()


def test_the_admin_saves_a_good_rule_and_audits_it(client, carol, finance):
    client.force_login(carol)
    form = {
        "name": "Kills",
        "kind": "kill_switch",
        "enabled": "on",
        "throttle_minutes": "60",
        "departments": [finance.pk],
    }

    response = client.post(reverse("admin:alerting_alertrule_add"), form)

    assert response.status_code == 302
    assert AuditEvent.objects.filter(kind="alert_rule.created", actor=carol).exists()


@pytest.fixture
def alerts_everywhere(make_rule, finance_agent, support_agent, alice):
    """Open alerts for a Finance agent, a Customer Support agent and the organisation's audit log."""
    make_rule(Kind.KILL_SWITCH, name="Kill switch used")
    make_rule(Kind.AUDIT_CHAIN, name="Audit log broken")
    for agent in (finance_agent, support_agent):
        change_agent_status(agent, Status.KILLED, by=alice, reason="Test")
    VerificationRun.objects.create(status="broken", finished_at=NOW, broken_seq=3, findings=["Event 3 was changed."])
    evaluate_rules(NOW)


def test_a_supervisor_reads_only_their_departments_alerts_in_the_api(alerts_everywhere, bob, alice):
    # When bob (Finance's Supervisor) and alice (Executive) list the alerts
    bobs = api(bob).get("/api/v1/alerts?status=open").json()["results"]
    alices = api(alice).get("/api/v1/alerts?status=open").json()["results"]

    # Then bob reads Finance's alone; alice reads all three
    assert [a["subject_name"] for a in bobs] == ["Invoice Bot"]
    assert sorted(a["subject_name"] for a in alices) == ["Invoice Bot", "Reply Bot", "The organisation"]


def test_a_supervisor_cannot_open_another_departments_alert(alerts_everywhere, bob, support_agent):
    from alerting.models import Alert

    other = Alert.objects.get(subject_id=support_agent.pk, subject_type="agent")

    assert api(bob).get(f"/api/v1/alerts/{other.pk}").status_code == 404


def test_the_alerts_page_lists_a_supervisors_alerts_only(client, alerts_everywhere, bob):
    # When bob opens the alerts page
    client.force_login(bob)
    page = client.get("/alerts/").content.decode()

    # Then he reads Finance's alert in words, and neither Customer Support's nor the audit log's
    assert "Invoice Bot (Finance) was stopped with the kill switch." in page
    assert "Reply Bot" not in page and "audit log failed" not in page


def test_the_lists_the_live_page_fetches_hold_a_supervisors_alerts_only(client, alerts_everywhere, bob, alice):
    # When bob, then alice, fetch the lists the open page re-reads on a live event
    client.force_login(bob)
    bobs = client.get("/alerts/sections/")
    client.force_login(alice)
    alices = client.get("/alerts/sections/").content.decode()

    # Then bob's hold Finance's alert alone, never cached; alice's hold all three
    assert bobs.status_code == 200 and "no-cache" in bobs["Cache-Control"]
    assert bobs.content.decode().count('data-testid="open-alert"') == 1
    assert "Reply Bot" not in bobs.content.decode() and "audit log failed" not in bobs.content.decode()
    assert alices.count('data-testid="open-alert"') == 3


def test_the_live_lists_need_a_role_and_a_login(client, alerts_everywhere, erin):
    assert client.get("/alerts/sections/").status_code == 302
    client.force_login(erin)
    assert client.get("/alerts/sections/").status_code == 403


def test_the_overview_panel_and_the_menu_show_the_open_alerts(client, alerts_everywhere, alice):
    client.force_login(alice)

    page = client.get("/").content.decode()

    assert 'data-testid="alerts-panel-count">3<' in page
    assert 'href="/alerts/"' in page


def test_people_without_a_role_get_no_alerts(client, alerts_everywhere, erin):
    client.force_login(erin)

    assert client.get("/alerts/").status_code == 403
    assert api(erin).get("/api/v1/alerts").status_code == 403


def test_a_supervisor_reads_only_the_rules_on_their_departments(client, make_rule, bob, finance, support):
    # Given rules on Finance, on Customer Support and on the whole organisation
    make_rule(Kind.KILL_SWITCH, name="Finance kills", departments=[finance])
    make_rule(Kind.KILL_SWITCH, name="Support kills", departments=[support])
    make_rule(Kind.KILL_SWITCH, name="Every kill")
    bob.is_staff = True
    bob.save()
    client.force_login(bob)

    # When bob (Finance's Supervisor) lists them in the API and in the admin
    listed = [rule["name"] for rule in api(bob).get("/api/v1/alert-rules").json()["results"]]
    page = client.get(reverse("admin:alerting_alertrule_changelist")).content.decode()

    # Then he reads Finance's rule alone
    assert listed == ["Finance kills"]
    assert "Finance kills" in page and "Support kills" not in page and "Every kill" not in page
