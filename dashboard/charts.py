"""Plotly figures built on the server from aggregated numbers (never points per decision).

Readable without colour: lines differ by dash and marker, bars by fill pattern, and values are
written on the marks; each chart also carries its numbers as a table (`Chart.table`) that the page
shows under it, which is what a keyboard or screen-reader user reads.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go
from django.urls import reverse

from dashboard.interactions import DELEGATION, SHARED, Edge, Graph
from dashboard.kpis.concentration import ProviderShare
from dashboard.kpis.risk import RISK_BANDS, DepartmentRisk, PolicyHits
from dashboard.kpis.routing_shift import RoutingShift
from dashboard.kpis.trend import Trend
from dashboard.kpis.value import CostValue
from dashboard.league import AgentTrend
from dashboard.periods import Period

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("solid", "dash", "dot", "dashdot")
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
            name="Cost",
            marker={"color": PALETTE[1], "pattern": {"shape": "/"}},
            text=[f"{r.cost:,.0f}" for r in rows],
            textposition="outside",
        ),
        go.Bar(
            x=names,
            y=[r.value for r in rows],
            name="Value",
            marker={"color": PALETTE[2]},
            text=[f"{r.value:,.0f}" for r in rows],
            textposition="outside",
        ),
    ]
    title = f"Cost and value by {by}"
    return Chart(
        f"cost-value-{by}",
        title,
        f"Reported cost and value of outcomes per {by}",
        _figure(traces, _layout(title, barmode="group", yaxis={"title": {"text": "amount"}})),
        [by.capitalize(), "Decisions", "Spend", "Cost", "Value"],
        [[r.name, f"{r.decisions:,}", f"{r.spend:,.0f}", f"{r.cost:,.0f}", f"{r.value:,.0f}"] for r in rows],
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
    agents = sorted(set(shift.before) | set(shift.after), key=lambda a: -shift.after.get(a, 0))[:10]
    traces = [
        go.Bar(
            x=agents,
            y=[shift.before.get(a, 0) for a in agents],
            name="Week before the change",
            marker={"color": PALETTE[5], "pattern": {"shape": "."}},
        ),
        go.Bar(
            x=agents, y=[shift.after.get(a, 0) for a in agents], name="Since the change", marker={"color": PALETTE[0]}
        ),
    ]
    empty = (
        []
        if agents
        else [
            {
                "text": "No workflow steps were routed around the last change.",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ]
    )
    layout = _layout(
        "How routing shifted",
        barmode="group",
        annotations=empty,
        xaxis={"visible": bool(agents)},
        yaxis={"title": {"text": "% of routed steps"}, "visible": bool(agents)},
    )
    return Chart(
        "routing",
        "How routing shifted",
        "Share of routed workflow steps per agent, the week before and since the last priority change",
        _figure(traces, layout),
        ["Agent", "Before (%)", "Since (%)"],
        [[a, shift.before.get(a, 0), shift.after.get(a, 0)] for a in agents],
    )


VERDICT_LABELS = {"allow": "Allowed", "flag": "Flagged", "require_approval": "Sent for approval", "deny": "Denied"}


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


def agent_money_chart(trend: AgentTrend, period: Period) -> Chart:
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
    layout = _layout("Spend and value", yaxis={"title": {"text": "amount"}, "rangemode": "tozero"})
    return Chart(
        "agent-money",
        "Spend and value",
        f"What the agent spent and the value its outcomes reported, per {period.grain}",
        _figure(traces, layout),
        ["Bucket", "Spend", "Value"],
        [[label, f"{s:,.2f}", f"{v:,.2f}"] for label, s, v in zip(labels, trend.spend, trend.value, strict=True)],
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


def interaction_chart(graph: Graph) -> Chart:
    """Agents on a circle grouped by department; arrows are delegations, dashed lines shared workflow runs.

    Names are HTML-escaped: Plotly renders a subset of HTML in text, and agent names come from outside.
    """
    nodes = {node.agent.pk: node for node in graph.nodes}
    heaviest = {kind: max((e.count for e in graph.edges if e.kind == kind), default=1) for kind in (DELEGATION, SHARED)}
    labelled = set(sorted(graph.edges, key=lambda e: -e.count)[:LABELLED_EDGES])  # the rest on hover only

    def width(edge: Edge) -> float:
        return round(1 + 4 * edge.count / heaviest[edge.kind], 1)

    def name(pk: int) -> str:
        return escape(nodes[pk].agent.name)

    def place(pk: int) -> tuple[float, float]:
        return nodes[pk].x, nodes[pk].y

    delegations = [e for e in graph.edges if e.kind == DELEGATION]
    shared = [(e, _curve(place(e.source), place(e.target))) for e in graph.edges if e.kind == SHARED]
    middles = [(e, _middle(place(e.source), place(e.target))) for e in delegations] + [
        (e, curve[len(curve) // 2]) for e, curve in shared
    ]
    arrows = [
        {
            "x": nodes[e.target].x,
            "y": nodes[e.target].y,
            "ax": nodes[e.source].x,
            "ay": nodes[e.source].y,
            "xref": "x",
            "yref": "y",
            "axref": "x",
            "ayref": "y",
            "text": "",
            "showarrow": True,
            "arrowhead": 3,
            "arrowsize": 1,
            "arrowwidth": width(e),
            "arrowcolor": PALETTE[6],
            "standoff": 14,
            "startstandoff": 14,
        }
        for e in delegations
    ] + [
        {
            "x": x,
            "y": y,
            "xref": "x",
            "yref": "y",
            "text": str(e.count),
            "showarrow": False,
            "font": {"size": 11},
            "bgcolor": "#ffffff",
            "bordercolor": "#5b6475",
            "borderwidth": 1,
            "borderpad": 1,
        }
        for e, (x, y) in middles
        if e in labelled
    ]
    traces = [
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            name="Delegated runs (arrow: from → to)",
            line={"color": PALETTE[6], "width": 2},
            hoverinfo="skip",
        ),
        go.Scatter(
            x=[x for _, curve in shared for x in [*(p[0] for p in curve), None]],
            y=[y for _, curve in shared for y in [*(p[1] for p in curve), None]],
            mode="lines",
            name="Shared workflow runs (dashed)",
            hoverinfo="skip",
            line={"color": "#8a8f99", "dash": "dash", "width": 1.5},
        ),
        go.Scatter(
            x=[x for _, (x, _) in middles],
            y=[y for _, (_, y) in middles],
            mode="markers",
            name="Edge counts",
            showlegend=False,
            marker={"size": 16, "opacity": 0},
            hovertext=[
                f"{name(e.source)} → {name(e.target)}: {e.count} delegated runs"
                if e.kind == DELEGATION
                else f"{name(e.source)} and {name(e.target)}: {e.count} shared runs"
                for e, _ in middles
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        ),
    ]
    departments = sorted({n.agent.department for n in graph.nodes}, key=lambda d: d.name)
    for i, department in enumerate(departments):
        members = [n for n in graph.nodes if n.agent.department_id == department.pk]
        traces.append(
            go.Scatter(
                x=[n.x for n in members],
                y=[n.y for n in members],
                mode="markers+text",
                name=escape(department.name),
                text=[escape(n.agent.name) for n in members],
                textposition=[_label_side(n.x, n.y) for n in members],
                customdata=[reverse("dashboard:agent", args=[n.agent.pk]) for n in members],
                hovertext=[
                    f"<b>{escape(n.agent.name)}</b> ({escape(department.name)})<br>delegated {n.delegated}, "
                    f"received {n.received}, shared runs {n.shared}<br>click to open"
                    for n in members
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={
                    "size": 20,
                    "color": PALETTE[i % len(PALETTE)],
                    "symbol": NODE_SYMBOLS[i % len(NODE_SYMBOLS)],
                    "line": {"width": 1.5, "color": "#ffffff"},
                },
            )
        )
    axis = {"visible": False, "range": [-1.6, 1.6]}
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
        height=720,
        xaxis=axis,
        yaxis={**axis, "scaleanchor": "x"},
        annotations=arrows if graph.nodes else [empty],
        hovermode="closest",
        legend={"orientation": "h", "y": -0.05},
    )
    return Chart(
        "interactions",
        "Who works with whom",
        "Agents grouped by department; arrows show delegated workflow runs, dashed lines runs worked together",
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


def _label_side(x: float, y: float) -> str:
    """Names outside the circle: beside nodes on the left and right, above and below at the top and bottom."""
    if abs(x) > 0.5:
        return "middle right" if x > 0 else "middle left"
    return "top center" if y >= 0 else "bottom center"


def _middle(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return (a[0] + b[0]) / 2, (a[1] + b[1]) / 2


def _curve(a: tuple[float, float], b: tuple[float, float], steps: int = 12) -> list[tuple[float, float]]:
    """A quadratic curve from a to b bending toward the circle's centre, so it does not hide a straight arrow."""
    control = tuple(0.4 * m for m in _middle(a, b))

    def at(t: float) -> tuple[float, float]:
        x, y = ((1 - t) ** 2 * p + 2 * (1 - t) * t * c + t**2 * q for p, c, q in zip(a, control, b, strict=True))
        return round(x, 4), round(y, 4)

    return [at(i / steps) for i in range(steps + 1)]


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
