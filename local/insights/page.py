"""The insights page: one static HTML file, charts drawn as inline SVG (no script, no CDN)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from .compute import FigureResult

SEVERITY_COLOURS = {"low": "#4c9be8", "medium": "#f0a030", "high": "#d6404e"}
BAR_COLOUR = "#3b6ea8"
WIDTH, LINE_HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 36, 16

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; } .meta { color: #666; font-size: 13px; }
.cards { display: flex; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; }
.card b { display: block; font-size: 22px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(660px, 1fr)); gap: 16px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px; }
h2 { font-size: 15px; margin: 0 0 8px; } svg text { font-size: 11px; fill: #333; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: 4px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .empty { color: #888; }
"""


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _svg(height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def text_width(text: str) -> float:
    """About how wide `text` is at 11 px in a sans-serif font: capitals and digits (reason
    codes, terminal ids) are wider than the rest."""
    return sum(7.7 if c.isupper() else 7.0 if c.isdigit() else 6.2 for c in text)


def bar_chart(result: FigureResult) -> str:
    """Horizontal bars, one per row, in the query's order."""
    labels = [str(v) for v in result.column(result.figure.label)]
    values = [float(v or 0) for v in result.column(result.figure.value)]
    if not labels:
        return '<p class="empty">no alerts</p>'
    # Room for the longest label, within reason.
    label_width = min(280, max(60, int(max(text_width(label) for label in labels)) + 12))
    bar_height, gap = 18, 6
    top = max(values) or 1.0
    span = WIDTH - label_width - 60
    body: list[str] = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = index * (bar_height + gap)
        length = span * value / top
        body += [
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}: {value:g}</title></rect>',
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}">{value:g}</text>',
        ]
    return _svg(len(labels) * (bar_height + gap), body, result.figure.title)


DAILY_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class TimeSeries:
    unit: str  # "hour" or "day"
    times: list[datetime]  # every bucket from the first to the last, gaps included
    counts: dict[str, dict[datetime, float]]  # series -> bucket -> value


def time_series(result: FigureResult) -> TimeSeries:
    """The hourly rows per series, rolled up to days when they span more than three days."""
    figure = result.figure
    assert figure.series is not None
    rows = list(
        zip(
            result.column(figure.label),
            result.column(figure.series),
            result.column(figure.value),
            strict=True,
        )
    )
    if not rows:
        return TimeSeries("hour", [], {})
    first, last = min(r[0] for r in rows), max(r[0] for r in rows)
    daily = last - first > DAILY_AFTER
    step = timedelta(days=1) if daily else timedelta(hours=1)

    def bucket(moment: datetime) -> datetime:
        return moment.replace(hour=0) if daily else moment

    counts: dict[str, dict[datetime, float]] = defaultdict(lambda: defaultdict(float))
    for moment, name, value in rows:
        counts[str(name)][bucket(moment)] += float(value)
    times = [bucket(first)]
    while times[-1] + step <= last:
        times.append(times[-1] + step)
    return TimeSeries("day" if daily else "hour", times, counts)


def line_chart(result: FigureResult) -> str:
    """One line per series (severity) over time; a bucket without alerts of a series is 0."""
    series = time_series(result)
    times = series.times
    if not times:
        return '<p class="empty">no alerts</p>'
    top = max(v for counts in series.counts.values() for v in counts.values()) or 1.0
    plot_w = WIDTH - MARGIN_LEFT - 16
    plot_h = LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    first, last = times[0], times[-1]
    total_s = (last - first).total_seconds() or 1.0
    fmt = "%Y-%m-%d" if series.unit == "day" else "%Y-%m-%d %H:00"

    def xy(x: datetime, y: float) -> str:
        fraction = (x - first).total_seconds() / total_s if len(times) > 1 else 0.5
        return f"{MARGIN_LEFT + plot_w * fraction:.1f},{MARGIN_TOP + plot_h * (1 - y / top):.1f}"

    base = MARGIN_TOP + plot_h
    body = [
        f'<line x1="{MARGIN_LEFT}" y1="{base}" x2="{WIDTH - 16}" y2="{base}" stroke="#999"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{base}" '
        'stroke="#999"/>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" text-anchor="end">{top:g}</text>',
        f'<text x="{MARGIN_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text x="{MARGIN_LEFT}" y="{base + 16}">{first:{fmt}}</text>',
        f'<text x="{(MARGIN_LEFT + WIDTH - 16) / 2}" y="{base + 16}" text-anchor="middle">'
        f"alerts per {series.unit} (UTC)</text>",
        f'<text x="{WIDTH - 16}" y="{base + 16}" text-anchor="end">{last:{fmt}}</text>',
    ]
    known = list(SEVERITY_COLOURS)
    ordered = sorted(series.counts, key=lambda s: known.index(s) if s in known else len(known))
    for index, name in enumerate(ordered):
        counts = series.counts[name]
        points = " ".join(xy(moment, counts.get(moment, 0.0)) for moment in times)
        colour = SEVERITY_COLOURS.get(name, "#777")
        body += [
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>',
            f'<rect x="{MARGIN_LEFT + 110 * index}" y="{LINE_HEIGHT - 12}" width="10" '
            f'height="10" fill="{colour}"/>',
            f'<text x="{MARGIN_LEFT + 14 + 110 * index}" y="{LINE_HEIGHT - 3}">'
            f"{escape(name)} ({sum(counts.values()):g})</text>",
        ]
    return _svg(LINE_HEIGHT, body, result.figure.title)


def table(result: FigureResult) -> str:
    if not result.rows:
        return '<p class="empty">no alerts</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in result.columns)
    rows = []
    for row in result.rows:
        cells = "".join(
            f'<td class="n">{number(v)}</td>'
            if isinstance(v, int | float)
            else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


CHARTS = {"line": line_chart, "bar": bar_chart, "table": table}


def severity_totals(results: dict[str, FigureResult]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    by_hour = results["alerts_by_hour"]
    for severity, count in zip(
        by_hour.column("severity"), by_hour.column("alert_count"), strict=True
    ):
        totals[str(severity)] += int(count)
    return dict(totals)


def render(results: dict[str, FigureResult], source: str, generated_at: datetime) -> str:
    totals = severity_totals(results)
    cards = [f'<div class="card">alerts<b>{sum(totals.values()):,}</b></div>']
    cards += [
        f'<div class="card">{escape(s)}<b>{totals.get(s, 0):,}</b></div>' for s in SEVERITY_COLOURS
    ]
    sections = [
        f'<section id="{r.figure.name}"><h2>{escape(r.figure.title)}</h2>'
        f"{CHARTS[r.figure.chart](r)}</section>"
        for r in results.values()
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>fraud-stream insights</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>fraud-stream: alert insights</h1>"
        f'<p class="meta">{escape(source)} · computed with DuckDB from the figures the '
        f"QuickSight dashboard shows · {generated_at:%Y-%m-%d %H:%M} UTC</p>"
        f'<div class="cards">{"".join(cards)}</div>'
        f'<div class="grid">{"".join(sections)}</div>'
        '<p class="meta">Reviewed precision (analysts\' verdicts) lives in DynamoDB, not in '
        "the lake: see the console and its API.</p></body></html>"
    )
