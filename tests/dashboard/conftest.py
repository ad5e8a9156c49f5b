"""Fixtures for the executive pages; the rollup checks they share with the API's are in tests/support/rollups.py."""

import pytest

from dashboard.periods import Period, period_for
from tests.support.clock import NOW


@pytest.fixture
def day() -> Period:
    """The 24 hours up to NOW, the governance fixtures' clock."""
    return period_for("24h", NOW)
