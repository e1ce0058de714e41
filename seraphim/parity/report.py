"""A parity run's report: ``parity.json``, ``parity.md`` and both sides' orders and fills."""

from __future__ import annotations

import json
from pathlib import Path

from seraphim.backtest.outputs import write_outputs
from seraphim.parity.compare import Parity
from seraphim.parity.runner import ParityRun

CAUSE_NOTES = {
    "latency": "the same order at another bar: the live node saw the bar late or early",
    "fill model": "the venue filled the same order at another price than nautilus's fill model",
    "fill model (backtest slippage)": "the backtest's prob_slippage moved the fill by one tick",
    "fee rounding": "nautilus books USD commissions at 2 decimals, Kraken charges to 4",
    "fee schedule": "another fee rate: one side reached a 30-day volume tier first (nautilus's "
    "fee model counts a fill's notional at once, rounded to cents; the local exchange counts "
    "fills of the same moment from the next one)",
    "sizing": "the same signal sized to another quantity: equity, a balance or a price "
    "differed before (e.g. by the fee rounding)",
    "risk": "denied or clipped by the risk layer on one side only",
    "sequence": "an order only one side sent: the sequences diverged",
}


def _orders_verdict(p: Parity) -> str:
    if p.orders_identical:
        return "identical"
    if p.orders_same_signals:
        return (
            f"the same but for quantities up to {p.largest_quantity_difference:.6%} apart "
            f"(tolerance {p.quantity_tolerance:.4%})"
        )
    return "differ"


def summary_lines(run: ParityRun) -> list[str]:
    """The report as Markdown lines (also what the command prints)."""
    p = run.parity
    pnl = p.pnl
    spec = run.spec
    rel = "n/a" if pnl["relative"] is None else f"{pnl['relative']:.4%}"
    lines = [
        f"# Parity: {spec.name}",
        "",
        f"Window {spec.start or 'start'} .. {spec.end or 'end'}; "
        f"{sum(run.live.log.bars.values())} bars replayed in {len(run.live.log.steps)} steps; "
        f"backtest {run.seconds['backtest']:.1f} s, live {run.seconds['live']:.1f} s.",
        "",
        f"**{'PARITY' if p.holds else 'DIFFERS'}**: orders {_orders_verdict(p)}, "
        f"PnL difference {rel} (tolerance {pnl['tolerance']:.2%}).",
        "",
        "| | backtest | live |",
        "|---|---:|---:|",
        f"| orders | {p.orders_backtest} | {p.orders_live} |",
        f"| fills | {p.fills_backtest} | {p.fills_live} |",
        f"| fees | {p.fees['backtest']:,.4f} | {p.fees['live_venue']:,.4f} (venue), "
        f"{p.fees['live_node']:,.2f} (node) |",
        f"| final PnL | {pnl['backtest']:,.4f} | {pnl['live']:,.4f} (venue), "
        f"{pnl['live_node']:,.2f} (node) |",
        "",
        f"PnL difference {pnl['difference']:+,.4f} = fees {pnl['explained_by']['fees']:+,.4f}"
        f" + fill prices {pnl['explained_by']['fill_prices']:+,.4f}"
        f" + orders {pnl['explained_by']['orders']:+,.4f}.",
    ]
    if p.causes:
        lines += ["", "## Differences by cause", ""]
        for cause, n in p.causes.items():
            note = CAUSE_NOTES.get(cause, "")
            if cause == "fee rounding":
                note += f" (at most {p.fees['largest_rounding']:.4f} a fill; not listed below)"
            lines.append(f"- {cause} ({n}): {note}")
        listed = p.listed()
        if listed:
            lines += ["", "| what | # | cause | backtest | live |", "|---|---:|---|---|---|"]
            lines += [
                f"| {d.what} | {d.index} | {d.cause} | {d.backtest} | {d.live} |" for d in listed
            ]
        shown = len(listed) + p.causes.get("fee rounding", 0)
        if len(p.differences) > shown:
            lines.append(f"... and {len(p.differences) - shown} more")
    return lines


def write_parity(run: ParityRun) -> Path:
    """Everything into ``run.output``; returns the Markdown report's path."""
    write_outputs(run.backtest)
    live = run.output / "live"
    live.mkdir(parents=True, exist_ok=True)
    run.live.orders.to_csv(live / "orders.csv")
    run.live.fills.to_csv(live / "fills.csv")
    (live / "venue.json").write_text(json.dumps(run.live.venue, indent=2) + "\n")
    data = {
        "name": run.spec.name,
        "start": run.spec.start,
        "end": run.spec.end,
        **run.parity.as_dict(),
    }
    (run.output / "parity.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    path = run.output / "parity.md"
    path.write_text("\n".join(summary_lines(run)) + "\n")
    return path
