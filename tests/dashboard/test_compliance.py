"""Controls and evidence: the control library, the evidence each control's query finds, the page, the CSV, the
signed ZIP for Auditors and the API, each in its viewer's scope.

dave (Auditor) sees everything; alice (Executive) sees the page and the CSV; bob (Supervisor) sees Finance's
evidence only; carol (Policy Admin) and erin (no role) are refused.
"""

import base64
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit import checkpoints
from audit.evidence import public_key_b64
from audit.models import AuditEvent, VerificationRun
from dashboard.compliance import bundle_check
from dashboard.compliance.bundle_check import BundleError, verify_bundle
from dashboard.compliance.library import LIBRARY_PATH, library, parse
from dashboard.compliance.queries import QUERIES
from dashboard.periods import period_for
from governance.approvals import decide_approval
from governance.models import Effect, Mode, Verdict
from governance.outcomes import report_outcome
from governance.overrides import override_decision
from orchestration.entries import save_registry_entry
from orchestration.kill_switch import change_agent_status
from orchestration.models import ModelProvider, Status
from orchestration.roles import Role
from tests.factories import AgentFactory, DecisionFactory, UserFactory

pytestmark = pytest.mark.django_db

FRAMEWORKS = ("eu-ai-act", "nist-ai-rmf", "iso-42001")
HEADER_ROWS = 8  # the heading block, an empty row and the column headings come before the controls
PAGE_QUERIES = 30  # the session, the person and their roles, the filter's departments, then the page's queries


def now_decide(decide, agent, **fields):
    return decide(agent, now=timezone.now(), **fields)


def export_rows(client, user, framework: str, query: str = "period=24h") -> dict[str, list[str]]:
    """The CSV export as the user downloads it: one row per control, by control id."""
    client.force_login(user)
    response = client.get(f"/compliance/{framework}/controls.csv?{query}")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return {row[0]: row for row in rows[HEADER_ROWS:]}


def controls_naming(query: str) -> list[tuple[str, str]]:
    return [(f.slug, c.id) for f in library().frameworks for c in f.controls if c.query == query]


# What each query needs to find something: the records made the way Regent makes them.
def _decision(ctx):
    now_decide(ctx["decide"], ctx["finance_agent"])


def _intervention(ctx):
    ctx["make_policy"](name="No invoices", effect=Effect.DENY, actions="invoice.approve")
    now_decide(ctx["decide"], ctx["finance_agent"])


def _critical(ctx):
    DecisionFactory(agent=ctx["finance_agent"], risk_score=90, created_at=timezone.now())


def _incident(ctx):
    DecisionFactory(agent=ctx["finance_agent"], verdict=Verdict.DENY, created_at=timezone.now())


def _shadow(ctx):
    ctx["make_policy"](name="Trial refusal", effect=Effect.DENY, actions="invoice.approve", mode=Mode.SHADOW)
    now_decide(ctx["decide"], ctx["finance_agent"])


def _policy_change(ctx):
    ctx["make_policy"](name="Big invoices", effect=Effect.FLAG, actions="invoice.approve")


def _approval(ctx):
    held = ctx["hold"](ctx["finance_agent"])
    decide_approval(held.approval.pk, approve=True, by=ctx["bob"], comment="Checked.")


def _override(ctx):
    ctx["make_policy"](name="No invoices", effect=Effect.DENY, actions="invoice.approve")
    denied = now_decide(ctx["decide"], ctx["finance_agent"])
    override_decision(denied.pk, by=ctx["bob"], reason="The supplier is known.")


def _status_change(ctx):
    change_agent_status(ctx["finance_agent"], Status.PAUSED, by=ctx["alice"], reason="Checking its invoices.")


def _outcome(ctx):
    decision = now_decide(ctx["decide"], ctx["finance_agent"])
    report_outcome(decision, "success", reported_by="agent:invoice-bot")


def _checkpoint(ctx):
    now_decide(ctx["decide"], ctx["finance_agent"])
    checkpoints.take()


