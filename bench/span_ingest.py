"""Span ingest benchmark: spans/s through POST /v1/traces beside a raw PostgreSQL COPY of the same rows.

Run from the repository root: `.venv/bin/python bench/span_ingest.py`. It creates the PostgreSQL database
regent_bench_spans, starts the Procfile's web server (granian over config.wsgi, one worker, DEBUG off) and uvicorn
over config.asgi on it, and sends EXPORTS exports of 512 spans (the OpenTelemetry SDK's default batch), one after
another, as an agent's exporter does: GenAI model calls with their messages (half of them carrying an e-mail address
and a phone number to mask) and tool calls with arguments and results. Everything the endpoint does is timed: HTTP,
key, parsing, reading the gen_ai.* attributes, masking, bounding, pricing, the one COPY, the commit. The baseline is a
raw COPY of exactly the rows the endpoint stored (read back from the table after a first, untimed pass, and removed: a
span is stored once), 512 rows per transaction, in the same run. Each way sends spans of its own (other trace ids), as
new exports bring; `traces.ingest` in process (protobuf parsed, no HTTP) shows where the time goes. The ways take
turns export by export, so the shared machine's busy moments fall on all alike. Nothing asserts a wall-clock limit.
SPAN_BENCH_DEBUG=1 prints every export's time.
"""

import base64
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "regent_bench_spans")
EXPORTS = int(os.environ.get("SPAN_EXPORTS", "20"))
SPANS = 512

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DB_CONN_MAX_AGE="60")

from bench import databases  # noqa: E402

DATABASE_URL = databases.recreate(DATABASE)
os.environ["DATABASE_URL"] = DATABASE_URL

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

from orchestration.keys import issue_key  # noqa: E402
from orchestration.models import Agent, Department, ModelProvider  # noqa: E402
from tests.support.servers import answers, free_port  # noqa: E402
from traces import otlp  # noqa: E402
from traces.ingest import ingest  # noqa: E402
from traces.models import RedactionPattern, Span, TokenPrice  # noqa: E402

COLUMNS = [f.column for f in Span._meta.concrete_fields if f.column != "id"]


def seed() -> tuple[Agent, str]:
    department = Department.objects.create(name="Finance", slug="finance", monthly_budget=Decimal("1e9"))
    agent = Agent.objects.create(
        name="Invoice Bot",
        slug="invoice-bot",
        department=department,
        provider=ModelProvider.objects.create(name="Sim"),
        monthly_budget=Decimal("1e9"),
    )
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    RedactionPattern.objects.create(name="claim number", pattern=r"CLM-\d{5}")
    return agent, issue_key(agent)


