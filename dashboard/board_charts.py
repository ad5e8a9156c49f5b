"""The board pack's charts as SVG drawn on the server, so the page and its PDF show the same picture.

WeasyPrint runs no JavaScript, so the Plotly charts of the other pages cannot be printed by it. Plotly's
static export needs kaleido and a Chrome at render time (seconds per figure, a browser on the server);
matplotlib is a large dependency whose SVG turns text into paths. These charts are bars and lines over
a few dozen aggregated numbers, so a small SVG writer does it: text stays text (searchable, selectable
in the PDF), colours come from the same colour-blind-safe palette, and every chart says its numbers in
a table beside it for people who do not read charts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from dashboard.board import BoardReport
from dashboard.charts import COST_COLOUR, PALETTE
from dashboard.glossary import TERMS
from dashboard.money import format_money

WIDTH = 640
# A phone's card is about 320 px wide: the same charts drawn 360 units wide keep 12 px text near 11 px there.
PHONE_WIDTH = 360
MONEY_SERIES = ("spend", "cost", "value")  # the glossary's terms; never vermilion, the colour of a limit passed
MONEY_COLOURS = (PALETTE[0], COST_COLOUR, PALETTE[2])
FONT = 'font-family="DejaVu Sans, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the reader sees it, with its unit
    marker: float | None = None  # a line across the bar: the appetite, the warning threshold
    alarm: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str | None = None  # else the palette's, by the series' place


def _svg(title: str, height: int, body: list[str], width: int = WIDTH) -> SafeString:
    size = "phone" if width < WIDTH else "wide"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="board-chart board-chart-{size}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 (every text above and below is escaped)


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above the largest value."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def column_chart(
    title: str, labels: Sequence[str], values: Sequence[float], unit: str, width: int = WIDTH
) -> SafeString:
    """Vertical bars over time (decisions per day or hour), every few labels written under the axis."""
    height, left, bottom, top = 240, 48, 200, 16
    plot_width = width - left - 12
    top_value = _nice_max(max(values, default=0))
    body = [_axis_lines(left, top, bottom, top_value, unit, width)]
    slot = plot_width / max(len(values), 1)
    every = max(1, round(len(values) / (8 * width / WIDTH)))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = (bottom - top) * value / top_value
        x = left + i * slot
        body.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{bottom - bar_height:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_height:.1f}" fill="{PALETTE[0]}"/>'
        )
        if i % every == 0:
            body.append(_text(x + slot / 2, bottom + 18, label, "middle"))
    return _svg(title, height, body, width)


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "%", width: int = WIDTH
) -> SafeString:
    """Rates over time, 0–100 %, one coloured and dashed line per series, with a legend under the plot (one
    series a line on a phone)."""
    narrow = width < WIDTH
    legend_rows = len(series) if narrow else 1
    height, left, bottom, top = 240 + 20 * legend_rows, 48 if narrow else 64, 190, 16
    plot_width = width - left - 12
    count = max(len(labels), 1)
    step = plot_width / max(count - 1, 1)
    body = [_axis_lines(left, top, bottom, 100, unit, width)]
    dashes = ("", "6 3", "2 3", "8 3 2 3")
    for n, line in enumerate(series):
        points = [
            f"{left + i * step:.1f},{bottom - (bottom - top) * v / 100:.1f}"
            for i, v in enumerate(line.values)
            if v is not None
        ]
        colour, dash = PALETTE[n % len(PALETTE)], dashes[n % len(dashes)]
        if len(points) > 1:
            body.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}"/>'
            )
        elif points:
            x, y = points[0].split(",")
            body.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
        legend_x = left if narrow else left + n * 150
        legend_y = height - 18 - (20 * (legend_rows - 1 - n) if narrow else 0)
        body.append(
            f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 24}" y2="{legend_y}" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        body.append(_text(legend_x + 30, legend_y + 4, line.name))
    every = max(1, round(count / (8 * width / WIDTH)))
    for i, label in enumerate(labels):
        if i % every == 0:
            anchor = "end" if i == count - 1 and count > 1 else "middle"  # the last label stays inside the chart
            body.append(_text(left + i * step, bottom + 20, label, anchor))
    return _svg(title, height, body, width)


def _label_column(width: int) -> tuple[int, int]:
    """The room for the names left of horizontal bars, and the longest name written there."""
    return (170, 26) if width >= WIDTH else (124, 16)


def _short(name: str, longest: int) -> str:
    return name if len(name) <= longest else name[: longest - 1] + "…"


def bar_chart(
    title: str, bars: Sequence[Bar], top_value: float, marker_label: str = "", width: int = WIDTH
) -> SafeString:
    """Horizontal bars with their value written at the end; an alarm bar is vermilion, a marker a black tick."""
    row, right = 30, 90 if width >= WIDTH else 64
    left, longest = _label_column(width)
    height = 24 + row * max(len(bars), 1) + (22 if marker_label else 0)
    plot_width = width - left - right
    body = []
    for i, bar in enumerate(bars):
        y = 12 + i * row
        length = plot_width * min(bar.value, top_value) / top_value if top_value else 0
        colour = PALETTE[1] if bar.alarm else PALETTE[0]
        body.append(_text(left - 8, y + 15, _short(bar.label, longest), "end"))
        body.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 10}" fill="{colour}"/>')
        body.append(_text(left + length + 6, y + 15, bar.text, extra='font-weight="bold"' if bar.alarm else ""))
        if bar.marker is not None:
            x = left + plot_width * min(bar.marker, top_value) / top_value
            body.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + row - 4}" stroke="#000" stroke-width="2"/>')
    if not bars:
        body.append(_text(width / 2, 30, "Nothing in this period", "middle"))
    if marker_label:
        legend_y = height - 10
        body.append(
            f'<line x1="{left}" y1="{legend_y - 10}" x2="{left}" y2="{legend_y + 2}" stroke="#000" stroke-width="2"/>'
        )
        body.append(_text(left + 8, legend_y, marker_label))
    return _svg(title, height, body, width)


def grouped_bar_chart(
    title: str, groups: Sequence[str], series: Sequence[Series], texts: Sequence[Sequence[str]], width: int = WIDTH
) -> SafeString:
    """Several horizontal bars per group (spend, cost and value per department), one colour per series."""
    bar, right = 14, 100 if width >= WIDTH else 70
    left, longest = _label_column(width)
    narrow = width < WIDTH  # the legend one series a line, under the bars
    legend_rows = len(series) if narrow else 1
    group_height = bar * len(series) + 12
    height = 20 + 20 * legend_rows + group_height * max(len(groups), 1)
    plot_width = width - left - right
    top_value = max((v or 0 for s in series for v in s.values), default=0) or 1
    colours = [line.colour or PALETTE[n % len(PALETTE)] for n, line in enumerate(series)]
    body = []
    for g, group in enumerate(groups):
        y0 = 8 + g * group_height
        body.append(_text(left - 8, y0 + group_height / 2, _short(group, longest), "end"))
        for n, line in enumerate(series):
            value = line.values[g] or 0
            length = plot_width * max(value, 0) / top_value
            y = y0 + n * bar
            body.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" fill="{colours[n]}"/>')
            body.append(_text(left + length + 6, y + bar - 3, texts[n][g], extra='font-size="10"'))
    if not groups:
        body.append(_text(width / 2, 30, "Nothing in this period", "middle"))
    for n, line in enumerate(series):
        x = left if narrow else left + n * 150
        y = height - 24 - (20 * (legend_rows - 1 - n) if narrow else 0)
        body.append(f'<rect x="{x}" y="{y}" width="14" height="12" fill="{colours[n]}"/>')
        body.append(_text(x + 20, y + 10, line.name))
    return _svg(title, height, body, width)


def _axis_lines(left: int, top: int, bottom: int, top_value: float, unit: str, width: int = WIDTH) -> str:
    """The value axis: gridlines at 0, ½ and the top, labelled with the unit."""
    parts = []
    for fraction in (0, 0.5, 1):
        y = bottom - (bottom - top) * fraction
        value = top_value * fraction
        number = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"  # half of 5 is 2.5, not "2"
        label = f"{number}{unit}" if unit == "%" else number
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 12}" y2="{y:.1f}" stroke="#d9dee8"/>')
        parts.append(_text(left - 6, y + 4, label, "end"))
    return "".join(parts)


def pack_charts(report: BoardReport, width: int = WIDTH) -> dict[str, SafeString]:
    """The pack's five charts, from the report's own numbers, drawn `width` units wide (PHONE_WIDTH for phones:
    shrunk to a phone's card, the wide drawing's text would be half its size)."""
    fmt = "%H:00" if report.period.grain == "hour" else "%d %b"
    labels = [bucket.strftime(fmt) for bucket in report.trend.buckets]
    rates = [Series(name, values) for name, values in report.trend.rates.items() if name != "Rejection"]
    appetite = [
        Bar(
            d.department,
            d.average_risk or 0,
            f"{d.average_risk:g}" if d.average_risk is not None else "none",
            d.appetite,
            d.over_appetite,
        )
        for d in report.departments
    ]
    threshold = settings.PROVIDER_CONCENTRATION_WARNING
    providers = [Bar(p.provider, p.share, f"{p.share:g}%", threshold, p.over_threshold) for p in report.providers]
    money = [
        Series(TERMS[key].label, [getattr(row, key) for row in report.value], colour)
        for key, colour in zip(MONEY_SERIES, MONEY_COLOURS, strict=True)
    ]
    money_texts = [[format_money(v or 0, whole=True) for v in s.values] for s in money]
    return {
        "decisions": column_chart(
            f"Decisions per {report.period.grain}", labels, report.trend.decisions, "decisions", width
        ),
        "rates": line_chart("Automation, escalation and violation rates", labels, rates, width=width),
        "appetite": bar_chart("Average risk score by department", appetite, 100, "risk appetite", width),
        "value": grouped_bar_chart(
            f"Spend, cost and value delivered by department ({settings.ORG_CURRENCY})",
            [row.name for row in report.value],
            money,
            money_texts,
            width,
        ),
        "providers": bar_chart("Share of decisions by model provider", providers, 100, "concentration warning", width),
    }
