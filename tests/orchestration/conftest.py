"""Every test here runs workflow tasks in the test's process, whatever broker the environment names.

The workflow fixtures themselves (an invoice workflow, agents hired for it, a stand-in provider, HTTP
endpoints) are shared from tests/fixtures/workflows.py; its helpers are in tests/support/workflows.py.
"""

import pytest


@pytest.fixture(autouse=True)
def every_task_in_process(tasks_run_in_process: None) -> None:
    """`tasks_run_in_process` (tests/fixtures/workflows.py) for every test in this folder."""
