"""Shared fixtures: a small organisation and the people who hold each role, the caches every test starts
without, and (through pytest_plugins) the fixtures of each concept in tests/fixtures/.

alice is an Executive, bob supervises Finance only, carol is a Policy Admin, dave is an Auditor,
and erin has an account but no role.

Every test sees these fixtures without importing anything, and no test imports a conftest: plain helpers
are in tests/support/. A folder's conftest.py holds only what that folder alone uses.
"""

import os
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection

from dashboard.glossary import forget_capabilities
from governance import engine
from orchestration.roles import Role
from tests.factories import AgentFactory, DepartmentFactory, UserFactory
from tests.support.parallel import worker_redis_url
from workflows.routing import forget_rankings

# The test organisation keeps its budgets in USD and its agents also spend EUR and GBP, which it trades at par
# unless a test sets other rates: the processes tests start read it from the environment, this one from the fixture.
TEST_EXCHANGE_RATES = {"EUR": Decimal("1"), "GBP": Decimal("1")}
os.environ.setdefault("EXCHANGE_RATES", ",".join(f"{code}={rate}" for code, rate in TEST_EXCHANGE_RATES.items()))

pytest_plugins = [
    "tests.fixtures.audit",
    "tests.fixtures.governance",
    "tests.fixtures.identity",
    "tests.fixtures.notifications",
    "tests.fixtures.servers",
    "tests.fixtures.workflows",
]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway) -> None:
    """Each xdist worker's process gets a Redis database of its own before it reads Django's settings."""
    if url := os.environ.get("REDIS_URL", ""):
        gateway.remote_exec(f"import os; os.environ['REDIS_URL'] = {worker_redis_url(url, gateway.id)!r}").waitclose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive Chromium run after all the others, in their order.

    Playwright's sync API marks its asyncio loop as running in the test's thread while a browser is open (a
    module's: tests/browser/conftest.py). A test run meanwhile that calls asyncio.run() or async_to_sync (the
    fault script, a consumer driven from sync code) refuses to start.
    """
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """A test database's commits do not wait for the disk (PostgreSQL's synchronous_commit off).

    Nothing in it must survive a crash, and a commit that waits for its WAL to be flushed is most of what a
    flush before each transactional test costs (0.5 s down to 0.35 s here) and much of a committing test's time.
    Set on the database, so the server and worker processes that tests start get it too.
    """
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        connection.close()
        connection.close_pool()  # its connections were opened before the setting


@pytest.fixture(autouse=True)
def fresh_rankings():
    """Routing rankings are cached per process; ids repeat across tests on SQLite."""
    forget_rankings()
    yield
    forget_rankings()


@pytest.fixture(autouse=True)
def exchange_rates(settings) -> None:
    settings.EXCHANGE_RATES = dict(TEST_EXCHANGE_RATES)


@pytest.fixture(autouse=True)
def fresh_capability_words() -> Iterator[None]:
    """Capability descriptions are cached per process for a minute: a test must not read another test's."""
    forget_capabilities()
    yield
    forget_capabilities()


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
