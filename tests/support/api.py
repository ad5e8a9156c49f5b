"""Callers of the REST API, each authenticated the way that caller really would be."""

import datetime as dt

from django.utils import timezone
from rest_framework.test import APIClient

from integrations import tokens
from orchestration.keys import issue_key

PEOPLE = ("alice", "bob", "carol", "dave", "erin")
CALLERS = (*PEOPLE, "agent", "anonymous")


def token_client(user) -> APIClient:
    """A client using a personal token of the person, as a script or BI tool would."""
    _, raw = tokens.issue_token(user, "tests", expires_at=timezone.now() + dt.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def agent_client(agent) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(agent)}")
    return client
