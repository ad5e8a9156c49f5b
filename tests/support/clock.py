"""The fixed moment the governance fixtures ask at (see `decide` in tests/fixtures/governance.py)."""

import datetime as dt

NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)
