"""Controls and evidence in Chromium at 1440 and 390 px: an Auditor opens the page from the menu, picks a framework,
reads each control's evidence count and downloads the CSV and the signed ZIP; nothing scrolls sideways on a phone."""

import io
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audit import checkpoints
from audit.evidence import public_key_b64
from dashboard.compliance.bundle_check import verify_bundle
from dashboard.compliance.library import library
from tests.support.audit import wait_until_sequenced
from tests.support.browser import SLOW_MS, decide, log_in

pytestmark = pytest.mark.browser

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
SHOTS = Path(tempfile.gettempdir()) / "shots-controls"  # looked at by people, never kept in the repository


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def open_menu_item(page: Page, name: str) -> None:
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    menu = page.get_by_role("navigation", name="Main")
    group = menu.locator(".nav-group", has=page.locator("a", has_text=name))
    if group.count():
        group.locator("summary").click()
    menu.get_by_role("link", name=name).click()


@pytest.mark.parametrize("size", SIZES)
def test_an_auditor_picks_a_framework_reads_evidence_counts_and_downloads_the_export(
    page: Page, asgi_server, dave, finance_agent, size: str
) -> None:
    # Given three decisions in the audit log and a signed checkpoint
    for amount in ("10", "20", "30"):
        decide(finance_agent, amount)
    wait_until_sequenced()
    checkpoints.take()
    page.set_viewport_size(SIZES[size])
    log_in(page, "dave")

    # When the auditor opens Controls from the menu and picks the NIST AI RMF
    page.goto("/")
    open_menu_item(page, "Controls")
    expect(page.get_by_test_id("framework-name")).to_contain_text("EU AI Act")
    page.get_by_test_id("framework-picker").get_by_role("link", name="NIST AI RMF").click()

    # Then every control of the framework is listed with its status, and the decisions are counted
    expect(page.get_by_test_id("framework-name")).to_contain_text("NIST AI RMF")
    controls = page.get_by_test_id("control")
    expect(controls).to_have_count(len(library().framework("nist-ai-rmf").controls))
    measure = page.locator('[data-control="MEASURE 2.8"]')
    expect(measure.get_by_test_id("control-status")).to_have_text("Evidence: 3 records")
    expect(measure.get_by_test_id("newest")).to_contain_text("Invoice Bot: invoice.approve")
    expect(page.locator('[data-control="MEASURE 3.3"]').get_by_test_id("control-status")).to_have_text(
        "No evidence in this period"
    )
    assert sideways_overflow(page) <= 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"controls-nist-{size}.png"), full_page=True)

    # When the auditor downloads the CSV and the signed ZIP
    with page.expect_download() as csv_download:
        page.get_by_test_id("download-csv").click()
    with page.expect_download() as zip_download:
        page.get_by_test_id("download-bundle").click()

    # Then the CSV lists the framework's controls, and the ZIP verifies under the organisation's key
    assert csv_download.value.suggested_filename.startswith("regent-controls-nist-ai-rmf-")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    assert "MEASURE 2.8" in text and "Evidence: 3 records" in text
    assert zip_download.value.suggested_filename.endswith(".zip")
    bundle = io.BytesIO(Path(zip_download.value.path()).read_bytes())
    assert verify_bundle(bundle, public_key_b64())["events"] >= 3


@pytest.mark.parametrize("size", SIZES)
def test_a_supervisor_sees_their_departments_evidence_without_the_zip(
    page: Page, asgi_server, bob, finance_agent, support_agent, size: str
) -> None:
    # Given a decision in Finance and one in Customer Support
    decide(finance_agent, "10")
    decide(support_agent, "20")
    page.set_viewport_size(SIZES[size])
    log_in(page, "bob")

    # When Finance's supervisor opens the EU AI Act's controls
    page.goto("/compliance/eu-ai-act/")

    # Then they read Finance's evidence, organisation-wide records are not theirs, and there is no ZIP
    expect(page.get_by_test_id("scope")).to_have_text("Finance")
    expect(page.locator('[data-control="Art. 12(2)"]').get_by_test_id("control-status")).to_have_text(
        "Evidence: 1 record"
    )
    expect(page.locator('[data-control="Art. 26(2)"]').get_by_test_id("control-status")).to_have_text(
        "Not in your scope"
    )
    expect(page.get_by_test_id("download-bundle")).to_have_count(0)
    assert sideways_overflow(page) <= 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"controls-supervisor-{size}.png"), full_page=True)
