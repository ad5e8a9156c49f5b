"""MCP gateway benchmark: an allowed tool call through Regent's /mcp/ against the same call made directly to the
same upstream MCP server, p50 and p99, at 1 and 50 concurrent agents.

Run from the repository root: `.venv/bin/python bench/mcp_gateway.py` (PostgreSQL up). It creates the database
regent_bench_mcp with 50 agents (each its own key and the capability the tool needs) and starts three processes:
the ledger's MCP server (tests/support/mcp.py: MCPServer over stateless Streamable HTTP, uvicorn), Regent
(`uvicorn config.asgi:application`, one process, DEBUG off) and the audit sequencer. Each agent is one SDK
`Client` session kept open, calling `pay_invoice` (12.50 EUR, allowed: no policy) in a closed loop for
MCP_BENCH_SECONDS (default 10) per row; "direct" is the same clients on the upstream's URL with its credential.
Through the gateway each call is: the key checked, evaluate_action (decision, budget reservation, audit event),
the upstream called with the SDK's client, the outcome recorded. The clients run in this process and share the
machine's cores with the servers. Nothing asserts a wall-clock limit.
"""

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_mcp"
SECONDS = float(os.environ.get("MCP_BENCH_SECONDS", "10"))
AGENTS = 50
ARGUMENTS = {"invoice": {"vendor": "Acme Paper", "total": 12.5, "currency": "EUR"}}

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings")

from bench import databases  # noqa: E402

DATABASE_URL = databases.recreate(DATABASE)
os.environ["DATABASE_URL"] = DATABASE_URL

import django  # noqa: E402

django.setup()

from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from gateway.models import GatewayTool, UpstreamServer  # noqa: E402
from orchestration.keys import issue_key  # noqa: E402
from tests.factories import AgentFactory, CapabilityFactory, DepartmentFactory  # noqa: E402
from tests.support.mcp import UPSTREAM_CREDENTIAL  # noqa: E402
from tests.support.servers import answers, free_port  # noqa: E402


def start(command: list[str], log, ready_url: str | None = None) -> subprocess.Popen:
    environment = {name: value for name, value in os.environ.items() if name not in ("DEBUG",)}
    environment.update(
        DATABASE_URL=DATABASE_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="CRITICAL",
    )
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=environment, stdout=log, stderr=log)  # noqa: S603
    deadline = time.monotonic() + 30
    while ready_url and not answers(ready_url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{command} did not start (exit code {process.poll()}); see {log.name}")
        time.sleep(0.2)
    return process


def uvicorn(target: str, port: int, *options: str) -> list[str]:
    return ["-m", "uvicorn", target, *options, "--host", "127.0.0.1", f"--port={port}", "--log-level=critical"]


async def agent(url: str, authorization: str, run: "Run") -> None:
    async with (
        create_mcp_http_client(headers={"Authorization": authorization}) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        run.connected += 1
        await run.go.wait()
        while time.perf_counter() < run.deadline:
            started = time.perf_counter()
            result = await client.call_tool("pay_invoice", ARGUMENTS)
            run.took.append(time.perf_counter() - started)
            if result.is_error:
                run.errors.append(result.content[0].text)


class Run:
    """Agents connect first (an SDK client's HTTP client costs ~0.1 s of CPU to make), then call together."""

    def __init__(self, agents: int, seconds: float) -> None:
        self.agents, self.seconds = agents, seconds
        self.connected, self.deadline = 0, 0.0
        self.go = asyncio.Event()
        self.took: list[float] = []
        self.errors: list[str] = []

    async def start_when_connected(self) -> None:
        while self.connected < self.agents:
            await asyncio.sleep(0.05)
        self.deadline = time.perf_counter() + self.seconds
        self.go.set()


async def load(url: str, authorizations: list[str], seconds: float) -> tuple[list[float], list[str]]:
    run = Run(len(authorizations), seconds)
    await asyncio.gather(run.start_when_connected(), *(agent(url, auth, run) for auth in authorizations))
    return run.took, run.errors


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    log = tempfile.NamedTemporaryFile(prefix="regent-bench-mcp-", suffix=".log", delete=False)  # noqa: SIM115
    upstream_port, regent_port = free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}/mcp"
    payments = CapabilityFactory(code="payments.execute")
    ledger = UpstreamServer.objects.create(name="Ledger", url=upstream_url, credential=UPSTREAM_CREDENTIAL)
    GatewayTool.objects.create(
        server=ledger,
        name="pay_invoice",
        exposed=True,
        capability=payments,
        resource_path="invoice.vendor",
        amount_path="invoice.total",
        currency_path="invoice.currency",
    )
    department = DepartmentFactory(monthly_budget=Decimal("1000000000"))
    keys = []
    for _ in range(AGENTS):
        member = AgentFactory(department=department, monthly_budget=Decimal("1000000000"))
        member.capabilities.add(payments)
        keys.append(f"Bearer {issue_key(member)}")
    processes = [
        start(uvicorn("tests.support.mcp:guarded_ledger", upstream_port, "--factory"), log),
        start(uvicorn("config.asgi:application", regent_port, "--no-access-log"), log),
        start(["manage.py", "sequence_audit"], log),
    ]
    gateway_url = f"http://127.0.0.1:{regent_port}/mcp/"
    try:
        for url in (upstream_url, f"http://127.0.0.1:{regent_port}/healthz"):
            deadline = time.monotonic() + 30
            while not answers(url.replace("/mcp", "/mcp/")) and not answers(url) and time.monotonic() < deadline:
                time.sleep(0.2)
        print(f"MCP gateway: {SECONDS:.0f} s per row, one Regent process; load {os.getloadavg()[0]:.1f}")
        print(f"{'agents':>7}{'path':>10}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'p50 x':>8}{'p99 x':>8}")
        asyncio.run(load(gateway_url, keys[:4], 2))  # warm-up
        asyncio.run(load(upstream_url, [UPSTREAM_CREDENTIAL] * 4, 2))
        for agents in (1, AGENTS):
            direct, direct_errors = asyncio.run(load(upstream_url, [UPSTREAM_CREDENTIAL] * agents, SECONDS))
            through, through_errors = asyncio.run(load(gateway_url, keys[:agents], SECONDS))
            base50, base99 = percentile_ms(direct, 0.5), percentile_ms(direct, 0.99)
            for path, took, errors in (("direct", direct, direct_errors), ("gateway", through, through_errors)):
                p50, p99 = percentile_ms(took, 0.5), percentile_ms(took, 0.99)
                print(
                    f"{agents:>7}{path:>10}{len(took) / SECONDS:>9.0f}{p50:>9.1f}{p99:>9.1f}{len(errors):>8}"
                    f"{p50 / base50:>8.1f}{p99 / base99:>8.1f}",
                    flush=True,
                )
            if through_errors:
                print(f"  first gateway error: {through_errors[0]}")
        print(f"load {os.getloadavg()[0]:.1f} at the end; server log: {log.name}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        databases.drop(DATABASE)


if __name__ == "__main__":
    main()