def export(number: int) -> ExportTraceServiceRequest:
    """512 spans of 128 agent runs: a root, a model call with messages, a tool call, a second model call."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "invoice-agent"
    scope = resource.scope_spans.add()
    start = time.time_ns()
    for n in range(SPANS):
        run, step = divmod(n, 4)
        span = scope.spans.add()
        span.trace_id = (number * 1000 + run + 1).to_bytes(16, "big")
        span.span_id = (step + 1).to_bytes(8, "big")
        if step:
            span.parent_span_id = (1).to_bytes(8, "big")
        span.start_time_unix_nano, span.end_time_unix_nano = start + step * 10**6, start + (step + 1) * 900_000
        contact = "Reach jane.doe@example.com or +44 20 7946 0958 about CLM-88213. " if run % 2 else ""
        attributes = {
            0: {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "invoice-agent"},
            2: {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup_invoice",
                "gen_ai.tool.call.id": f"call_{number}_{run}",
                "gen_ai.tool.call.arguments": json.dumps({"invoice": run, "supplier": "ACME"}),
                "gen_ai.tool.call.result": json.dumps({"total": "120.00", "currency": "EUR", "status": "open"}),
            },
        }.get(
            step,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.input_tokens": 1800,
                "gen_ai.usage.output_tokens": 210,
                "gen_ai.input.messages": json.dumps(
                    [
                        {"role": "system", "parts": [{"type": "text", "content": "You settle supplier invoices."}]},
                        {"role": "user", "parts": [{"type": "text", "content": contact + "Settle invoice " * 20}]},
                    ]
                ),
                "gen_ai.output.messages": json.dumps(
                    [{"role": "assistant", "parts": [{"type": "text", "content": "Looking it up. " * 10}]}]
                ),
            },
        )
        span.name = f"{attributes['gen_ai.operation.name']} {step}"
        span.kind = 3 if step else 1
        for key, value in attributes.items():
            target = span.attributes.add(key=key).value
            if isinstance(value, int):
                target.int_value = value
            else:
                target.string_value = value
    return request


# The servers the endpoint is timed on: the Procfile's web (granian over config.wsgi, one worker: production's HTTP)
# and uvicorn over config.asgi (one worker: the stream process, which serves HTTP too).
GRANIAN = ["granian", "--interface", "wsgi", "config.wsgi:application", "--workers", "1", "--no-ws"]
SERVERS = {
    "granian": [*GRANIAN, "--log-level", "warning"],
    "uvicorn": ["uvicorn", "config.asgi:application", "--log-level=warning"],
}


def start_server(name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "bench-" + "x" * 50,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_RATE": "100000/min",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", *SERVERS[name], "--host", "127.0.0.1", f"--port={port}"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not answers(f"{url}/healthz"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.1)
    return process, url


def post(url: str, key: str, body: bytes, kind: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own server)
        f"{url}/v1/traces", data=body, method="POST", headers={"Authorization": f"Bearer {key}", "Content-Type": kind}
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        assert response.status == 200 and response.read() in (b"", b"{}")


def timed(work, *args) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def copy_batch(connection: psycopg.Connection, rows: list[tuple]) -> None:
    """Rows the endpoint stored, copied in again raw, in one transaction."""
    with connection.cursor() as cursor, cursor.copy(f"COPY traces_span ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    connection.commit()


def bench(agent: Agent, key: str, urls: dict[str, str], sets: dict[str, list[bytes]]) -> dict[str, list[float]]:
    """Each way, export by export in turn, so that a busy moment on the shared machine falls on all of them alike.
    The COPY copies rows the endpoint stored in a first pass (not timed), then removed."""
    for n, body in enumerate(sets["first"]):  # and every server has served exports before it is timed
        post(urls["granian" if n % 2 else "uvicorn"], key, body, otlp.PROTOBUF)
    rows = stored_rows(EXPORTS * SPANS)
    timings: dict[str, list[float]] = {way: [] for way in WAYS}
    with psycopg.connect(DATABASE_URL) as connection:
        connection.execute("TRUNCATE traces_span")
        connection.commit()
        for n in range(EXPORTS):
            for way, (server, kind) in ENDPOINT_WAYS.items():
                timings[way].append(timed(post, urls[server], key, sets[way][n], kind))
                if way == "protobuf":
                    timings["copy"].append(timed(copy_batch, connection, rows[n * SPANS : (n + 1) * SPANS]))
            service = sets["service"][n]
            timings["service"].append(timed(lambda body: ingest(agent, otlp.parse(body, otlp.PROTOBUF)), service))
    return timings


# way: (server, body format); each way sends exports of its own.
ENDPOINT_WAYS = {"protobuf": ("granian", otlp.PROTOBUF), "uvicorn": ("uvicorn", otlp.PROTOBUF)}
ENDPOINT_WAYS |= {"json": ("granian", otlp.JSON)}
WAYS = ("protobuf", "uvicorn", "json", "service", "copy")


def stored_rows(limit: int) -> list[tuple]:
    with psycopg.connect(DATABASE_URL) as connection:
        select = f"SELECT {', '.join(COLUMNS)} FROM traces_span ORDER BY id LIMIT {limit}"
        return [
            tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row) for row in connection.execute(select)
        ]


def main() -> None:
    agent, key = seed()
    sets = {
        way: [export(number * EXPORTS + n).SerializeToString() for n in range(EXPORTS)]
        for number, way in enumerate(("first", "protobuf", "uvicorn", "json", "service"))
    }
    sets["json"] = [_otlp_json(ExportTraceServiceRequest.FromString(body)) for body in sets["json"]]
    servers = {name: start_server(name) for name in SERVERS}
    try:
        timings = bench(agent, key, {name: url for name, (_, url) in servers.items()}, sets)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    if os.environ.get("SPAN_BENCH_DEBUG"):
        for way, values in timings.items():
            print(way, " ".join(f"{v * 1000:.0f}" for v in values))
    rows = stored_rows(EXPORTS * SPANS)
    masked = sum("[email]" in row[COLUMNS.index("input_messages")] for row in rows)
    databases.drop(DATABASE)

    spans = EXPORTS * SPANS
    copy_rate = spans / sum(timings["copy"])
    print(f"\nSpan ingest: {EXPORTS} exports × {SPANS} spans into PostgreSQL, one export at a time, each way in turn")
    print(f"{'':46}{'spans/s':>10}{'ms/export':>11}{'÷ COPY':>8}")
    for label, key_ in (
        ("POST /v1/traces, protobuf (granian: the web)", "protobuf"),
        ("POST /v1/traces, protobuf, uvicorn (ASGI)", "uvicorn"),
        ("POST /v1/traces, OTLP JSON (granian)", "json"),
        ("traces.ingest in process (parsed protobuf)", "service"),
        ("raw COPY of the same stored rows (baseline)", "copy"),
    ):
        rate = spans / sum(timings[key_])
        print(f"{label:46}{rate:>10,.0f}{statistics.median(timings[key_]) * 1000:>11.1f}{rate / copy_rate:>8.1%}")
    print(
        f"{masked:,} of {len(rows):,} stored rows had an e-mail masked in their messages; goal: protobuf ≥ 40% of COPY"
    )


def _otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP's JSON: protobuf's JSON mapping with the ids in hex."""
    document = json_format.MessageToDict(request)
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for name in ("traceId", "spanId", "parentSpanId"):
            if name in span:
                span[name] = base64.b64decode(span[name]).hex()
    return json.dumps(document).encode()


if __name__ == "__main__":
    main()
