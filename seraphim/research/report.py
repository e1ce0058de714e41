"""A study's report: an offline HTML page (plotly.js embedded) with the trials and guards."""

from __future__ import annotations

import html
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from seraphim.backtest.metrics import Curves
from seraphim.backtest.report_charts import chart_x
from seraphim.backtest.report_charts import decimate
from seraphim.research.robustness import DeflatedSharpe
from seraphim.research.robustness import Interval
from seraphim.research.walkforward import WalkForward

_TOP_ROWS = 50


@dataclass
class StudyReport:
    title: str
    trials: pd.DataFrame  # results_frame: status, params, metrics
    params: list[str]
    objective: str
    best: int | None = None
    best_curves: Curves | None = None
    deflated: DeflatedSharpe | None = None
    intervals: dict[str, dict[str, Interval]] = field(default_factory=dict)
    neighbourhood: float | None = None
    walk_forward: WalkForward | None = None
    notes: list[str] = field(default_factory=list)


def _heatmaps(report: StudyReport) -> list[go.Figure]:
    done = report.trials[report.trials["status"] == "ok"]
    axes = [p for p in report.params if done[p].nunique() > 1]
    figures = []
    for i, x in enumerate(axes):
        for y in axes[i + 1 :]:
            grid = done.pivot_table(index=y, columns=x, values=report.objective, aggfunc="max")
            figure = go.Figure(
                go.Heatmap(z=grid.to_numpy(), x=grid.columns, y=grid.index, colorscale="RdYlGn")
            )
            figure.update_layout(
                title=f"{report.objective} by {x} and {y} (best over other parameters)",
                xaxis_title=x,
                yaxis_title=y,
                height=450,
            )
            figures.append(figure)
    return figures


def _parallel(report: StudyReport) -> go.Figure | None:
    done = report.trials[report.trials["status"] == "ok"].dropna(subset=[report.objective])
    if done.empty:
        return None
    dimensions = []
    for name in [*report.params, report.objective]:
        values = done[name]
        if pd.api.types.is_numeric_dtype(values):
            dimensions.append({"label": name, "values": values.astype(float)})
        else:
            codes, labels = pd.factorize(values)
            dimensions.append(
                {
                    "label": name,
                    "values": codes,
                    "tickvals": list(range(len(labels))),
                    "ticktext": [str(v) for v in labels],
                }
            )
    figure = go.Figure(
        go.Parcoords(
            line={"color": done[report.objective].astype(float), "colorscale": "RdYlGn"},
            dimensions=dimensions,
        )
    )
    figure.update_layout(title="Parallel coordinates of the finished trials", height=450)
    return figure


def _equity(curves: Curves, title: str, boundaries: list[pd.Timestamp] = ()) -> go.Figure:
    equity = decimate(curves.equity)
    figure = go.Figure(go.Scatter(x=chart_x(equity.index), y=equity.to_numpy(), name="equity"))
    figure.update_xaxes(type="date")
    for stamp in boundaries:
        figure.add_vline(x=stamp, line_dash="dot", line_color="#999")
    figure.update_layout(title=title, height=400, yaxis_title="equity")
    return figure


def _table(frame: pd.DataFrame) -> str:
    head = "".join(
        f"<th>{html.escape(str(c))}</th>" for c in [frame.index.name or "", *frame.columns]
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in [index, *row]) + "</tr>"
        for index, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _text(value: object) -> str:
    if isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return "-" if value is None else str(value)


def _guards(report: StudyReport) -> str:
    parts = []
    if report.deflated is not None:
        d = report.deflated
        parts.append(
            f"<p><b>Deflated Sharpe ratio {d.probability:.3f}</b>: the probability that the best "
            f"trial's Sharpe ({d.sharpe:.2f}) beats the {d.threshold:.2f} that the best of "
            f"{d.trials} skill-less trials would show by luck ({d.observations} daily returns; "
            "Bailey &amp; López de Prado, 2014). Below 0.95, the best trial may be luck.</p>"
        )
    if report.neighbourhood is not None:
        parts.append(
            f"<p>Mean {html.escape(report.objective)} of the best trial's grid neighbours: "
            f"{report.neighbourhood:.4g}.</p>"
        )
    for method, intervals in report.intervals.items():
        cells = ", ".join(
            f"{name} {i.low:.2%} … {i.high:.2%} (median {i.median:.2%})"
            for name, i in intervals.items()
        )
        parts.append(f"<p>95 % interval by trade {method}: {cells}.</p>")
    return "".join(parts)


def write_study_report(report: StudyReport, path: Path) -> Path:
    figures = _heatmaps(report)
    parallel = _parallel(report)
    if parallel is not None:
        figures.append(parallel)
    if report.best_curves is not None:
        figures.append(_equity(report.best_curves, f"Best trial {report.best}: equity"))
    walk = ""
    if report.walk_forward is not None:
        wf = report.walk_forward
        starts = [f.fold.train_end for f in wf.folds]
        figures.append(_equity(wf.stitched, "Walk-forward: stitched out-of-sample equity", starts))
        efficiency = wf.efficiency
        walk = (
            "<h2>Walk-forward</h2>"
            f"<p>Efficiency {'-' if efficiency is None else f'{efficiency:.3f}'}; parameter "
            "stability (0 = same every fold): "
            + html.escape(", ".join(f"{k} {v:.3g}" for k, v in wf.stability().items()))
            + "</p>"
            + _table(wf.frame())
        )
    charts = [
        figure.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
        for i, figure in enumerate(figures)
    ]
    done = report.trials[report.trials["status"] == "ok"]
    top = done.sort_values(report.objective, ascending=False, na_position="last").head(_TOP_ROWS)
    counts = report.trials["status"].value_counts().to_dict()
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in report.notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Seraphim study: {html.escape(report.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; font-size: 0.85em; }}
th, td {{ padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
.note {{ background: #fff3cd; border: 1px solid #e0b000; padding: 0.6em 1em; }}
</style></head><body>
<h1>Study: {html.escape(report.title)}</h1>
{notes}
<p>{len(report.trials)} trials: {html.escape(", ".join(f"{v} {k}" for k, v in counts.items()))}.
Ranked by {html.escape(report.objective)}.</p>
{_guards(report)}
{walk}
{"".join(charts)}
<h2>Best {len(top)} trials</h2>
{_table(top.drop(columns=["status", "reason"]))}
</body></html>
""",
    )
    return path
