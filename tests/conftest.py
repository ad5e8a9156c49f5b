"""Shared fixtures: a small organisation and the people who hold each role, the caches every test starts
without, and (through pytest_plugins) the fixtures of each concept in tests/fixtures/.

alice is an Executive, bob supervises Finance only, carol is a Policy Admin, dave is an Auditor,
and erin has an account but no role.

Every test sees these fixtures without importing anything, and no test imports a conftest: plain helpers
are in tests/support/. A folder's conftest.py holds only what that folder alone uses.
"""

from collections.abc import Iterator

import pytest

from governance import engine
from orchestration.roles import Role
from tests.factories import AgentFactory, DepartmentFactory, UserFactory
from workflows.routing import forget_rankings

pytest_plugins = [
    "tests.fixtures.audit",
    "tests.fixtures.governance",
    "tests.fixtures.servers",
    "tests.fixtures.workflows",
]


@pytest.fixture(autouse=True)
def fresh_rankings():
    """Routing rankings are cached per process; ids repeat across tests on SQLite."""
    forget_rankings()
    yield
    forget_rankings()


@pytest.fixture(autouse=True)
def fresh_policy_index() -> Iterator[None]:
    """Start and end each test with an empty policy index.

    The database is rolled back between tests and SQLite then hands out the same ids again, so an index
    cached during one test could pass for current in the next.
    """
    engine._cached_index = engine.PolicyIndex([])
    yield
    engine._cached_index = engine.PolicyIndex([])


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
