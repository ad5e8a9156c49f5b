"""Single sign-on in Chromium, the whole way: Regent's login page, the provider's own sign-in page (a real OpenID
provider in a thread of the test, tests/fixtures/identity.py), and back to Regent signed in with the role and
departments the person's groups give. grace supervises Finance; heidi is in no group Regent knows."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import GroupMapping
from orchestration.roles import Role

# The provider's pages have no favicon (Flask's "NOT FOUND"); the refusal page is answered 403 on purpose.
pytestmark = [pytest.mark.browser, pytest.mark.allow_console("status of 404 (NOT FOUND)")]


@pytest.fixture
def mappings(finance, support) -> None:
    GroupMapping.objects.create(idp_group="regent-supervisors", role=Role.SUPERVISOR)
    GroupMapping.objects.create(idp_group="finance-team").departments.add(finance)


def sign_in_at_the_provider(page: Page, subject: str) -> None:
    # The provider's pages style themselves from a CDN, which this machine cannot reach: an empty sheet instead.
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.fulfill(content_type="text/css", body=""))
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Northwind ID").click()
    page.get_by_placeholder("sub").fill(subject)  # the provider's own sign-in form
    page.get_by_role("button", name="Authorize").click()


def test_a_supervisor_signs_in_with_the_provider_and_sees_only_their_departments(
    page: Page, asgi_server, identity_provider, mappings, screenshots: Path
) -> None:
    # Given grace supervises the finance team at the provider
    identity_provider.has_person("grace-0001", ["regent-supervisors", "finance-team"], preferred_username="grace")

    # When she signs in with the provider from Regent's login page
    sign_in_at_the_provider(page, "grace-0001")

    # Then she is on the overview as a Supervisor, and her departments are Finance alone
    expect(page).to_have_url(f"{asgi_server.url}/")
    expect(page.get_by_test_id("role")).to_have_text(Role.SUPERVISOR)
    page.goto("/departments/")
    expect(page.get_by_role("link", name="Finance", exact=True).first).to_be_visible()
    expect(page.get_by_text("Customer Support")).to_have_count(0)
    page.screenshot(path=screenshots / "sso-supervisor-departments.png")


@pytest.mark.allow_console("status of 403 (Forbidden)")
def test_someone_in_no_mapped_group_reads_why_they_cannot_sign_in(
    page: Page, asgi_server, identity_provider, mappings, screenshots: Path
) -> None:
    # Given heidi is only staff at the provider
    identity_provider.has_person("heidi-0002", ["all-staff"], preferred_username="heidi")

    # When she signs in with the provider
    sign_in_at_the_provider(page, "heidi-0002")

    # Then Regent's refusal page tells her what to ask for
    expect(page.get_by_role("heading")).to_have_text("You cannot sign in to Regent yet")
    expect(page.get_by_role("alert")).to_contain_text("none of your groups there gives access to Regent")
    page.screenshot(path=screenshots / "sso-refused.png")
