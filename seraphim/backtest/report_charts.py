"""The report's own charts: equity against buy and hold, drawdown, prices with fills."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# A long series is thinned to at most this many points for a chart (the CSVs keep all); each
# bucket keeps its lowest and highest point, so peaks and troughs survive.
MAX_CHART_POINTS = 2_400  # two points per pixel of the page's width


def decimate(series: pd.Series, max_points: int = MAX_CHART_POINTS) -> pd.Series:
    """
    At most ``max_points`` points: each of ``max_points // 2 - 1`` buckets keeps its minimum
    and maximum, and the first and last points stay.
    """
    series = series.dropna()
    if len(series) <= max_points:
        return series
    buckets = np.arange(len(series)) * (max_points // 2 - 1) // len(series)
    by_bucket = pd.Series(series.to_numpy()).groupby(buckets)
    keep = np.unique(np.concatenate([by_bucket.idxmin(), by_bucket.idxmax(), [0, len(series) - 1]]))
    return series.iloc[keep]


def chart_x(index: pd.Index) -> np.ndarray:
    """
    Times as float milliseconds since the epoch, which a plotly date axis reads: plotly embeds a
    float array as base64 (11 characters a point) but times as ISO text (31), and copies an
    index of tz-aware Timestamps object by object, which costs seconds on long runs.
    """
    return pd.DatetimeIndex(index).as_unit("ns").asi8 / 1e6


def compact_times(figure: go.Figure) -> go.Figure:
    """A figure made elsewhere (nautilus's tearsheet charts) with its time axes as ``chart_x``."""
    for trace in figure.data:
        x = getattr(trace, "x", None)
        if x is not None and len(x) and isinstance(x[0], pd.Timestamp):
            trace.x = chart_x(pd.DatetimeIndex(x))
            figure.update_xaxes(type="date")
    return figure


def buy_and_hold(prices: dict[str, pd.Series], start_equity: float, index: pd.Index) -> pd.Series:
    """
    The equity of putting ``start_equity`` in equal parts into each priced instrument at its
    first close and holding (no fees), at the times of ``index``.
    """
    parts = [
        (p / p.iloc[0]).reindex(index, method="ffill").fillna(1.0)
        for p in prices.values()
        if len(p) and p.iloc[0] > 0
    ]
    if not parts:
        return pd.Series(dtype=float)
    return start_equity * pd.concat(parts, axis=1).mean(axis=1)


def buy_and_hold_label(bar_types: list[str]) -> str:
    instruments = [b.split("-", maxsplit=1)[0] for b in bar_types]
    if len(instruments) == 1:
        return f"buy & hold {instruments[0]}"
    return f"buy & hold, equal parts of {', '.join(instruments)}"


def log_scale_toggle(figure: go.Figure, axis: str = "yaxis") -> None:
    """Linear / log buttons for one y axis."""
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 4},
                "buttons": [
                    {"label": "linear", "method": "relayout", "args": [{f"{axis}.type": "linear"}]},
                    {"label": "log", "method": "relayout", "args": [{f"{axis}.type": "log"}]},
                ],
            }
        ]
    )


def performance_figure(
    equity: pd.Series,
    drawdown: pd.Series,
    benchmark: pd.Series,
    benchmark_name: str,
    risk_events: list[dict],
) -> go.Figure:
    """Equity (with buy and hold, log-scale toggle) over drawdown, guard trips marked."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.04,
        subplot_titles=("Equity", "Drawdown"),
    )
    line = decimate(equity)
    figure.add_trace(
        go.Scatter(x=chart_x(line.index), y=line, name="equity", line={"width": 1.5}), 1, 1
    )
    if len(benchmark):
        held = decimate(benchmark)
        figure.add_trace(
            go.Scatter(
                x=chart_x(held.index),
                y=held,
                name=benchmark_name,
                line={"width": 1, "dash": "dash", "color": "#7f7f7f"},
            ),
            1,
            1,
        )
    under = decimate(drawdown)
    figure.add_trace(
        go.Scatter(
            x=chart_x(under.index), y=under, name="drawdown", fill="tozeroy", line={"width": 1}
        ),
        2,
        1,
    )
    for event in risk_events:
        if event["kind"] in ("guard_trip", "guard_reset", "guard_daily_reset"):
            trip = event["kind"] == "guard_trip"
            figure.add_vline(
                x=pd.Timestamp(event["ts"]).timestamp() * 1000,
                line={"color": "#d73027" if trip else "#1a9850", "dash": "dash", "width": 1},
                annotation_text=event["rule"] or event["kind"].replace("guard_", ""),
            )
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    figure.update_xaxes(type="date")
    figure.update_layout(
        height=600,
        margin={"t": 70, "b": 30},
        legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
    )
    log_scale_toggle(figure)
    return figure


def price_figure(bar_type: str, prices: pd.Series, fills: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    line = decimate(prices)
    figure.add_trace(go.Scatter(x=chart_x(line.index), y=line, name="close", line={"width": 1}))
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
                    x=chart_x(pd.to_datetime(rows["ts_event"], utc=True)),
                    y=rows["last_px"].astype(float),
                    mode="markers",
                    name=side.lower(),
                    marker={"symbol": symbol, "size": 8, "color": color},
                ),
            )
    figure.update_xaxes(type="date")
    figure.update_layout(title=f"{bar_type}: price with entries and exits", height=420)
    log_scale_toggle(figure)
    return figure
