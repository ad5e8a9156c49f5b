"""Plotly figures built on the server from aggregated numbers (never points per decision).

Readable without colour: lines differ by dash and marker, bars by fill pattern, and values are
written on the marks; each chart also carries its numbers as a table (`Chart.table`) that the page
shows under it, which is what a keyboard or screen-reader user reads.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go
from django.conf import settings
from django.urls import reverse

from dashboard.glossary import TERMS, VERDICT_LABELS
from dashboard.interactions import DELEGATION, SHARED, Edge, Graph
from dashboard.kpis.concentration import ProviderShare
from dashboard.kpis.risk import RISK_BANDS, DepartmentRisk, PolicyHits
from dashboard.kpis.routing_shift import RoutingShift
from dashboard.kpis.trend import Trend
from dashboard.kpis.value import CostValue
from dashboard.league import AgentTrend
from dashboard.money import currency_symbol, format_money, unit_label
from dashboard.periods import Period

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("solid", "dash", "dot", "dashdot")
# Cost in a calm sky blue, not vermilion: vermilion marks what is above a limit, and cost beside value is no alarm
COST_COLOUR = PALETTE[5]
SYMBOLS = ("circle", "square", "diamond", "triangle-up")
PATTERNS = ("", "/", ".", "x", "-", "+")
LABELLED_EDGES = 30  # more numbers than this on a graph hide it; the table lists every edge
NODE_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "hexagon", "star", "pentagon", "cross")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str
    figure: dict
    headers: Sequence[str]
    rows: Sequence[Sequence]


def _layout(title: str, xaxis: dict | None = None, yaxis: dict | None = None, **extra) -> dict:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "template": "none",
        "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "height": 320,
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.25},
        "xaxis": {"automargin": True, "nticks": 12, **(xaxis or {})},
        "yaxis": {"automargin": True, **(yaxis or {})},
        **extra,
    }


def _figure(traces: list, layout: dict) -> dict:
    return go.Figure(data=traces, layout=layout).to_plotly_json()


def _bucket_label(period: Period) -> str:
    return "%a %H:00" if period.grain == "hour" else "%d %b"


def rates_chart(trend: Trend, period: Period) -> Chart:
    labels = [b.strftime(_bucket_label(period)) for b in trend.buckets]
    traces = [
        go.Scatter(
            x=labels,
            y=values,
            name=name,
            mode="lines+markers",
            connectgaps=False,
            line={"color": PALETTE[i], "dash": DASHES[i], "width": 2},
            marker={"symbol": SYMBOLS[i], "size": 7},
            hovertemplate=f"{name}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )
        for i, (name, values) in enumerate(trend.rates.items())
    ]
    layout = _layout("Rates over the period", yaxis={"title": {"text": "% of decisions"}, "rangemode": "tozero"})
    rows = [[label, *(_pct(trend.rates[name][i]) for name in trend.rates)] for i, label in enumerate(labels)]
    return Chart(
        "rates",
        "Rates over the period",
        "Automation, escalation, violation and rejection rates per " + period.grain,
        _figure(traces, layout),
        ["Bucket", *trend.rates],
        rows,
    )


def decisions_chart(trend: Trend, period: Period) -> Chart:
    labels = [b.strftime(_bucket_label(period)) for b in trend.buckets]
    trace = go.Bar(
        x=labels,
        y=trend.decisions,
        name="Decisions",
        marker={"color": PALETTE[0]},
        hovertemplate="%{y:,} decisions<extra>%{x}</extra>",
    )
    layout = _layout("Decisions", yaxis={"title": {"text": "decisions"}}, showlegend=False)
    return Chart(
        "decisions",
        "Decisions",
        f"Decisions per {period.grain}",
        _figure([trace], layout),
        ["Bucket", "Decisions"],
        list(zip(labels, trend.decisions, strict=True)),
    )


def risk_heatmap(departments: list[DepartmentRisk]) -> Chart:
    bands = RISK_BANDS
    names = [d.department for d in departments]
    shares = [[_share(d.bands[key], d.decisions) for key, _ in bands] for d in departments]
    counts = [[d.bands[key] for key, _ in bands] for d in departments]
    trace = go.Heatmap(
        z=shares,
        x=[label.split(" ")[0] for _, label in bands],
        y=names,
        text=counts,
        colorscale="Blues",
        zmin=0,
        zmax=100,
        colorbar={"title": {"text": "% of decisions"}},
        texttemplate="%{z:.0f}% (%{text:,})",
        hovertemplate="%{y}, %{x} risk: %{z:.1f}%<extra></extra>",
    )
    layout = _layout(
        "Decisions by risk band",
        height=max(280, 80 + 40 * len(names)),
        xaxis={"title": {"text": "risk band: low 0–24, moderate 25–49, high 50–74, critical 75–100"}, "side": "bottom"},
    )
    return Chart(
        "risk-heatmap",
        "Decisions by risk band",
        "Share of each department's decisions in each risk band, with counts",
        _figure([trace], layout),
        ["Department", *(label for _, label in bands)],
        [
            [n, *(f"{_pct(s)} ({c:,})" for s, c in zip(row, crow, strict=True))]
            for n, row, crow in zip(names, shares, counts, strict=True)
        ],
    )


def appetite_chart(departments: list[DepartmentRisk]) -> Chart:
    names = [d.department.replace(" ", "<br>") for d in departments]  # wrapped, so labels need no slant
    risk = [d.average_risk for d in departments]
    appetite = [d.appetite for d in departments]
    traces = [
        go.Bar(
            x=names,
            y=risk,
            name="Average risk",
            marker={"color": PALETTE[0], "pattern": {"shape": "/"}},
            text=[f"{r:.0f}" if r is not None else "" for r in risk],
            textposition="outside",
        ),
        go.Scatter(
            x=names,
            y=appetite,
            name="Risk appetite",
            mode="markers",
            marker={"symbol": "line-ew", "size": 40, "line": {"width": 3, "color": PALETTE[1]}},
        ),
    ]
    layout = _layout("Risk against appetite", yaxis={"title": {"text": "risk score (0–100)"}, "range": [0, 100]})
    rows = [
        [
            d.department,
            d.average_risk if d.average_risk is not None else "–",
            d.appetite,
            "over appetite" if d.over_appetite else "within",
        ]
        for d in departments
    ]
    return Chart(
        "appetite",
        "Risk against appetite",
        "Average risk score per department (bars) against the department's appetite (line)",
        _figure(traces, layout),
        ["Department", "Average risk", "Appetite", "Status"],
        rows,
    )


def policy_chart(hits: list[PolicyHits]) -> Chart:
    names = [h.policy for h in reversed(hits)]
    traces = [
        go.Bar(
            y=names,
            x=[h.enforced for h in reversed(hits)],
            name="Enforced",
            orientation="h",
            marker={"color": PALETTE[0]},
            text=[h.enforced or "" for h in reversed(hits)],
        ),
        go.Bar(
            y=names,
            x=[h.shadow for h in reversed(hits)],
            name="Shadow (not enforced)",
            orientation="h",
            marker={"color": PALETTE[4], "pattern": {"shape": "x"}},
            text=[h.shadow or "" for h in reversed(hits)],
        ),
    ]
    layout = _layout(
        "Policies that fire most",
        barmode="stack",
        height=max(260, 80 + 28 * len(names)),
        yaxis={"automargin": True},
        xaxis={"title": {"text": "times fired"}},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    return Chart(
        "policies",
        "Policies that fire most",
        "Times each policy fired in the period, enforced and in shadow mode",
        _figure(traces, layout),
        ["Policy", "Enforced", "Shadow"],
        [[h.policy, h.enforced, h.shadow] for h in hits],
    )


def cost_value_chart(rows: list[CostValue], by: str) -> Chart:
    names = [r.name.replace(" ", "<br>") for r in rows]
    traces = [
        go.Bar(
            x=names,
            y=[r.cost for r in rows],
            name=TERMS["cost"].label,
            marker={"color": COST_COLOUR, "pattern": {"shape": "/"}},
            text=[format_money(r.cost, whole=True) for r in rows],
            textposition="outside",
        ),
        go.Bar(
            x=names,
            y=[r.value for r in rows],
            name=TERMS["value"].label,
            marker={"color": PALETTE[2]},
            text=[format_money(r.value, whole=True) for r in rows],
            textposition="outside",
        ),
    ]
    title = f"Cost and value delivered by {by}"
    # Amounts side by side, never below zero: nothing here is a loss (glossary: value delivered)
    axis = {
        "title": {"text": unit_label("amount")},
        "tickprefix": currency_symbol(),
        "separatethousands": True,
        "rangemode": "nonnegative",
    }
    return Chart(
        f"cost-value-{by}",
        title,
        f"Reported cost beside the value delivered per {by}, in {settings.ORG_CURRENCY}: two measures, not a loss",
        _figure(traces, _layout(title, barmode="group", yaxis=axis)),
        [by.capitalize(), "Decisions", unit_label("Spend"), unit_label("Cost"), unit_label(TERMS["value"].label)],
        [
            [
                r.name,
                f"{r.decisions:,}",
                format_money(r.spend, whole=True) + (f" ({r.spend_also})" if r.spend_also else ""),
                format_money(r.cost, whole=True),
                format_money(r.value, whole=True),
            ]
            for r in rows
        ],
    )


def provider_chart(shares: list[ProviderShare], threshold: int) -> Chart:
    names = [s.provider for s in reversed(shares)]
    trace = go.Bar(
        y=names,
        x=[s.share for s in reversed(shares)],
        orientation="h",
        name="Share of work",
        marker={
            "color": [PALETTE[1] if s.over_threshold else PALETTE[0] for s in reversed(shares)],
            "pattern": {"shape": ["x" if s.over_threshold else "" for s in reversed(shares)]},
        },
        text=[f"{s.share:.1f}%" + (" ⚠ over threshold" if s.over_threshold else "") for s in reversed(shares)],
        textposition="auto",
    )
    layout = _layout(
        "Share of work per provider",
        xaxis={"title": {"text": "% of decisions"}, "range": [0, 100]},
        yaxis={"automargin": True},
        height=max(240, 90 + 40 * len(names)),
        showlegend=False,
        shapes=[
            {
                "type": "line",
                "x0": threshold,
                "x1": threshold,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dash", "width": 2},
            }
        ],
        annotations=[
            {"x": threshold, "yref": "paper", "y": 1.02, "text": f"warning above {threshold}%", "showarrow": False}
        ],
    )
    return Chart(
        "providers",
        "Share of work per provider",
        f"Share of decisions per model provider; above {threshold}% is a lock-in risk",
        _figure([trace], layout),
        ["Provider", "Decisions", "Share", "Lock-in warning"],
        [[s.provider, f"{s.decisions:,}", f"{s.share:.1f}%", "yes" if s.over_threshold else "no"] for s in shares],
    )


def routing_chart(shift: RoutingShift) -> Chart:
    """Horizontal bars, one row per agent (names on the axis never collide), legend under the plot; a week with
    no routed steps is said in words on the chart, not drawn as an empty series."""
    agents = sorted(set(shift.before) | set(shift.after), key=lambda a: (-shift.after.get(a, 0), a))[:10]
    rows = list(reversed(agents))  # the largest share since the change at the top
    series = [
        ("Week before the change", shift.before, shift.steps_before, {"color": PALETTE[5], "pattern": {"shape": "."}}),
        ("Since the change", shift.after, shift.steps_after, {"color": PALETTE[0]}),
    ]
    traces = [
        go.Bar(
            y=[escape(a) for a in rows],
            x=[shares.get(a, 0) for a in rows],
            name=f"{label} ({steps:,} steps)",
            orientation="h",
            marker=marker,
            hovertemplate=f"{label}: %{{x:.1f}}%<extra>%{{y}}</extra>",
        )
        for label, shares, steps, marker in series
        if steps
    ]
    notes = [_routing_note(shift, agents)] if _routing_note(shift, agents) else []
    layout = _layout(
        "How routing shifted",
        barmode="group",
        height=max(260, 150 + 44 * len(rows)),
        annotations=[
            {
                "text": note,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5 if not agents else 0,
                "xanchor": "center" if not agents else "left",
                "y": 0.5 if not agents else 1.02,
                "yanchor": "middle" if not agents else "bottom",
                "font": {"size": 12, "color": "#5b6475"},
                "align": "left" if agents else "center",
            }
            for note in notes
        ],
        xaxis={"title": {"text": "% of routed steps"}, "visible": bool(agents), "rangemode": "tozero"},
        yaxis={"automargin": True, "visible": bool(agents)},
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"},
        margin={"l": 10, "r": 20, "t": 84 if notes and agents else 40, "b": 40},
    )
    return Chart(
        "routing",
        "How routing shifted",
        "Share of routed workflow steps per agent, the week before and since the last priority change",
        _figure(traces, layout),
        ["Agent", "Week before (% of steps)", "Since (% of steps)"],
        [
            [a, _pct(shift.before.get(a)) if shift.steps_before else "no steps", _pct(shift.after.get(a, 0))]
            for a in agents
        ],
    )


def _routing_note(shift: RoutingShift, agents: list[str]) -> str:
    if not agents:
        return "No workflow steps were routed around the last change."
    if not shift.steps_before:
        why = "routing began with this change" if shift.previous is None else "no steps were routed then"
        return f"No bars for the week before the change:<br>{why}, so there is nothing to compare."
    if not shift.steps_after:
        return "No steps routed since the change yet."
    return ""


def agent_decisions_chart(trend: AgentTrend, period: Period) -> Chart:
    labels = [b.strftime(_bucket_label(period)) for b in trend.buckets]
    traces = [
        go.Bar(
            x=labels,
            y=trend.by_verdict[verdict],
            name=label,
            marker={"color": PALETTE[i], "pattern": {"shape": PATTERNS[i]}},
            hovertemplate=f"{label}: %{{y:,}}<extra>%{{x}}</extra>",
        )
        for i, (verdict, label) in enumerate(VERDICT_LABELS.items())
    ]
    layout = _layout("Decisions by verdict", barmode="stack", yaxis={"title": {"text": "decisions"}})
    return Chart(
        "agent-decisions",
        "Decisions by verdict",
        f"The agent's decisions per {period.grain}, stacked by verdict",
        _figure(traces, layout),
        ["Bucket", *VERDICT_LABELS.values()],
        [[label, *(trend.by_verdict[v][i] for v in VERDICT_LABELS)] for i, label in enumerate(labels)],
    )


def agent_money_chart(trend: AgentTrend, period: Period, spend_also: str = "") -> Chart:
    """Spend and value in the organisation's currency; `spend_also` names what other currencies add (not drawn)."""
    labels = [b.strftime(_bucket_label(period)) for b in trend.buckets]
    series = {"Spend": trend.spend, "Value": trend.value}
    traces = [
        go.Scatter(
            x=labels,
            y=values,
            name=name,
            mode="lines+markers",
            line={"color": PALETTE[i], "dash": DASHES[i], "width": 2},
            marker={"symbol": SYMBOLS[i], "size": 7},
            hovertemplate=f"{name}: %{{y:,.2f}}<extra>%{{x}}</extra>",
        )
        for i, (name, values) in enumerate(series.items())
    ]
    layout = _layout(
        "Spend and value",
        yaxis={"title": {"text": unit_label("amount")}, "tickprefix": currency_symbol(), "rangemode": "tozero"},
    )
    return Chart(
        "agent-money",
        "Spend and value",
        f"What the agent spent and the value its outcomes reported, per {period.grain}, in {settings.ORG_CURRENCY}"
        + (f"; spend in other currencies is not drawn ({spend_also})" if spend_also else ""),
        _figure(traces, layout),
        ["Bucket", unit_label("Spend"), unit_label("Value")],
        [
            [label, format_money(spend), format_money(value)]
            for label, spend, value in zip(labels, trend.spend, trend.value, strict=True)
        ],
    )


