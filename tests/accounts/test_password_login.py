"""Local password login: throttled per username, and turned off by PASSWORD_LOGIN=false (then single sign-on only).

alice is an Executive with a local password (tests.factories.PASSWORD); grace signs in with the provider.
"""

import time

import pytest
from django.core.cache import cache

from accounts.models import GroupMapping
from orchestration.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_failures_counted():
    cache.clear()
    yield
    cache.clear()


def log_in(client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def test_a_person_logs_in_with_their_password(client, alice):
    response = log_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and response.wsgi_request.user == alice


def test_after_too_many_failures_the_username_is_locked_with_a_message_and_retry_after(client, alice, carol, settings):
    # Given a limit of 3 failed attempts in 10 minutes
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_LOCKOUT_SECONDS = 3, 600

    # When someone guesses alice's password wrong twice, then a third time
    for _ in range(2):
        response = log_in(client, "alice", "wrong guess")
        assert response.status_code == 200 and "did not match" in response.content.decode()
    response = log_in(client, "ALICE", "wrong guess")  # usernames are counted whatever their case

    # Then the third is answered 429, saying when to try again
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many failed attempts to log in as this person. Try again in 10 minutes." in response.content.decode()
    # And while locked even the right password is refused, at the admin's login too
    response = log_in(client, "alice", PASSWORD)
    assert response.status_code == 429 and not response.wsgi_request.user.is_authenticated
    assert log_in(client, "alice", PASSWORD, url="/admin/login/?next=/admin/").status_code == 429
    # But others still log in
    client.logout()
    assert log_in(client, "carol", PASSWORD).status_code == 302


def test_a_successful_login_starts_the_count_again(client, alice, carol, settings):
    # Given alice failed twice of a limit of three, then logged in
    settings.LOGIN_FAILURE_LIMIT = 3
    log_in(client, "alice", "wrong guess")
    log_in(client, "alice", "wrong guess")
    assert log_in(client, "alice", PASSWORD).status_code == 302
    client.logout()

    # When she mistypes once more, she is not locked
    assert log_in(client, "alice", "typo").status_code == 200


def test_the_lock_ends_after_the_lockout_time(client, alice, settings):
    # Given alice's username was locked for one second
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_LOCKOUT_SECONDS = 1, 1
    assert log_in(client, "alice", "wrong guess").status_code == 429

    # When the second has passed, her password works again
    time.sleep(1.1)
    assert log_in(client, "alice", PASSWORD).status_code == 302


@pytest.fixture
def passwords_off(settings, identity_provider):
    settings.PASSWORD_LOGIN = False
    return identity_provider


def test_with_passwords_off_the_login_page_offers_only_the_provider(client, passwords_off):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Northwind ID" in page
    assert 'name="password"' not in page


def test_with_passwords_off_a_password_is_refused_everywhere_even_a_superusers(client, passwords_off, alice):
    # Given alice is also a superuser
    alice.is_superuser = True
    alice.save()

    # When she posts her right password to the login page and to the admin's
    response = log_in(client, "alice", PASSWORD)
    admin_response = log_in(client, "alice", PASSWORD, url="/admin/login/?next=/admin/")

    # Then both are refused, saying to sign in with the provider
    for refused in (response, admin_response):
        assert refused.status_code == 403 and not refused.wsgi_request.user.is_authenticated
        assert "Logging in with a password is turned off here. Sign in with Northwind ID instead." in (
            refused.content.decode()
        )
    # And no other path accepts a password either
    assert not client.login(username="alice", password=PASSWORD)


def test_with_passwords_off_people_still_sign_in_with_the_provider(client, passwords_off):
    # Given grace is an auditor at the provider
    GroupMapping.objects.create(idp_group="regent-auditors", role=Role.AUDITOR)
    passwords_off.has_person("grace-0001", ["regent-auditors"], preferred_username="grace")

    # When she follows "Sign in with Northwind ID"
    start = client.get("/accounts/sso/start/")
    response = client.get(passwords_off.approve(start["Location"], "grace-0001"), follow=True)

    # Then she is in
    assert response.status_code == 200 and response.wsgi_request.user.username == "grace"
