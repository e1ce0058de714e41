"""``report.html``: an offline page (plotly.js embedded) with the run's metrics and charts."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from nautilus_trader.analysis import create_monthly_returns_heatmap
from nautilus_trader.analysis import create_returns_distribution
from nautilus_trader.analysis import create_rolling_sharpe
from nautilus_trader.analysis import create_yearly_returns
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from seraphim.backtest.runner import BacktestOutcome

# Above this many points a price line is decimated for the chart (the data files keep all).
_MAX_CHART_POINTS = 20_000

METRIC_LABELS = {
    "total_return": ("Total return", "{:.2%}"),
    "cagr": ("CAGR", "{:.2%}"),
    "sharpe": ("Sharpe", "{:.2f}"),
    "sortino": ("Sortino", "{:.2f}"),
    "max_drawdown": ("Max drawdown", "{:.2%}"),
    "calmar": ("Calmar", "{:.2f}"),
    "volatility": ("Volatility (ann.)", "{:.2%}"),
    "trades": ("Trades", "{:,}"),
    "win_rate": ("Win rate", "{:.1%}"),
    "profit_factor": ("Profit factor", "{:.2f}"),
    "expectancy": ("Expectancy / trade", "{:,.2f}"),
    "exposure": ("Time in market", "{:.1%}"),
    "end_equity": ("End equity", "{:,.2f}"),
}


def format_metric(key: str, value: object) -> str:
    if value is None:
        return "-"
    _, pattern = METRIC_LABELS.get(key, (key, "{}"))
    return pattern.format(value)


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    rows = [
        (label, format_metric(key, metrics.get(key))) for key, (label, _) in METRIC_LABELS.items()
    ]
    fees = ", ".join(f"{amount:,.2f} {ccy}" for ccy, amount in metrics.get("fees_paid", {}).items())
    rows.append(("Fees paid", fees or "0"))
    denied = metrics.get("denied_orders") or {}
    rows.append(
        (
            "Denied orders",
            ", ".join(f"{rule} {count:,}" for rule, count in denied.items()) or "0",
        )
    )
    trips = [e for e in metrics.get("risk_events") or [] if e["kind"] == "guard_trip"]
    rows.append(("Guard trips", ", ".join(f"{e['rule']} {e['ts'][:16]}" for e in trips) or "0"))
    return rows


def _risk_section(metrics: dict) -> str:
    """Denials by rule (with example reasons) and the risk events, as HTML tables."""
    denied = metrics.get("denied_orders") or {}
    samples = (metrics.get("risk") or {}).get("denial_samples", {})
    events = metrics.get("risk_events") or []
    risk = metrics.get("risk") or {}
    parts = [
        "<h2>Risk</h2>",
        f"<p>Orders checked by the risk gate: {risk.get('orders_checked', 0):,}. "
        f"Final trading state: {html.escape(str(risk.get('trading_state', '-')))}.</p>",
    ]
    if denied:
        rows = "".join(
            f"<tr><th>{html.escape(rule)}</th><td>{count:,}</td>"
            f"<td class='reason'>{html.escape((samples.get(rule) or [''])[0])}</td></tr>"
            for rule, count in denied.items()
        )
        parts.append(
            "<table class='risk'><tr><th>rule</th><th>denied orders</th><th>example</th></tr>"
            f"{rows}</table>"
        )
    else:
        parts.append("<p>No order was denied.</p>")
    if events:
        rows = "".join(
            f"<tr><td class='reason'>{html.escape(e['ts'])}</td><th>{html.escape(e['kind'])}</th>"
            f"<td class='reason'>{html.escape(e['detail'])}</td></tr>"
            for e in events
        )
        parts.append(
            f"<table class='risk'><tr><th>time</th><th>event</th><th>detail</th></tr>{rows}</table>"
        )
    else:
        parts.append("<p>No risk events (the portfolio guard never tripped).</p>")
    return "\n".join(parts)


def _decimate(series: pd.Series) -> pd.Series:
    """At most _MAX_CHART_POINTS points, on a naive UTC datetime64 index (plotly copies an
    index of tz-aware Timestamps object by object, which costs seconds on long runs)."""
    step = max(1, len(series) // _MAX_CHART_POINTS)
    thinned = series.iloc[::step]
    return thinned.set_axis(thinned.index.tz_convert(None))


def _performance_figure(outcome: BacktestOutcome) -> go.Figure:
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.04,
        subplot_titles=("Equity", "Drawdown"),
    )
    equity = _decimate(outcome.curves.equity)
    drawdown = _decimate(outcome.curves.drawdown)
    figure.add_trace(go.Scatter(x=equity.index, y=equity, name="equity", line={"width": 1.5}), 1, 1)
    figure.add_trace(
        go.Scatter(
            x=drawdown.index, y=drawdown, name="drawdown", fill="tozeroy", line={"width": 1}
        ),
        2,
        1,
    )
    for event in outcome.metrics.get("risk_events") or []:
        if event["kind"] in ("guard_trip", "guard_reset", "guard_daily_reset"):
            trip = event["kind"] == "guard_trip"
            figure.add_vline(
                x=pd.Timestamp(event["ts"]).timestamp() * 1000,
                line={"color": "#d73027" if trip else "#1a9850", "dash": "dash", "width": 1},
                annotation_text=event["rule"] or event["kind"].replace("guard_", ""),
            )
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    figure.update_layout(height=560, showlegend=False, margin={"t": 40, "b": 30})
    return figure


def _price_figure(bar_type: str, prices: pd.Series, fills: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    line = _decimate(prices)
    figure.add_trace(go.Scatter(x=line.index, y=line, name="close", line={"width": 1}))
    instrument = bar_type.split("-", maxsplit=1)[0]
    if not fills.empty:
        mine = fills[fills["instrument_id"] == instrument]
        for side, symbol, color in (
            ("BUY", "triangle-up", "#1a9850"),
            ("SELL", "triangle-down", "#d73027"),
        ):
            rows = mine[mine["order_side"] == side]
            figure.add_trace(
                go.Scatter(
                    x=pd.to_datetime(rows["ts_event"], utc=True),
                    y=rows["last_px"].astype(float),
                    mode="markers",
                    name=side.lower(),
                    marker={"symbol": symbol, "size": 8, "color": color},
                ),
            )
    figure.update_layout(title=f"{bar_type}: price with entries and exits", height=420)
    return figure


ROLLING_SHARPE_DAYS = 60


def _returns_figures(returns: pd.Series) -> list[go.Figure]:
    """nautilus's tearsheet charts, on the daily returns of the marked-to-market equity."""
    if returns.empty:
        return []
    yearly = create_yearly_returns(returns, title="Yearly returns")
    yearly.update_xaxes(type="category")  # nautilus leaves a numeric axis: "2,023.6" ticks
    figures = [
        create_monthly_returns_heatmap(returns, title="Monthly returns"),
        yearly,
        create_returns_distribution(returns, title="Daily returns distribution"),
    ]
    if len(returns) >= ROLLING_SHARPE_DAYS:
        figures.append(
            create_rolling_sharpe(
                returns,
                window=ROLLING_SHARPE_DAYS,
                title=f"Rolling Sharpe ratio ({ROLLING_SHARPE_DAYS} days)",
            )
        )
    return figures