def agent_risk_chart(trend: AgentTrend, period: Period) -> Chart:
    labels = [b.strftime(_bucket_label(period)) for b in trend.buckets]
    series = {"Average risk score": trend.average_risk, "High or critical (% of decisions)": trend.high_risk_rate}
    traces = [
        go.Scatter(
            x=labels,
            y=values,
            name=name,
            mode="lines+markers",
            connectgaps=False,
            line={"color": PALETTE[i + 1], "dash": DASHES[i], "width": 2},
            marker={"symbol": SYMBOLS[i], "size": 7},
            hovertemplate=f"{name}: %{{y:.1f}}<extra>%{{x}}</extra>",
        )
        for i, (name, values) in enumerate(series.items())
    ]
    layout = _layout("Risk", yaxis={"title": {"text": "score or % (0–100)"}, "range": [0, 100]})
    return Chart(
        "agent-risk",
        "Risk",
        f"Average risk score and share of high or critical decisions per {period.grain}",
        _figure(traces, layout),
        ["Bucket", *series],
        [[label, *(_number(values[i]) for values in series.values())] for i, label in enumerate(labels)],
    )


ARC_WIDTH = 0.5  # how far right an arc bulges per row it spans; shared-run arcs bulge less than delegations
SHARED_ARC_WIDTH = 0.3
ROW_PIXELS = 26