def _verification(ctx):
    VerificationRun.objects.create(status=VerificationRun.Status.INTACT, finished_at=timezone.now(), checked=1)


def _role_change(ctx):
    UserFactory(username="frank", roles=[Role.SUPERVISOR])


def _agent_registered(ctx):
    AgentFactory(name="Quote Bot", slug="quote-bot", department=ctx["finance_agent"].department)


def _registry_change(ctx):
    save_registry_entry(ModelProvider(name="Mistral EU", kind=ModelProvider.Kind.SIMULATED), by=ctx["carol"])


RECIPES: dict[str, Callable[[dict], None]] = {
    "decisions_recorded": _decision,
    "policy_interventions": _intervention,
    "critical_risk_decisions": _critical,
    "incidents": _incident,
    "shadow_hits": _shadow,
    "provider_shares": _decision,
    "policy_changes": _policy_change,
    "approvals_decided": _approval,
    "overrides": _override,
    "status_changes": _status_change,
    "outcomes_reported": _outcome,
    "audit_events": _decision,
    "checkpoints": _checkpoint,
    "verifications": _verification,
    "role_changes": _role_change,
    "agents_registered": _agent_registered,
    "registry_changes": _registry_change,
}


@pytest.fixture
def ctx(decide, make_policy, hold, finance_agent, alice, bob, carol) -> dict:
    return locals()


def test_the_library_loads_and_every_control_names_a_query_that_exists():
    # Given the control library in the repository
    loaded = library()

    # Then it maps the three frameworks, and each control names a registered query
    assert [framework.slug for framework in loaded.frameworks] == list(FRAMEWORKS)
    for framework in loaded.frameworks:
        assert framework.controls
        for control in framework.controls:
            assert control.query in QUERIES, f"{framework.slug} {control.id}"
            assert control.feature and control.records and control.title


def test_every_query_the_library_names_has_a_recipe_here():
    # Given the queries the library uses
    used = {control.query for framework in library().frameworks for control in framework.controls}

    # Then each has a recipe below, so none goes untested
    assert used <= set(RECIPES)


def test_a_control_naming_a_query_that_does_not_exist_stops_the_start():
    # Given the library with one control's query misspelt
    text = LIBRARY_PATH.read_text().replace('query = "overrides"', 'query = "overides"', 1)

    # When it is loaded, then it is refused, naming the query
    with pytest.raises(ImproperlyConfigured, match="no query named 'overides'"):
        parse(text)


def test_a_partial_control_must_say_what_the_deployer_adds():
    # Given a partial control without the deployer's part
    text = LIBRARY_PATH.read_text()
    start = text.index("deployer_adds =")
    text = text[:start] + text[text.index("\n", start) + 1 :]

    # When it is loaded, then it is refused with the reason
    with pytest.raises(ImproperlyConfigured, match="must say what the deployer adds"):
        parse(text)


@pytest.mark.parametrize("query", sorted(RECIPES))
def test_each_control_lists_evidence_once_its_records_exist(client, ctx, dave, query):
    # Given the records the control's query looks for, made as Regent makes them
    RECIPES[query](ctx)

    # When the auditor exports each framework naming the query
    for slug, control_id in controls_naming(query):
        row = export_rows(client, dave, slug)[control_id]

        # Then the control's row counts records in the period and names the newest
        status, count, newest = row[6], row[7], row[8]
        assert status.startswith("Evidence:"), (slug, control_id, row)
        assert int(count) > 0 and newest, (slug, control_id, row)


def test_a_control_without_records_in_the_period_says_so(client, dave):
    # Given no override was ever recorded
    # When the auditor exports the EU AI Act's controls
    row = export_rows(client, dave, "eu-ai-act")["Art. 14(4)(b)"]

    # Then the control says it has no evidence in this period
    assert (row[6], row[7], row[8]) == ("No evidence in this period", "0", "")


