"""
A parity run: one backtest file's strategies over one market path, in a ``BacktestEngine``
and in a ``TradingNode`` against the local Kraken exchange replaying that path, compared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec
import pandas as pd

from seraphim.backtest.config import BacktestSpec
from seraphim.backtest.config import load_spec
from seraphim.backtest.runner import BacktestOutcome
from seraphim.backtest.runner import run_backtest
from seraphim.parity.compare import Parity
from seraphim.parity.compare import compare
from seraphim.parity.live import KRAKEN
from seraphim.parity.live import LiveOutcome
from seraphim.parity.live import ParityError
from seraphim.parity.live import run_live
from seraphim.parity.records import fills_from_report
from seraphim.parity.records import orders_from_report


@dataclass
class ParityRun:
    spec: BacktestSpec
    backtest: BacktestOutcome
    live: LiveOutcome
    parity: Parity
    output: Path
    seconds: dict[str, float]


def parity_spec(
    config: Path,
    start: str | None = None,
    end: str | None = None,
    output: Path | None = None,
    catalog: Path | None = None,
) -> BacktestSpec:
    """
    The backtest file as parity runs it: the window overridden if asked, outputs under
    ``<output>/backtest``, and warm-up from the window's own bars (the local exchange has no
    history before the path it replays, so the live strategies warm up on the same bars).
    """
    spec = load_spec(config)
    out = (output or Path(spec.output) / "parity").resolve()
    return msgspec.structs.replace(
        spec,
        start=start or spec.start,
        end=end or spec.end,
        output=str(out / "backtest"),
        catalog=str(catalog.resolve()) if catalog else spec.catalog,
        warmup_from_catalog=False,
    )


def starting_equity(spec: BacktestSpec) -> Decimal:
    """The Kraken venue's starting balance in the report currency."""
    venue = next(v for v in spec.venues if v.name == KRAKEN)
    total = Decimal(0)
    for item in venue.starting_balances:
        amount, _, currency = item.strip().partition(" ")
        if currency == spec.report_currency:
            total += Decimal(amount)
    return total


def run_parity(
    config: Path,
    *,
    start: str | None = None,
    end: str | None = None,
    output: Path | None = None,
    catalog: Path | None = None,
    tolerance: float = 0.005,
    quantity_tolerance: float = 1e-4,
    step_timeout: float = 60.0,
    log_level: str = "ERROR",
) -> ParityRun:
    """Both sides, then the comparison (nothing written: ``report.write_parity`` does that)."""
    spec = parity_spec(config, start, end, output, catalog)
    if not any(v.name == KRAKEN for v in spec.venues):
        raise ParityError(f"{config}: parity needs a KRAKEN venue (the local exchange is Kraken)")
    t0 = time.perf_counter()
    backtest = run_backtest(spec)
    t1 = time.perf_counter()
    out = Path(spec.output).parent
    live = run_live(config, spec, out / "live", step_timeout=step_timeout, log_level=log_level)
    t2 = time.perf_counter()

    def exchange_time(wall_ns: int) -> pd.Timestamp:
        at = live.log.exchange_time(wall_ns)
        return pd.Timestamp(at if at is not None else 0.0, unit="s", tz="UTC")

    marks = {
        bar_type.split("-")[0]: Decimal(str(prices.iloc[-1]))
        for bar_type, prices in backtest.prices.items()
        if len(prices)
    }
    venue = next(v for v in spec.venues if v.name == KRAKEN)
    parity = compare(
        orders_from_report(backtest.orders),
        orders_from_report(live.orders, exchange_time),
        fills_from_report(backtest.fills, backtest.orders),
        fills_from_report(live.fills, live.orders, live.venue.get("trades", {})),
        marks,
        starting_equity(spec),
        tolerance=tolerance,
        slippage=venue.fill_model.prob_slippage > 0,
        quantity_tolerance=quantity_tolerance,
    )
    return ParityRun(spec, backtest, live, parity, out, {"backtest": t1 - t0, "live": t2 - t1})
