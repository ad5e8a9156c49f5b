"""docs/traces.md's example, run as an agent would run it: its own process, against a real Regent."""

import os
import re
import subprocess
import sys
from pathlib import Path

from governance.models import Decision
from orchestration.keys import issue_key
from traces.models import Span

DOC = Path(__file__).resolve().parents[2] / "docs" / "traces.md"


def test_the_documented_example_exports_its_spans_and_links_its_decision(asgi_server, finance_agent, tmp_path):
    # Given the example as the documentation prints it, and the agent's key
    example = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL).group(1)
    script = tmp_path / "agent.py"
    script.write_text(example)
    env = {**os.environ, "REGENT_URL": asgi_server.url, "REGENT_API_KEY": issue_key(finance_agent)}

    # When it runs
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)  # noqa: S603

    # Then Regent decided, and the decision is linked to the trace whose three spans Regent now holds
    assert run.returncode == 0, run.stderr
    decision_id, verdict = run.stdout.split()
    decision = Decision.objects.get(pk=int(decision_id))
    assert verdict == decision.verdict
    spans = Span.objects.filter(trace_id=decision.trace_id, agent=finance_agent)
    assert sorted(spans.values_list("name", flat=True)) == [
        "chat gpt-4o",
        "execute_tool pay_invoice",
        "invoke_agent invoice-agent",
    ]
    assert spans.get(span_id=decision.span_id).tool_name == "pay_invoice"
