"""
The report's portfolio section, from the allocator's ``strategy_returns.csv`` and
``allocation.csv`` (columns in docs/PORTFOLIO.md): each strategy's contribution to the result,
the correlation of their returns, and the allocation over time (actual share against target).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from seraphim.backtest.report_charts import chart_x
from seraphim.backtest.report_charts import decimate
from seraphim.backtest.report_tables import read_table
from seraphim.backtest.report_tables import table


def contribution_figure(returns: pd.DataFrame) -> go.Figure:
    """Each strategy's cumulative PnL (fees included) over time."""
    pnl = returns.pivot_table(index="timestamp", columns="strategy_id", values="pnl")
    figure = go.Figure()
    for strategy in pnl.columns:
        line = decimate(pnl[strategy])
        figure.add_trace(
            go.Scatter(x=chart_x(line.index), y=line, name=strategy, line={"width": 1.2})
        )
    figure.update_xaxes(type="date")
    figure.update_layout(title="Contribution: cumulative PnL per strategy", height=420)
    return figure


def correlation_figure(returns: pd.DataFrame) -> go.Figure:
    """The correlation matrix of the strategies' per-bar returns."""
    matrix = returns.pivot_table(index="timestamp", columns="strategy_id", values="return").corr()
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=list(matrix.columns),
            y=list(matrix.index),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            text=matrix.round(2).to_numpy(),
            texttemplate="%{text}",
        )
    )
    figure.update_layout(title="Correlation of strategy returns (per bar)", height=420)
    return figure


def allocation_figure(returns: pd.DataFrame) -> go.Figure:
    """Each strategy's actual capital share (solid) against its target weight (dotted)."""
    figure = go.Figure()
    for column, dash in (("share", None), ("weight", "dot")):
        wide = returns.pivot_table(index="timestamp", columns="strategy_id", values=column)
        for strategy in wide.columns:
            line = decimate(wide[strategy])
            figure.add_trace(
                go.Scatter(
                    x=chart_x(line.index),
                    y=line,
                    name=f"{strategy} {column}",
                    line={"width": 1.2, "dash": dash},
                    legendgroup=strategy,
                )
            )
    figure.update_yaxes(tickformat=".0%")
    figure.update_xaxes(type="date")
    figure.update_layout(
        title="Allocation over time: share (actual) and weight (target)", height=420
    )
    return figure


def portfolio_figures(returns: pd.DataFrame) -> list[go.Figure]:
    if returns.empty:
        return []
    return [contribution_figure(returns), correlation_figure(returns), allocation_figure(returns)]


def contribution_table(returns: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: final PnL, its share of the total, last share and weight."""
    last = returns.sort_values("timestamp").groupby("strategy_id").last()
    total = last["pnl"].sum()
    return pd.DataFrame(
        {
            "strategy_id": last.index,
            "pnl": last["pnl"].to_numpy(),
            "of_total": (last["pnl"] / total).to_numpy() if total else None,
            "final_share": last["share"].to_numpy(),
            "final_weight": last["weight"].to_numpy(),
        }
    )


def portfolio_section(returns: pd.DataFrame, allocation: pd.DataFrame) -> str:
    """The tables of the section (its charts come from ``portfolio_figures``)."""
    if returns.empty and allocation.empty:
        return ""
    parts = ["<h2>Portfolio</h2>"]
    if not returns.empty:
        parts.append(
            table(
                contribution_table(returns),
                {
                    "pnl": "{:,.2f}",
                    "of_total": "{:.1%}",
                    "final_share": "{:.1%}",
                    "final_weight": "{:.1%}",
                },
            )
        )
    if not allocation.empty:
        counts = allocation.drop_duplicates("timestamp")["reason"].value_counts()
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in counts.items())
        parts.append(f"<p>Rebalances: {len(allocation['timestamp'].unique()):,} ({reasons}).</p>")
    return "\n".join(parts)


def read_portfolio(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(strategy_returns, allocation)`` from an output folder; empty frames when absent."""
    return read_table(folder / "strategy_returns.csv"), read_table(folder / "allocation.csv")
