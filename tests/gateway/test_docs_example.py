"""The client example in docs/mcp-gateway.md, copied out of the page and run as an agent would run it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.models import ToolCall

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "mcp-gateway.md"


def client_example() -> str:
    return re.search(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL).group(1)


def test_the_documented_client_lists_and_calls_tools_through_regent(gateway_url, agent_key, tmp_path):
    # given the page's example saved as the agent's script, with its URL and key in the environment
    script = tmp_path / "agent.py"
    script.write_text(client_example())
    environment = {**os.environ, "REGENT_MCP_URL": gateway_url, "REGENT_API_KEY": agent_key}

    # when the agent runs it
    run = subprocess.run(  # noqa: S603 (the test's own script)
        [sys.executable, str(script)], env=environment, capture_output=True, text=True, timeout=60, check=False
    )

    # then it saw the tools it may call and paid the invoice through Regent
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["tools: ['pay_invoice', 'refund_order']", "done: Paid 120.0 EUR to Acme Paper."]
    assert ToolCall.objects.get().status == ToolCall.Status.SUCCEEDED
