"""Regent's own error pages (the demo and production run with DEBUG off), and refusals logged as one line."""

import logging

import pytest
from django.contrib.auth.models import User


@pytest.mark.django_db
def test_an_unknown_address_gets_regent_own_not_found_page(client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"We could not find that page" in response.content
    assert b'href="/"' in response.content


@pytest.mark.django_db
def test_a_person_without_a_role_gets_a_page_saying_so_logged_as_one_line(client, caplog) -> None:
    client.force_login(User.objects.create_user("norole", password="x"))

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/")

    assert response.status_code == 403
    assert b"This page is not available to you" in response.content
    assert b"You hold no role in Regent." in response.content
    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in refusals] == ["Forbidden (Permission denied): /"]
    assert all(r.exc_info is None for r in refusals)