def write_report(outcome: BacktestOutcome, path: Path) -> None:
    figures = [_performance_figure(outcome)]
    figures += _returns_figures(outcome.curves.daily_returns())
    figures += [_price_figure(b, p, outcome.fills) for b, p in outcome.prices.items() if len(p)]
    charts = [
        figure.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
        for i, figure in enumerate(figures)
    ]
    banner = ""
    if outcome.synthetic:
        banner = (
            '<p class="synthetic">SYNTHETIC DATA: '
            + html.escape(", ".join(outcome.synthetic))
            + " come from Seraphim's sample market model, not from an exchange.</p>"
        )
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in metric_rows(outcome.metrics)
    )
    period = outcome.metrics.get("period", {})
    strategies = ", ".join(s.name for s in outcome.spec.strategies)
    path.write_text(
        f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Seraphim backtest: {html.escape(outcome.spec.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ padding: 4px 14px; border-bottom: 1px solid #ddd; text-align: left; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.reason {{ text-align: left; font-size: 0.85em; }}
.synthetic {{ background: #fff3cd; border: 1px solid #e0b000; padding: 0.6em 1em;
  font-weight: bold; }}
</style></head><body>
<h1>Backtest: {html.escape(outcome.spec.name)}</h1>
{banner}
<p>Strategies: {html.escape(strategies)}. Period: {html.escape(str(period.get("start")))} to
{html.escape(str(period.get("end")))} ({period.get("bars", 0):,} bars).</p>
<table>{rows}</table>
{_risk_section(outcome.metrics)}
{"".join(charts)}
</body></html>
""",
    )