def test_a_partial_control_says_what_the_deployer_must_add(client, dave):
    # When the auditor exports the EU AI Act's controls
    row = export_rows(client, dave, "eu-ai-act")["Art. 73(1)"]

    # Then the serious-incident control is partial, naming the reporting Regent does not do
    assert row[4] == "partial"
    assert "reporting them to the authority" in row[5]


def test_a_supervisors_export_holds_their_departments_evidence_only(
    client, decide, finance_agent, support_agent, bob, make_policy
):
    # Given decisions in Finance and in Customer Support, the latest in Support
    make_policy(name="No invoices", effect=Effect.DENY, actions="invoice.approve")
    finance_decision = now_decide(decide, finance_agent)
    support_decision = now_decide(decide, support_agent)
    assert support_decision.created_at >= finance_decision.created_at

    # When Finance's supervisor exports the EU AI Act's controls
    rows = export_rows(client, bob, "eu-ai-act")
    text = "\n".join(",".join(row) for row in rows.values())

    # Then they count and link Finance's decision only, and organisation-wide records are not theirs
    assert rows["Art. 12(2)"][7] == "1"
    assert rows["Art. 12(2)"][10].endswith(f"/decisions/{finance_decision.pk}/")
    assert f"/decisions/{support_decision.pk}/" not in text
    assert support_agent.name not in text
    assert rows["Art. 26(2)"][6].startswith("Not in your scope")
    assert rows["Art. 26(2)"][7] == ""


def test_an_executive_reads_decisions_evidence_but_not_the_audit_logs_own_records(client, decide, finance_agent, alice):
    # Given a decision in the audit log
    now_decide(decide, finance_agent)

    # When the Executive, who does not read the audit log, exports the ISO/IEC 42001 controls
    rows = export_rows(client, alice, "iso-42001")

    # Then the work done is counted (A.10.3: providers) and the audit log's own records say who reads them
    assert rows["A.10.3"][6] == "Evidence: 1 record"
    assert rows["A.6.2.8"][6] == (
        "Not in your scope. Auditors and Supervisors (people who read the audit log) read these records."
    )


def test_the_page_reads_a_bounded_number_of_queries_however_many_records(
    client, decide, finance_agent, dave, django_assert_max_num_queries
):
    # Given twenty decisions in the period
    for _ in range(20):
        now_decide(decide, finance_agent)
    client.force_login(dave)

    # When the auditor opens the EU AI Act's page, then each query runs once, whatever the records
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert client.get("/compliance/eu-ai-act/").status_code == 200


def test_a_supervisors_export_names_their_scope(client, bob, finance_agent):
    # When Finance's supervisor exports
    client.force_login(bob)
    text = client.get("/compliance/nist-ai-rmf/controls.csv").content.decode()

    # Then the heading names Finance as the scope
    assert "Scope,Finance\r\n" in text


def test_an_auditor_asking_for_one_department_gets_that_departments_evidence(
    client, decide, finance_agent, support_agent, dave
):
    # Given a decision in each department
    now_decide(decide, finance_agent)
    now_decide(decide, support_agent)

    # When the auditor asks for Customer Support only
    rows = export_rows(client, dave, "eu-ai-act", f"period=24h&department={support_agent.department_id}")

    # Then one decision is counted
    assert rows["Art. 12(2)"][7] == "1"


@pytest.mark.parametrize("path", ["/compliance/eu-ai-act/", "/compliance/eu-ai-act/controls.csv", "/compliance/"])
@pytest.mark.parametrize("username", ["carol", "erin"])
def test_people_without_access_are_refused_the_page_and_the_csv(client, carol, erin, path, username):
    # When a Policy Admin or someone without a role asks
    client.force_login({"carol": carol, "erin": erin}[username])

    # Then they are refused
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "erin"])
def test_only_auditors_download_the_zip(client, alice, bob, carol, erin, username):
    # When anyone but an Auditor asks for the ZIP with the evidence pack
    client.force_login({"alice": alice, "bob": bob, "carol": carol, "erin": erin}[username])

    # Then they are refused
    assert client.get("/compliance/eu-ai-act/evidence.zip").status_code == 403


