"""The integrity page's Retention section in Chromium at 1440 and 390 px, with a long archive location and a cut
made: every line stays inside its card (long addresses and the offline command wrap), nothing scrolls sideways."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit import checkpoints
from audit.models import RetentionArchive
from tests.support.browser import SLOW_MS, decide, log_in

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCATION = "file:///srv/regent/archive/audit-events/2026/06/regent-retention-000000000001-000000013922.jsonl.gz"

OUTSIDE_THE_CARD = """card => { const box = card.getBoundingClientRect();
  return Array.from(card.querySelectorAll("*")).map(el => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1))
    .map(([el]) => el.tagName + ": " + el.textContent.slice(0, 40)); }"""


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("size", SIZES)
def test_the_retention_section_fits_its_card(
    page: Page, asgi_server, dave, finance_agent, settings, screenshots: Path, size: str
) -> None:
    # Given an archive configured at a long address and one cut made into it
    settings.RETENTION_ARCHIVE = LOCATION.rsplit("/", 1)[0] + "/"
    decide(finance_agent, "10")
    checkpoint = checkpoints.take()
    now = timezone.now()
    RetentionArchive.objects.create(
        first_seq=1, seq=1, prev_hash="0" * 64, hash="f" * 64, location=LOCATION, sha256="a" * 64,
        records={"governance_auditevent": 1}, checkpoint=checkpoint, verified_at=now, deleted_at=now,
    )  # fmt: skip
    page.set_viewport_size(SIZES[size])
    log_in(page, "dave")

    # When the auditor opens the integrity page
    page.goto("/integrity/")
    section = page.get_by_test_id("retention")
    expect(section.get_by_test_id("retention-cut")).to_contain_text(f"Event #1 was archived to {LOCATION}")
    expect(section.get_by_test_id("archive-check-command")).to_be_visible()  # a block of its own, to copy
    section.screenshot(path=screenshots / f"integrity-retention-{size}.png")

    # Then nothing in the section reaches outside its card, and the page does not scroll sideways
    assert section.evaluate(OUTSIDE_THE_CARD) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the integrity page scrolls {overflow} px sideways at {size}"
