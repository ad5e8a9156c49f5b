"""Small screens (390 x 844, a phone) in Chromium: the menu collapses behind one button, log out is in reach,
and no page scrolls sideways; wide tables scroll inside their card. At 1440 px the menu is laid out inline."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.support.browser import SLOW_MS, decide, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


def menu_paths(page: Page) -> list[str]:
    return page.locator("nav[aria-label=Main] a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


WIDEST = """() => {
  const clipped = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
  return Array.from(document.querySelectorAll("body *"))
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !clipped(el))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + "." + (el.className.baseVal ?? el.className));
}"""


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_no_page_scrolls_sideways_on_a_phone_for_any_role(
    page: Page, asgi_server, request: pytest.FixtureRequest, username: str, finance_agent, screenshots: Path
) -> None:
    request.getfixturevalue(username)
    decision = decide(finance_agent, "120")
    page.set_viewport_size(PHONE)
    log_in(page, username)
    paths = [*menu_paths(page), f"/decisions/{decision.pk}/", f"/agents/{finance_agent.pk}/"]

    for path in paths:
        if path.startswith("/admin/"):
            continue  # the Django admin is Policy Admins' desk tool, not laid out by Regent
        response = page.goto(path)
        if response.status == 404:
            continue  # outside this role's scope: the page does not exist for them
        overflow = sideways_overflow(page)
        assert overflow <= 0, f"{path} scrolls {overflow} px sideways as {username}: {page.evaluate(WIDEST)}"
        if username == "alice":
            name = path.strip("/").replace("/", "-") or "overview"
            page.screenshot(path=screenshots / f"phone-{name}.png")


def test_the_menu_collapses_on_a_phone_and_opens_with_log_out_in_reach(
    page: Page, asgi_server, alice: User, screenshots: Path
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, "alice")
    toggle = page.get_by_role("button", name="Menu")

    # Closed: one button, the links out of the way, the page's heading on the first screen
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Risk")).to_be_hidden()
    assert page.locator("h1").first.bounding_box()["y"] < PHONE["height"] / 2

    # Opened: every link and log out are on the screen
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Risk")).to_be_visible()
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_in_viewport()
    page.screenshot(path=screenshots / "phone-menu-open.png")

    # And closes again with the keyboard
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")


@pytest.mark.parametrize("username", ["alice", "bob", "dave"])
def test_the_menu_is_inline_on_a_desktop(request, page: Page, asgi_server, username: str, screenshots: Path) -> None:
    request.getfixturevalue(username)
    page.set_viewport_size(DESKTOP)
    log_in(page, username)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Risk")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    # Each role's whole menu reads on one line (an executive's, a supervisor's, an auditor's)
    entries = page.locator(".topbar .nav > li")
    tops = entries.evaluate_all("items => items.map(li => li.getBoundingClientRect().top)")
    assert len(tops) >= 10 and max(tops) - min(tops) < 5, tops
    if username != "dave":
        return
    # The auditor's evidence pages sit under one heading that opens below it, and closes with Escape
    evidence = page.locator(".nav-group summary", has_text="Evidence")
    audit_log = page.get_by_role("link", name="Audit log")
    expect(audit_log).to_be_hidden()
    evidence.click()
    expect(audit_log).to_be_visible()
    expect(page.get_by_role("link", name="Integrity")).to_be_visible()
    page.screenshot(path=screenshots / f"desktop-menu-{username}.png")
    page.keyboard.press("Escape")
    expect(audit_log).to_be_hidden()
    audit_log_opened_from_menu(page, evidence)


def audit_log_opened_from_menu(page: Page, evidence) -> None:
    evidence.click()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.locator(".nav-group summary")).to_have_attribute("aria-current", "page")


def test_log_out_reads_white_on_the_dark_bar(page: Page, asgi_server, alice: User) -> None:
    page.set_viewport_size(DESKTOP)
    log_in(page, "alice")
    colour = page.get_by_role("button", name="Log out").evaluate("b => getComputedStyle(b).color")
    assert colour == "rgb(255, 255, 255)"