@pytest.mark.parametrize("username", ["alice", "bob", "dave"])
def test_auditors_executives_and_supervisors_open_the_page(client, alice, bob, dave, username):
    # When each of them opens the EU AI Act's page
    client.force_login({"alice": alice, "bob": bob, "dave": dave}[username])
    response = client.get("/compliance/eu-ai-act/")

    # Then it lists every control of the framework
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="control"') == len(library().framework("eu-ai-act").controls)


def test_the_first_framework_opens_from_the_menus_address_with_the_filter_kept(client, dave):
    # When the auditor follows the menu's link with a period
    client.force_login(dave)
    response = client.get("/compliance/?period=7d")

    # Then the first framework opens with the same period
    assert response.status_code == 302
    assert response["Location"] == "/compliance/eu-ai-act/?period=7d"


@pytest.mark.parametrize("username,shown", [("dave", True), ("alice", True), ("bob", True), ("carol", False)])
def test_the_menu_leads_to_controls_for_those_who_may_see_them(client, alice, bob, carol, dave, username, shown):
    # When each person opens the overview
    client.force_login({"alice": alice, "bob": bob, "carol": carol, "dave": dave}[username])
    page = client.get("/").content.decode()

    # Then the menu links to Controls & evidence for those who may read it
    assert ('href="/compliance/"' in page) is shown


def test_an_unknown_framework_is_not_found(client, dave):
    client.force_login(dave)
    assert client.get("/compliance/sox/").status_code == 404


def test_a_period_it_cannot_read_is_a_400_naming_the_field(client, dave):
    # When the auditor asks for a custom period ending before it starts
    client.force_login(dave)
    response = client.get("/compliance/eu-ai-act/?period=custom&start=2026-11-10&end=2026-11-01")

    # Then the page says what is wrong with the dates
    assert response.status_code == 400
    assert "The last day must not be before the first." in response.content.decode()


def _bundle(client, dave) -> bytes:
    client.force_login(dave)
    response = client.get("/compliance/iso-42001/evidence.zip?period=24h")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="regent-controls-iso-42001-')
    return b"".join(response.streaming_content)


def test_the_auditors_zip_verifies_offline_with_the_evidence_pack_of_the_period(client, decide, finance_agent, dave):
    # Given two decisions in the period
    now_decide(decide, finance_agent)
    now_decide(decide, finance_agent)

    # When the auditor downloads the ZIP
    data = _bundle(client, dave)

    # Then the signed manifest, every file and the evidence pack inside verify under the organisation's key
    result = verify_bundle(io.BytesIO(data), public_key_b64())
    assert result["events"] >= 2
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {"controls.csv", "controls.json", "evidence-pack.jsonl", "manifest.json"}


def test_an_altered_zip_is_named(client, decide, finance_agent, dave):
    # Given the auditor's ZIP with its CSV edited afterwards
    now_decide(decide, finance_agent)
    original = zipfile.ZipFile(io.BytesIO(_bundle(client, dave)))
    altered = io.BytesIO()
    with zipfile.ZipFile(altered, "w") as out:
        for name in original.namelist():
            content = original.read(name)
            out.writestr(name, content.replace(b"Evidence:", b"Proven:") if name == "controls.csv" else content)

    # When it is checked, then the edited file is named
    with pytest.raises(BundleError, match=r"controls\.csv does not match"):
        verify_bundle(io.BytesIO(altered.getvalue()), public_key_b64())


