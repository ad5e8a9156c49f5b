"""Shared fixtures: a small organisation and the people who hold each role.

alice is an Executive, bob supervises Finance only, carol is a Policy Admin, dave is an Auditor,
and erin has an account but no role.
"""

import pytest

from orchestration.roles import Role
from tests.factories import AgentFactory, DepartmentFactory, UserFactory
from tests.servers import asgi_server, sqlite_url, start_server  # noqa: F401 (fixtures shared by server tests)
from workflows.routing import forget_rankings


@pytest.fixture(autouse=True)
def fresh_rankings():
    """Routing rankings are cached per process; ids repeat across tests on SQLite."""
    forget_rankings()
    yield
    forget_rankings()


@pytest.fixture
def finance(db):
    return DepartmentFactory(name="Finance", slug="finance")


@pytest.fixture
def support(db):
    return DepartmentFactory(name="Customer Support", slug="support")


@pytest.fixture
def finance_agent(finance):
    return AgentFactory(name="Invoice Bot", slug="invoice-bot", department=finance)


@pytest.fixture
def support_agent(support):
    return AgentFactory(name="Reply Bot", slug="reply-bot", department=support)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", roles=[Role.EXECUTIVE])


@pytest.fixture
def bob(finance):
    user = UserFactory(username="bob", roles=[Role.SUPERVISOR])
    finance.supervisors.add(user)
    return user


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", roles=[Role.POLICY_ADMIN])


@pytest.fixture
def dave(db):
    return UserFactory(username="dave", roles=[Role.AUDITOR])


@pytest.fixture
def erin(db):
    return UserFactory(username="erin", roles=[])
