"""The decision explorer's result count and its CSV export, both over the filtered, scoped decisions.

The count is bounded: counting every match of a broad filter at ten million decisions would cost more than
the page, so it stops at COUNT_LIMIT and the page says "more than". The export streams in keyset pages of
EXPORT_CHUNK rows (the explorer's own cursor), so memory stays flat and no server-side cursor is held open
across a pooled connection; it stops at EXPORT_MAX_ROWS, which the page states beside the button.
"""

import csv
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db.models import QuerySet

from dashboard.decisions import page_of

COUNT_LIMIT = 10_000
TEXT_SEARCH_COUNT_LIMIT = 1_000
EXPORT_CHUNK = 2_000
EXPORT_MAX_ROWS = 100_000
BOM = "\ufeff"  # spreadsheets read the file as UTF-8 only with it
HEADER = (
    "Decision id",
    "Time (UTC)",
    "Agent",
    "Department",
    "Action",
    "Resource",
    "Amount",
    "Currency of the amount",
    "Verdict",
    "Risk score (0–100)",
    "Policies that fired",
    "Overridden by a person",
)


@dataclass(frozen=True)
class MatchCount:
    value: int
    exact: bool  # False: at least `value` match; counting stopped there

    @property
    def limit_display(self) -> str:
        return f"{self.value:,}"

    def __str__(self) -> str:
        if not self.exact:
            return f"More than {self.value:,} decisions match"
        return "1 decision matches" if self.value == 1 else f"{self.value:,} decisions match"


def count_matches(decisions: QuerySet, limit: int | None = None, *, text_search: bool = False) -> MatchCount:
    """How many decisions match, counted up to `limit` (one index walk of at most limit + 1 rows).

    A text search counts newest first, up to TEXT_SEARCH_COUNT_LIMIT: for a common term the planner then walks
    (created_at, id) and stops after that many matches, where a count in any order reads every entry of the
    term's trigrams in the whole table (the index does not know the window): 225 ms at 2 million decisions. A
    rare term is looked up in the trigram index either way.
    """
    if text_search:
        limit = limit or TEXT_SEARCH_COUNT_LIMIT
        found = decisions.order_by("-created_at", "-id").values("pk")[: limit + 1].count()
    else:
        limit = limit or COUNT_LIMIT
        found = decisions.order_by().values("pk")[: limit + 1].count()
    return MatchCount(min(found, limit), exact=found <= limit)


class _Echo:
    """csv.writer writes to it and gets the line back, so each row can be streamed as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_lines(decisions: QuerySet, max_rows: int = EXPORT_MAX_ROWS) -> Iterator[str]:
    """The CSV file, line by line: a BOM and the header, then the decisions newest first."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(HEADER)
    written, older = 0, ""
    while written < max_rows:
        page = page_of(decisions, older=older, size=min(EXPORT_CHUNK, max_rows - written))
        for d in page.rows:
            yield writer.writerow(_row(d))
        written += len(page.rows)
        if page.older is None:
            return
        older = page.older


def _row(d) -> list:
    fired = d.matched_policies
    policies = "; ".join(p.get("name", "") + (" (shadow)" if p.get("mode") == "shadow" else "") for p in fired)
    return [
        d.pk,
        d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        d.agent.name,
        d.department.name,
        d.action,
        d.resource,
        "" if d.amount is None else f"{d.amount:.2f}",
        d.currency,
        d.get_verdict_display(),
        d.risk_score,
        policies,
        "yes" if getattr(d, "override", None) else "no",
    ]


async def async_lines(lines: Iterator[str], batch: int = 500) -> AsyncIterator[str]:
    """`lines` for an ASGI server, `batch` at a time: Django reads a plain iterator whole before sending a byte
    when it serves asynchronously, which would hold the entire export in memory."""
    take = sync_to_async(lambda: "".join(itertools.islice(lines, batch)))
    while chunk := await take():
        yield chunk
