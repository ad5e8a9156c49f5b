"""One definition per term, said the same in the README's glossary, behind each tile's "?" and at the end of the
board pack; and the board pack, its PDF and its CSV in the business's words, never the codes they are stored as."""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from dashboard.board import DEFINED_TERMS
from dashboard.glossary import TERMS, forget_capabilities
from governance.models import Approval, Verdict
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from tests.factories import CapabilityFactory, DecisionFactory

README = Path(__file__).resolve().parents[2] / "README.md"
CODES = ("payment.refused", "payment.execute", "require_approval", "Supervisor<", "user:bob", "set to paused")


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("key", TERMS)
def test_the_readme_glossary_says_each_term_in_the_glossarys_own_words(key):
    term = TERMS[key]

    assert f"- **{term.label}**: {term.definition}" in one_line(README.read_text())


@pytest.mark.django_db
def test_the_board_pack_ends_with_the_definitions_of_the_terms_it_uses(client, alice):
    client.force_login(alice)

    html = client.get(reverse("dashboard:board"), {"period": "7d"}).content.decode()

    definitions = html[html.index('data-testid="pack-definitions"') :]
    for key in DEFINED_TERMS:
        assert f"<dt>{escape(TERMS[key].label)}</dt><dd>{escape(TERMS[key].definition)}</dd>" in definitions


@pytest.mark.django_db
def test_the_overview_tiles_define_each_figure_in_the_same_words(client, alice):
    client.force_login(alice)

    html = client.get(reverse("dashboard:overview")).content.decode()

    for key in ("spend", "violation_rate", "open_approvals"):
        assert f'id="define-{key}" class="define-tip">{escape(TERMS[key].definition)}</span>' in html


@pytest.fixture
def coded_period(finance_agent, bob):
    """Incidents, an approval waiting for a supervisor and a pause, all stored as codes, in the last 7 days."""
    forget_capabilities()
    CapabilityFactory(code="payment.execute", description="Execute a payment")
    now = timezone.now()
    DecisionFactory(agent=finance_agent, action="payment.refused", verdict=Verdict.DENY, created_at=now)
    DecisionFactory(agent=finance_agent, action="payment.execute", risk_score=90, created_at=now)
    held = DecisionFactory(
        agent=finance_agent, action="payment.execute", verdict=Verdict.REQUIRE_APPROVAL, created_at=now
    )
    Approval.objects.create(
        decision=held,
        department=finance_agent.department,
        approver_role="Supervisor",
        requested_at=now - dt.timedelta(hours=1),
        deadline=now + dt.timedelta(hours=3),
    )
    change_agent_status(finance_agent, Status.PAUSED, by=bob, reason="Refunds look wrong")
    yield
    forget_capabilities()


@pytest.mark.django_db
def test_the_board_pack_names_actions_roles_and_changes_in_words(client, alice, coded_period):
    client.force_login(alice)

    html = client.get(reverse("dashboard:board"), {"period": "7d"}).content.decode()

    pack = html[html.index('data-testid="board-pack"') :]
    assert "Payment: refused" in pack  # no description: the code in words
    assert "Execute a payment" in pack  # the capability's own description
    assert "Department supervisor" in pack
    assert "Invoice Bot (agent) paused by" in pack and "“Refunds look wrong”" in pack
    assert not [code for code in CODES if code in pack]


@pytest.mark.django_db
def test_the_board_csv_names_actions_and_roles_in_words(client, alice, coded_period):
    client.force_login(alice)

    response = client.get(reverse("dashboard:board-csv"), {"period": "7d"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = {cell for row in rows for cell in row}
    assert {"Payment: refused", "Execute a payment", "Department supervisor", "Denied"} <= cells
    assert not [code for code in ("payment.refused", "payment.execute", "Supervisor", "deny") if code in cells]
