"""Agent API keys: the secret is shown once, only its digest is kept, and revoked keys stop working."""

import hashlib

import pytest
from django.db import connection
from django.utils import timezone

from orchestration.keys import authenticate_agent_key, issue_key, revoke_keys, rotate_keys
from orchestration.models import AgentKey

pytestmark = pytest.mark.django_db


def everything_in_the_database() -> str:
    """Every row of every table, as text, to search for something that must not be there."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


def test_an_issued_secret_is_stored_nowhere_in_the_database(finance_agent, carol):
    # Given a key issued to the Finance agent
    raw_key = issue_key(finance_agent, by=carol)

    # When we read every row of every table
    dump = everything_in_the_database()

    # Then the secret is not there, only its digest
    assert raw_key not in dump
    assert hashlib.sha256(raw_key.encode()).hexdigest() in dump


def test_an_issued_key_keeps_its_sha256_digest_and_prefix(finance_agent, carol):
    # When carol issues a key to the Finance agent
    raw_key = issue_key(finance_agent, by=carol)

    # Then the stored row holds the digest and the key's public start, and records who issued it
    key = AgentKey.objects.get(agent=finance_agent)
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key.startswith(key.prefix)
    assert len(key.prefix) < len(raw_key)
    assert key.created_by == carol


def test_two_issued_keys_differ(finance_agent):
    assert issue_key(finance_agent) != issue_key(finance_agent)


def test_an_issued_key_authenticates_its_agent(finance_agent):
    raw_key = issue_key(finance_agent)

    assert authenticate_agent_key(raw_key) == finance_agent


def test_a_request_knows_its_agent_and_department_after_one_query(finance_agent, django_assert_num_queries):
    # Given a key used a moment ago (so "last used" is fresh and not written again)
    raw_key = issue_key(finance_agent)
    authenticate_agent_key(raw_key)

    # When it authenticates again, the agent and its department come from one statement
    with django_assert_num_queries(1):
        agent = authenticate_agent_key(raw_key)
        department = agent.department

    # Then they are the key's agent and department, read as the ORM reads them
    assert (agent, department) == (finance_agent, finance_agent.department)
    assert agent.monthly_budget == finance_agent.monthly_budget and agent.status == finance_agent.status
    assert department.name == finance_agent.department.name


def test_a_wrong_key_with_the_right_prefix_fails(finance_agent):
    # Given a real key, and the same key with its last character changed
    raw_key = issue_key(finance_agent)
    wrong_key = raw_key[:-1] + ("A" if raw_key[-1] != "A" else "B")

    # When the wrong key is presented
    agent = authenticate_agent_key(wrong_key)

    # Then nobody is authenticated
    assert agent is None


@pytest.mark.parametrize("garbage", ["", "rgt_", "not-a-key", "Bearer rgt_abc", "x" * 500])
def test_garbage_fails(finance_agent, garbage):
    # Given the Finance agent has a key
    issue_key(finance_agent)

    # When garbage is presented
    agent = authenticate_agent_key(garbage)

    # Then nobody is authenticated
    assert agent is None


def test_a_revoked_key_fails(finance_agent):
    # Given a key that has been revoked
    raw_key = issue_key(finance_agent)
    revoke_keys(finance_agent)

    # When it is presented
    agent = authenticate_agent_key(raw_key)

    # Then nobody is authenticated
    assert agent is None


def test_after_rotation_the_old_key_fails(finance_agent):
    # Given a key, then a rotation
    old_key = issue_key(finance_agent)
    rotate_keys(finance_agent)

    # When the old key is presented
    agent = authenticate_agent_key(old_key)

    # Then nobody is authenticated
    assert agent is None


def test_after_rotation_the_new_key_works(finance_agent):
    # Given a key, then a rotation
    issue_key(finance_agent)
    new_key = rotate_keys(finance_agent)

    # When the new key is presented
    agent = authenticate_agent_key(new_key)

    # Then it authenticates the agent
    assert agent == finance_agent


def test_rotating_one_agents_key_leaves_other_agents_keys_working(finance_agent, support_agent):
    # Given both agents have keys
    issue_key(finance_agent)
    support_key = issue_key(support_agent)

    # When the Finance agent's key is rotated
    rotate_keys(finance_agent)

    # Then the Support agent's key still works
    assert authenticate_agent_key(support_key) == support_agent


def test_using_a_key_records_when_key_and_agent_were_last_seen(finance_agent):
    # Given a key never used
    raw_key = issue_key(finance_agent)
    before = timezone.now()

    # When it is used
    authenticate_agent_key(raw_key)

    # Then the key and its agent carry the time of use
    key = AgentKey.objects.get(agent=finance_agent)
    finance_agent.refresh_from_db()
    assert key.last_used_at >= before
    assert finance_agent.last_seen_at >= before


def test_a_revoked_key_does_not_mark_the_agent_as_seen(finance_agent):
    # Given a revoked key
    raw_key = issue_key(finance_agent)
    revoke_keys(finance_agent)

    # When it is presented
    authenticate_agent_key(raw_key)

    # Then the agent is not marked as seen
    finance_agent.refresh_from_db()
    assert finance_agent.last_seen_at is None
