"""The board pack: period-correct incidents and approvals, the summary's sentences, the PDF (read back with
pypdf) and the CSV a spreadsheet opens."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.templatetags.static import static as static_url
from django.urls import reverse
from pypdf import PdfReader

from dashboard.board import board_report, incidents, outstanding_approvals
from dashboard.board_charts import column_chart
from dashboard.board_pdf import PDF_ORIGIN, NotAStaticFile, static_file
from dashboard.board_summary import executive_summary
from dashboard.periods import period_for
from governance.models import Approval, Verdict
from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WEEK = {"period": "custom", "start": "2026-03-04", "end": "2026-03-10"}
WEEK_PERIOD = period_for("custom", NOW, dt.date(2026, 3, 4), dt.date(2026, 3, 10))


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def letters(text: str) -> str:
    """Text without spaces and punctuation: a PDF's lines break where the page's do not."""
    return re.sub(r"\W+", "", text)


def approval_for(decision, requested_at, status=Approval.Status.PENDING, decided_at=None) -> Approval:
    return Approval.objects.create(
        decision=decision,
        department=decision.department,
        approver_role="supervisor",
        status=status,
        requested_at=requested_at,
        deadline=requested_at + dt.timedelta(hours=4),
        decided_at=decided_at,
    )


def test_the_pdf_is_numbered_page_by_page_and_lists_the_periods_incidents(client, alice, finance_agent):
    DecisionFactory(agent=finance_agent, action="wire.in-period", verdict=Verdict.DENY, created_at=NOW)
    DecisionFactory(agent=finance_agent, action="wire.critical", risk_score=90, created_at=NOW)
    DecisionFactory(
        agent=finance_agent, action="wire.week-before", verdict=Verdict.DENY, created_at=NOW - dt.timedelta(days=9)
    )
    client.force_login(alice)

    response = client.get(reverse("dashboard:board-pdf"), WEEK)

    assert response["Content-Disposition"] == 'attachment; filename="regent-board-20260304-20260310.pdf"'
    pages = pdf_text(response.content)
    assert len(pages) >= 5
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    text = "\n".join(pages)
    assert letters("Wire: in-period") in letters(text)  # actions in words, as the glossary says them
    assert letters("Wire: critical") in letters(text)
    assert letters("Wire: week-before") not in letters(text)
    assert "wire.in-period" not in text
    assert "2 decisions denied by policy or scored critical risk" in text


def test_the_pdf_and_the_printable_page_say_the_same_sentences(client, alice, finance_agent):
    DecisionFactory.create_batch(3, agent=finance_agent, created_at=NOW)
    client.force_login(alice)

    page = client.get(reverse("dashboard:board"), WEEK).content.decode()
    pdf = letters(" ".join(pdf_text(client.get(reverse("dashboard:board-pdf"), WEEK).content)))

    summary = executive_summary(board_report(alice, WEEK_PERIOD))
    assert summary[0] == "Agents asked for 3 decisions in the 7 days from 4 Mar to 10 Mar 2026."
    for sentence in summary:
        assert sentence.replace("'", "&#x27;") in page
        assert letters(sentence) in pdf


@pytest.mark.parametrize("key", ["24h", "7d", "30d"])
def test_an_export_is_named_by_the_periods_own_first_and_last_day(client, alice, key):
    client.force_login(alice)
    period = period_for(key, dt.datetime.now(dt.UTC))

    response = client.get(reverse("dashboard:board-csv"), {"period": key})

    today = dt.datetime.now(dt.UTC).date()
    expected = f"regent-board-{period.start:%Y%m%d}-{today:%Y%m%d}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'


def test_incidents_are_counted_in_full_and_the_latest_listed(finance_agent, support_agent):
    for minutes in range(3):
        DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW - dt.timedelta(minutes=minutes))
    DecisionFactory(agent=support_agent, risk_score=80, created_at=NOW - dt.timedelta(hours=1))
    DecisionFactory(agent=support_agent, verdict=Verdict.DENY, risk_score=95, created_at=NOW - dt.timedelta(hours=2))
    DecisionFactory(agent=support_agent, verdict=Verdict.FLAG, risk_score=74, created_at=NOW)

    found = incidents(WEEK_PERIOD, None, limit=2)

    assert (found.total, found.denied, found.critical) == (5, 4, 2)
    assert [d.created_at for d in found.shown] == [NOW, NOW - dt.timedelta(minutes=1)]


def test_a_supervisors_incidents_are_their_departments_only(bob, finance_agent, support_agent):
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW)
    DecisionFactory(agent=support_agent, verdict=Verdict.DENY, created_at=NOW)

    report = board_report(bob, WEEK_PERIOD)

    assert report.incidents.total == 1
    assert [d.agent for d in report.incidents.shown] == [finance_agent]


def test_approvals_outstanding_are_the_ones_waiting_when_the_period_ended(finance_agent):
    end = WEEK_PERIOD.end
    decided_after_the_end = approval_for(
        DecisionFactory(agent=finance_agent),
        end - dt.timedelta(days=1),
        Approval.Status.APPROVED,
        end + dt.timedelta(hours=2),
    )
    still_pending = approval_for(DecisionFactory(agent=finance_agent), end - dt.timedelta(days=2))
    approval_for(  # decided within the period: not outstanding at its end
        DecisionFactory(agent=finance_agent),
        end - dt.timedelta(days=3),
        Approval.Status.REJECTED,
        end - dt.timedelta(days=2),
    )
    approval_for(DecisionFactory(agent=finance_agent), end + dt.timedelta(hours=1))  # asked after the end

    outstanding = outstanding_approvals(WEEK_PERIOD, None, limit=1)

    assert outstanding.total == 2
    assert outstanding.shown == [still_pending]
    assert decided_after_the_end not in outstanding.shown


def test_the_pack_says_how_many_approvals_of_how_many_it_shows(client, alice, finance_agent, monkeypatch):
    for hours in range(3):
        approval_for(DecisionFactory(agent=finance_agent), NOW - dt.timedelta(hours=hours + 1))
    monkeypatch.setattr("dashboard.board.APPROVAL_LIMIT", 2)
    client.force_login(alice)

    html = client.get(reverse("dashboard:board"), WEEK).content.decode()

    assert "2 of 3 shown" in html


def test_the_summary_names_a_department_above_its_appetite(alice, finance, finance_agent, support_agent):
    finance.risk_appetite = 30
    finance.save()
    DecisionFactory(agent=finance_agent, risk_score=60, created_at=NOW)
    DecisionFactory(agent=support_agent, risk_score=10, created_at=NOW)

    summary = executive_summary(board_report(alice, WEEK_PERIOD))

    assert "Finance (average 60 against 30) was above its risk appetite." in summary


def test_the_csv_opens_as_utf8_with_units_in_its_headers_and_rounded_values(client, alice, finance_agent):
    decision = DecisionFactory(agent=finance_agent, amount=Decimal("10.333"), currency="USD", created_at=NOW)
    approval_for(decision, NOW - dt.timedelta(seconds=1234), Approval.Status.APPROVED, NOW)
    client.force_login(alice)

    response = client.get(reverse("dashboard:board-csv"), WEEK)

    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    labels = [row[0] for row in rows if row]
    assert "Spend (USD)" in labels and "Median time to approval (minutes)" in labels
    assert "Automation rate (%)" in labels
    assert ["Department", "Decisions (count)", "Spend (USD)", "Cost (USD)", "Value delivered (USD)"] in rows
    numbers = [cell for row in rows for cell in row if re.fullmatch(r"-?\d+\.\d+", cell)]
    assert numbers and all(len(cell.split(".")[1]) <= 2 for cell in numbers)


def test_the_pdf_fetches_only_its_own_static_files():
    css, content_type = static_file(f"{PDF_ORIGIN}/static/css/board.css")
    assert b"@page" in css and content_type == "text/css"

    for url in ("https://fonts.example.com/font.css", f"{PDF_ORIGIN}/admin/", f"{PDF_ORIGIN}/static/../settings.py"):
        with pytest.raises(NotAStaticFile):
            static_file(url)


def test_with_collected_hashed_static_files_the_pdf_keeps_its_stylesheet(
    client, alice, finance_agent, settings, tmp_path
):
    # Given production's static files: collected, under hashed names (the page links css/board.<hash>.css)
    settings.STATIC_ROOT = str(tmp_path / "collected")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW)
    client.force_login(alice)

    # When the board pack's PDF is made
    response = client.get(reverse("dashboard:board-pdf"), WEEK)

    # Then its print stylesheet was read: every page is numbered
    pages = pdf_text(response.content)
    assert "board." in static_url("css/board.css") and static_url("css/board.css") != "/static/css/board.css"
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_a_charts_axis_says_its_middle_value_as_it_is():
    # Given a day of 4 decisions: the axis tops out at 5
    svg = column_chart("Decisions per day", ["01 Dec", "02 Dec"], [0, 4], "decisions")

    # Then its middle line reads 2.5, not a rounded 2
    assert ">2.5</text>" in svg and ">5</text>" in svg