def interaction_chart(graph: Graph) -> Chart:
    """An arc diagram: one agent per row (names on the axis, grouped under their department's name), delegations
    as arcs ending in an arrow at the agent that received the work, shared workflow runs as dashed arcs.

    Plotly sizes the axis margin to the names (automargin) and one name per row never overlaps another.
    Names are HTML-escaped: Plotly renders a subset of HTML in text, and agent names come from outside.
    """
    nodes = {node.agent.pk: node for node in graph.nodes}
    heaviest = {kind: max((e.count for e in graph.edges if e.kind == kind), default=1) for kind in (DELEGATION, SHARED)}
    labelled = set(sorted(graph.edges, key=lambda e: -e.count)[:LABELLED_EDGES])  # the rest on hover only

    def width(edge: Edge) -> float:
        return round(1 + 4 * edge.count / heaviest[edge.kind], 1)

    def name(pk: int) -> str:
        return escape(nodes[pk].agent.name)

    def arc(edge: Edge) -> list[tuple[float, float]]:
        bulge = ARC_WIDTH if edge.kind == DELEGATION else SHARED_ARC_WIDTH
        return _arc(nodes[edge.source].y, nodes[edge.target].y, bulge)

    arcs = [(e, arc(e)) for e in graph.edges]
    apexes = [(e, points[len(points) // 2]) for e, points in arcs]
    traces = [
        go.Scatter(
            x=[x for e, points in arcs if e.kind == kind for x in [*(p[0] for p in points), None]],
            y=[y for e, points in arcs if e.kind == kind for y in [*(p[1] for p in points), None]],
            mode="lines",
            name=label,
            hoverinfo="skip",
            line={"color": color, "dash": dash, "width": 1.8},
        )
        for kind, label, color, dash in (
            (DELEGATION, "Delegated runs (arrow: from → to)", PALETTE[6], "solid"),
            (SHARED, "Shared workflow runs (dashed)", "#8a8f99", "dash"),
        )
    ]
    traces.append(
        go.Scatter(
            x=[x for _, (x, _) in apexes],
            y=[y for _, (_, y) in apexes],
            mode="markers",
            name="Edge counts",
            showlegend=False,
            marker={"size": 16, "opacity": 0},
            hovertext=[
                f"{name(e.source)} → {name(e.target)}: {e.count} delegated runs"
                if e.kind == DELEGATION
                else f"{name(e.source)} and {name(e.target)}: {e.count} shared runs"
                for e, _ in apexes
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    arrows = [
        {
            "x": 0,
            "y": nodes[e.target].y,
            "ax": 0.35,
            "ay": nodes[e.target].y,
            **{"xref": "x", "yref": "y", "axref": "x", "ayref": "y"},
            "text": "",
            "showarrow": True,
            "arrowhead": 3,
            "arrowsize": 1,
            "arrowwidth": width(e),
            "arrowcolor": PALETTE[6],
            "standoff": 9,
        }
        for e in graph.edges
        if e.kind == DELEGATION
    ]
    counts = [
        {
            "x": x,
            "y": y,
            **{"xref": "x", "yref": "y"},
            "text": str(e.count),
            "showarrow": False,
            "font": {"size": 11},
            "bgcolor": "#ffffff",
            "bordercolor": "#5b6475",
            "borderwidth": 1,
            "borderpad": 1,
        }
        for e, (x, y) in apexes
        if e in labelled
    ]
    departments = sorted({n.agent.department for n in graph.nodes}, key=lambda d: d.name)
    ticks: list[tuple[float, str]] = []
    for i, department in enumerate(departments):
        members = [n for n in graph.nodes if n.agent.department_id == department.pk]
        ticks.append((members[0].y + 1, f"<b>{escape(department.name)}</b>"))  # the row above the group
        ticks += [(n.y, escape(n.agent.name)) for n in members]
        traces.append(
            go.Scatter(
                x=[0] * len(members),
                y=[n.y for n in members],
                mode="markers",
                name=escape(department.name),
                showlegend=False,
                customdata=[reverse("dashboard:agent", args=[n.agent.pk]) for n in members],
                hovertext=[
                    f"<b>{escape(n.agent.name)}</b> ({escape(department.name)})<br>delegated {n.delegated}, "
                    f"received {n.received}, shared runs {n.shared}<br>click to open"
                    for n in members
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={
                    "size": 14,
                    "color": PALETTE[i % len(PALETTE)],
                    "symbol": NODE_SYMBOLS[i % len(NODE_SYMBOLS)],
                    "line": {"width": 1.5, "color": "#ffffff"},
                },
            )
        )
    reach = max((max(p[0] for p in points) for _, points in arcs), default=1)
    rows = len(ticks)
    empty = {
        "text": "No delegations or shared workflow runs in this period.",
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
    }
    layout = _layout(
        "Who works with whom",
        height=max(320, 130 + ROW_PIXELS * rows),
        xaxis={"visible": False, "range": [-0.4, reach + 0.6], "fixedrange": True},
        yaxis={
            "tickvals": [y for y, _ in ticks],
            "ticktext": [text for _, text in ticks],
            "range": [min((y for y, _ in ticks), default=0) - 0.8, max((y for y, _ in ticks), default=0) + 0.8],
            "showgrid": False,
            "zeroline": False,
            "ticks": "",
            "fixedrange": True,
            "visible": bool(graph.nodes),
        },
        annotations=arrows + counts if graph.nodes else [empty],
        hovermode="closest",
        legend={"orientation": "h", "x": 0, "y": 0, "yanchor": "top"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return Chart(
        "interactions",
        "Who works with whom",
        "Agents one per row grouped by department; arcs ending in an arrow show delegated workflow runs, "
        "dashed arcs runs worked together",
        # Not through go.Figure: validating a few hundred annotations we built ourselves costs ~0.4 s.
        {"data": [trace.to_plotly_json() for trace in traces], "layout": layout},
        ["Kind", "From", "To", "Runs"],
        [
            [
                "Delegation" if e.kind == DELEGATION else "Shared runs",
                nodes[e.source].agent.name,
                nodes[e.target].agent.name,
                e.count,
            ]
            for e in graph.edges
        ],
    )


def _arc(start: float, end: float, bulge: float, steps: int = 16) -> list[tuple[float, float]]:
    """Half an ellipse from row `start` to row `end`, right of the names, as wide as the rows it spans."""
    middle, radius = (start + end) / 2, (start - end) / 2
    angles = [math.pi * i / steps for i in range(steps + 1)]
    return [(round(abs(radius) * bulge * math.sin(a), 4), round(middle + radius * math.cos(a), 4)) for a in angles]


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
