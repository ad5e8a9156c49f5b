"""An approval link opens the request's decision page for the person it was sent to, after login, once; it never
decides anything itself, and a used, expired, tampered or someone else's link is refused with a page saying why."""

import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from governance.models import Approval
from notifications import links
from orchestration.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_for_bob(hold, finance_agent, bob) -> Approval:
    return hold(finance_agent).approval


def logged_in(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_following_the_link_without_a_session_asks_to_log_in_first(request_for_bob, bob):
    link = path_of(links.approval_link(request_for_bob.pk, bob.pk))

    response = Client().get(link)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={link.replace(':', '%3A')}"


def test_the_link_lands_on_the_decision_page_and_decides_nothing(request_for_bob, bob):
    # Given Bob, logged in, and the link he was sent
    client = logged_in(bob)
    link = path_of(links.approval_link(request_for_bob.pk, bob.pk))

    # When he follows it
    response = client.get(link, follow=True)

    # Then he is on the request's decision page, with the form to decide, and the request still waits
    assert response.redirect_chain[-1][0] == f"/decisions/{request_for_bob.decision_id}/#approval-heading"
    assert response.status_code == 200
    assert b'data-testid="decide-form"' in response.content
    request_for_bob.refresh_from_db()
    assert request_for_bob.status == Approval.Status.PENDING


def test_a_link_works_once(request_for_bob, bob):
    client = logged_in(bob)
    link = path_of(links.approval_link(request_for_bob.pk, bob.pk))
    client.get(link)

    again = client.get(link)

    assert again.status_code == 410
    assert b"This link was already used: each works once." in again.content
    assert b"Nothing was decided." in again.content


def test_an_expired_link_is_refused(request_for_bob, bob, settings):
    link = path_of(links.approval_link(request_for_bob.pk, bob.pk))
    settings.APPROVAL_LINK_MAX_AGE_SECONDS = -1

    response = logged_in(bob).get(link)

    assert response.status_code == 410
    assert b"This link has expired." in response.content


def test_a_tampered_link_is_refused(request_for_bob, bob):
    # Given a link whose request id was changed on the way
    token = path_of(links.approval_link(request_for_bob.pk, bob.pk)).split("/")[-2]
    payload, rest = token.split(":", 1)
    forged = signing.b64_encode(
        signing.b64_decode(payload.encode()).replace(str(request_for_bob.pk).encode(), b"999")
    ).decode()

    response = logged_in(bob).get(reverse("notifications:approval-link", args=[f"{forged}:{rest}"]))

    assert response.status_code == 400
    assert b"not one Regent sent, or it was changed on the way" in response.content


def test_someone_elses_link_is_refused(request_for_bob, bob, alice):
    link = path_of(links.approval_link(request_for_bob.pk, bob.pk))

    response = logged_in(alice).get(link)

    assert response.status_code == 403
    assert b"This link was sent to someone else." in response.content


def test_a_supervisor_of_another_department_cannot_open_the_request_even_with_a_link(request_for_bob, support):
    # Given Frank, who supervises Customer Support, holding a link made out to him for a Finance request
    frank = UserFactory(username="frank", roles=[Role.SUPERVISOR])
    support.supervisors.add(frank)
    link = path_of(links.approval_link(request_for_bob.pk, frank.pk))

    # When he follows it, the decision page does not show him the request
    response = logged_in(frank).get(link, follow=True)

    assert response.status_code == 404


def test_the_decision_page_decides_and_comes_back_to_itself(request_for_bob, bob):
    client = logged_in(bob)

    response = client.post(
        reverse("dashboard:approval-decide", args=[request_for_bob.pk]),
        {"verdict": "reject", "comment": "", "back": "decision"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/decisions/{request_for_bob.decision_id}/#approval-heading"
    assert b"Say why you reject the request" in response.content
    request_for_bob.refresh_from_db()
    assert request_for_bob.status == Approval.Status.PENDING
