"""Agent API keys: issue, rotate, revoke, authenticate.

Keys are 256-bit random secrets, so a fast SHA-256 digest is as safe to store as a slow password
hash and lets a request find its key with one indexed lookup.
"""

import datetime as dt
import hashlib
import secrets
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from audit import chain
from fastpath import reads
from orchestration.models import Agent, AgentKey, Department

KEY_PREFIX = "rgt_"
SEEN_EVERY = dt.timedelta(seconds=60)  # how fresh "last used" and "last seen" are kept
PREFIX_LENGTH = len(KEY_PREFIX) + 8


def digest_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def issue_key(agent: Agent, *, by=None) -> str:
    """Create a key for the agent and return its secret: the only time anyone sees it."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    AgentKey.objects.create(agent=agent, prefix=raw_key[:PREFIX_LENGTH], digest=digest_key(raw_key), created_by=by)
    return raw_key


@transaction.atomic
def rotate_keys(agent: Agent, *, by=None) -> str:
    """Revoke every active key of the agent and issue a new one."""
    revoke_keys(agent)
    return issue_key(agent, by=by)


def revoke_keys(agent: Agent) -> int:
    return AgentKey.objects.filter(agent=agent, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_agent_key(raw_key: str) -> Agent | None:
    """Return the agent a key belongs to (its department attached), or None for an unknown or revoked key.

    One plain statement written once per process (fastpath.reads): every request an agent makes starts here, and
    compiling the same through the ORM's select_related cost more CPU than the database took to answer."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_key_statement(), [digest_key(raw_key)])
        row = cursor.fetchone()
    if row is None:
        return None
    (key, agent, department), _ = reads.instances(row, (AgentKey, Agent, Department))
    Agent.department.field.set_cached_value(agent, department)
    AgentKey.agent.field.set_cached_value(key, agent)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > SEEN_EVERY:  # not a write per request
        AgentKey.objects.filter(pk=key.pk).update(last_used_at=now)
        Agent.objects.filter(pk=key.agent_id).update(last_seen_at=now)
    return agent


@cache
def _key_statement() -> str:
    quote = connection.ops.quote_name
    # Names come from model metadata; the digest is a parameter.
    return (
        f"SELECT {reads.columns(AgentKey, 'k')}, {reads.columns(Agent, 'a')}, {reads.columns(Department, 'd')} "  # noqa: S608
        f"FROM {quote(AgentKey._meta.db_table)} k "
        f"JOIN {quote(Agent._meta.db_table)} a ON a.{quote('id')} = k.{quote('agent_id')} "
        f"JOIN {quote(Department._meta.db_table)} d ON d.{quote('id')} = a.{quote('department_id')} "
        f"WHERE k.{quote('digest')} = %s AND k.{quote('revoked_at')} IS NULL"
    )


@transaction.atomic
def issue_agent_key(agent: Agent, *, by=None) -> str:
    """Issue one more key for the agent (its other keys stay valid, for a rollover without downtime)."""
    raw_key = issue_key(agent, by=by)
    _audit_keys("agent.key_issued", agent, by, {"prefix": raw_key[:PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def rotate_agent_key(agent: Agent, *, by=None) -> str:
    """Revoke the agent's keys and issue a new one; the secret is returned once and never stored."""
    raw_key = rotate_keys(agent, by=by)
    _audit_keys("agent.key_rotated", agent, by, {"prefix": raw_key[:PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def revoke_agent_keys(agent: Agent, *, by=None) -> int:
    revoked = revoke_keys(agent)
    if revoked:
        _audit_keys("agent.keys_revoked", agent, by, {"revoked": revoked})
    return revoked


def _audit_keys(kind: str, agent: Agent, by, after: dict) -> None:
    """Key events name the key by its prefix only: the secret never reaches the audit log."""
    chain.record(
        kind, subject_type="agent", subject_id=agent.pk, actor=by, department_id=agent.department_id, after=after
    )
