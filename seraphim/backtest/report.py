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

from seraphim.backtest.metrics import round_trips
from seraphim.backtest.report_charts import buy_and_hold
from seraphim.backtest.report_charts import buy_and_hold_label
from seraphim.backtest.report_charts import compact_times
from seraphim.backtest.report_charts import performance_figure
from seraphim.backtest.report_charts import price_figure
from seraphim.backtest.report_portfolio import portfolio_figures
from seraphim.backtest.report_portfolio import portfolio_section
from seraphim.backtest.report_portfolio import read_portfolio
from seraphim.backtest.report_tables import execution_section
from seraphim.backtest.report_tables import read_table
from seraphim.backtest.report_tables import strategies_section
from seraphim.backtest.report_tables import strategy_breakdown
from seraphim.backtest.report_tables import trades_section

if TYPE_CHECKING:
    from seraphim.backtest.runner import BacktestOutcome

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
        rolling = create_rolling_sharpe(
            returns,
            window=ROLLING_SHARPE_DAYS,
            title=f"Rolling Sharpe ratio ({ROLLING_SHARPE_DAYS} days)",
        )
        figures.append(compact_times(rolling))
    return figures


def _charts(figures: list[go.Figure], first: bool) -> str:
    """Figures as HTML; plotly.js is embedded once, with the page's first chart (offline)."""
    return "".join(
        figure.to_html(full_html=False, include_plotlyjs="inline" if first and i == 0 else False)
        for i, figure in enumerate(figures)
    )


def _benchmark_note(equity: pd.Series, held: pd.Series, name: str) -> str:
    if len(held) < 2 or len(equity) < 2:
        return ""
    held_return = held.iloc[-1] / held.iloc[0] - 1.0
    held_drawdown = (held / held.cummax() - 1.0).min()
    run_return = equity.iloc[-1] / equity.iloc[0] - 1.0
    return (
        f"<p>Over the same period, {html.escape(name)} (no fees): "
        f"{held_return:+.2%}, max drawdown {held_drawdown:.2%}; this run: {run_return:+.2%}.</p>"
    )


def write_report(outcome: BacktestOutcome, path: Path) -> None:
    """``report.html`` for a run; sections from other components' CSVs in ``path``'s folder."""
    curves = outcome.curves
    start_equity = float(curves.equity.iloc[0]) if len(curves.equity) else 0.0
    held = buy_and_hold(outcome.prices, start_equity, curves.equity.index)
    held_name = buy_and_hold_label(list(outcome.prices))
    trips = round_trips(outcome.fills)
    returns, allocation = read_portfolio(path.parent)
    performance = performance_figure(
        curves.equity,
        curves.drawdown,
        held,
        held_name,
        outcome.metrics.get("risk_events") or [],
    )
    sections = [
        _charts([performance], first=True),
        _benchmark_note(curves.equity, held, held_name),
        strategies_section(strategy_breakdown(trips, outcome.fills, outcome.orders)),
        trades_section(trips),
        _charts(_returns_figures(curves.daily_returns()), first=False),
        portfolio_section(returns, allocation),
        _charts(portfolio_figures(returns), first=False),
        execution_section(read_table(path.parent / "execution.csv")),
        _charts(
            [price_figure(b, p, outcome.fills) for b, p in outcome.prices.items() if len(p)],
            first=False,
        ),
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
    body = "\n".join(section for section in sections if section)
    path.write_text(
        f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Seraphim backtest: {html.escape(outcome.spec.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ padding: 4px 14px; border-bottom: 1px solid #ddd; text-align: left; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.reason {{ text-align: left; font-size: 0.85em; }}
table.data {{ font-size: 0.85em; }}
table.data th {{ position: sticky; top: 0; background: #fff; }}
details {{ margin-bottom: 1.5em; }}
details > table.data {{ display: block; max-height: 32em; overflow-y: auto; }}
summary {{ cursor: pointer; margin-bottom: 0.5em; }}
.synthetic {{ background: #fff3cd; border: 1px solid #e0b000; padding: 0.6em 1em;
  font-weight: bold; }}
</style></head><body>
<h1>Backtest: {html.escape(outcome.spec.name)}</h1>
{banner}
<p>Strategies: {html.escape(strategies)}. Period: {html.escape(str(period.get("start")))} to
{html.escape(str(period.get("end")))} ({period.get("bars", 0):,} bars).</p>
<table>{rows}</table>
{_risk_section(outcome.metrics)}
{body}
</body></html>
""",
    )