def test_the_offline_check_says_valid_or_names_what_does_not_hold(
    client, decide, finance_agent, dave, tmp_path, capsys
):
    # Given the auditor's ZIP saved to a file, and a copy signed by another key
    now_decide(decide, finance_agent)
    path = tmp_path / "bundle.zip"
    path.write_bytes(_bundle(client, dave))
    stranger = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()

    # When it is checked offline against the organisation's key, then against a stranger's
    valid = bundle_check.main([str(path), "--public-key", public_key_b64()])
    invalid = bundle_check.main([str(path), "--public-key", stranger])

    # Then the first says VALID with the events of the pack, the second that the signature does not verify
    output = capsys.readouterr()
    assert (valid, invalid) == (0, 1)
    assert output.out.startswith("VALID: iso-42001 controls for ")
    assert "INVALID: the manifest's signature does not verify with this public key" in output.err


def test_the_api_answers_a_frameworks_controls_with_their_evidence(client, decide, finance_agent, dave):
    # Given a decision in the period
    now_decide(decide, finance_agent)

    # When the auditor asks the API for the NIST AI RMF's controls
    client.force_login(dave)
    body = client.get("/api/v1/controls/nist-ai-rmf?period=24h").json()

    # Then each control comes with its status, and MEASURE 2.8 counts the decision
    assert body["framework"]["slug"] == "nist-ai-rmf"
    controls = {control["id"]: control for control in body["controls"]}
    assert set(controls) == {control.id for control in library().framework("nist-ai-rmf").controls}
    assert (controls["MEASURE 2.8"]["status"], controls["MEASURE 2.8"]["count"]) == ("evidence", 1)


def test_the_api_scopes_a_supervisor_to_their_departments(client, decide, finance_agent, support_agent, bob):
    # Given a decision in each department
    now_decide(decide, finance_agent)
    now_decide(decide, support_agent)

    # When Finance's supervisor asks the API
    client.force_login(bob)
    body = client.get("/api/v1/controls/eu-ai-act").json()

    # Then their scope is Finance and one decision is counted
    controls = {control["id"]: control for control in body["controls"]}
    assert (body["scope"], controls["Art. 12(2)"]["count"]) == ("Finance", 1)


@pytest.mark.parametrize("username", ["carol", "erin"])
def test_the_api_refuses_people_without_access(client, carol, erin, username):
    client.force_login({"carol": carol, "erin": erin}[username])
    assert client.get("/api/v1/controls/eu-ai-act").status_code == 403


def test_the_api_answers_an_unknown_framework_with_404_and_a_bad_period_with_400(client, dave):
    client.force_login(dave)
    assert client.get("/api/v1/controls/sox").status_code == 404
    response = client.get("/api/v1/controls/eu-ai-act?period=forever")
    assert response.status_code == 400
    assert "period" in response.content.decode()


def test_the_audit_logs_events_of_the_period_are_counted_exactly(client, decide, finance_agent, support_agent, dave):
    # Given an event chained now but dated ten days ago, then decisions in two departments in the last hours
    decide(finance_agent, now=timezone.now() - dt.timedelta(days=10))
    now_decide(decide, finance_agent)
    now_decide(decide, support_agent)
    now_decide(decide, finance_agent)
    period = period_for("24h", timezone.now())
    in_period = AuditEvent.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)

    # When the auditor exports the EU AI Act's controls, for everyone and for Finance
    everyone = export_rows(client, dave, "eu-ai-act")["Art. 12(1)"]
    finance = export_rows(client, dave, "eu-ai-act", f"period=24h&department={finance_agent.department_id}")[
        "Art. 12(1)"
    ]

    # Then Art. 12(1) counts exactly the period's events (not the one dated earlier), and Finance's
    assert int(everyone[7]) == in_period.count()
    assert int(finance[7]) == in_period.filter(department=finance_agent.department).count() == 2


def test_evidence_outside_the_period_is_not_counted(client, decide, finance_agent, dave):
    # Given a decision ten days ago and none since
    decide(finance_agent, now=timezone.now() - dt.timedelta(days=10))

    # When the auditor exports the last 24 hours
    row = export_rows(client, dave, "eu-ai-act")["Art. 12(2)"]

    # Then it has no evidence in this period
    assert row[6] == "No evidence in this period"
