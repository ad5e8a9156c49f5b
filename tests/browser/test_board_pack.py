"""The board pack's printable page in Chromium at 1440 and 390 px, as an executive and as a supervisor:
every section and chart there, the supervisor's scope held, nothing scrolling sideways on a phone, and the
PDF downloaded under the period's own dates."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from governance.models import Verdict
from tests.factories import DecisionFactory
from tests.support.browser import SLOW_MS, expect_board_charts_drawn, log_in

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "shots-board"  # looked at by people, never kept in the repository
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SECTIONS = [
    "pack-cover",
    "pack-summary",
    "pack-figures",
    "pack-risk",
    "pack-incidents",
    "pack-approvals",
    "pack-value",
    "pack-vendors",
    "pack-definitions",
]
CHARTS = ["decisions", "rates", "appetite", "value", "providers"]


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username", ["alice", "bob"])
def test_the_printable_pack_reads_at_every_size_for_each_role(
    page: Page, asgi_server, request: pytest.FixtureRequest, username: str, size: str, finance_agent, support_agent
) -> None:
    request.getfixturevalue(username)
    DecisionFactory(agent=finance_agent, action="payment.refused", verdict=Verdict.DENY, risk_score=80)
    DecisionFactory(agent=support_agent, action="ticket.refused", verdict=Verdict.DENY)
    page.set_viewport_size(SIZES[size])
    log_in(page, username)

    page.goto("/board/?period=7d")

    for section in SECTIONS:
        expect(page.get_by_test_id(section)).to_be_visible()
    expect_board_charts_drawn(page, CHARTS)
    expect(page.get_by_test_id("pack-summary")).to_contain_text("Agents asked for")
    incidents = page.get_by_test_id("incidents")
    expect(incidents).to_contain_text("Payment: refused")  # the action in words, never its code
    if username == "bob":  # a supervisor of Finance only
        expect(incidents).not_to_contain_text("Ticket: refused")
    else:
        expect(incidents).to_contain_text("Ticket: refused")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"board-{username}-{size}.png", full_page=True)


def test_printing_the_page_leaves_out_the_filters_and_buttons(page: Page, asgi_server, alice: User) -> None:
    log_in(page, "alice")
    page.goto("/board/?period=7d")

    page.emulate_media(media="print")

    expect(page.get_by_test_id("download-pdf")).to_be_hidden()
    expect(page.get_by_test_id("pack-cover")).to_be_visible()


def test_the_downloaded_pdf_is_named_by_the_periods_days(page: Page, asgi_server, alice: User, finance_agent) -> None:
    DecisionFactory(agent=finance_agent)
    log_in(page, "alice")
    page.goto("/board/?period=7d")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()

    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=6)
    download = download_info.value
    assert download.suggested_filename == f"regent-board-{first:%Y%m%d}-{today:%Y%m%d}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
