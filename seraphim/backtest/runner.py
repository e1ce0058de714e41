"""Run a backtest spec on nautilus's ``BacktestNode``; ``outputs.write_outputs`` saves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from pathlib import Path

import pandas as pd
from nautilus_trader.analysis.reporter import ReportProvider
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.backtest.results import BacktestResult
from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.identifiers import Venue

from seraphim.allocation.tables import allocation_tables
from seraphim.backtest.analyzer import use_columnar_analyzer
from seraphim.backtest.config import BacktestSpec
from seraphim.backtest.config import ConfigError
from seraphim.backtest.config import build_run_config
from seraphim.backtest.fills import fills_frame
from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.backtest.metrics import curves_from_samples
from seraphim.backtest.metrics import fees_paid
from seraphim.backtest.metrics import trade_metrics
from seraphim.backtest.recorder import EquityRecorder
from seraphim.catalog.inventory import list_series
from seraphim.catalog.store import SeraphimCatalog
from seraphim.execution.quality import execution_tables
from seraphim.risk.controller import RiskController


class RunRecords:
    """
    A finished run's orders, positions (with their snapshots) and venue accounts, taken from
    nautilus's cache before the engine is disposed; nautilus's reports of them are built on
    first use, so a run whose outputs are not written does not pay for them.
    """

    def __init__(self, cache: Cache, venues: list[str]) -> None:
        self.cached_orders = cache.orders()
        self._positions = cache.positions()
        self._snapshots = cache.position_snapshots()
        self._accounts = {venue: cache.account_for_venue(Venue(venue)) for venue in venues}

    @cached_property
    def orders(self) -> pd.DataFrame:
        return ReportProvider.generate_orders_report(self.cached_orders)

    @cached_property
    def fills(self) -> pd.DataFrame:
        return ReportProvider.generate_fills_report(self.cached_orders)

    @cached_property
    def positions(self) -> pd.DataFrame:
        return ReportProvider.generate_positions_report(self._positions, self._snapshots)

    @cached_property
    def accounts(self) -> dict[str, pd.DataFrame]:
        report = ReportProvider.generate_account_report
        return {
            venue: pd.DataFrame() if account is None else report(account)
            for venue, account in self._accounts.items()
        }


@dataclass
class BacktestOutcome:
    """Everything a run produced, as written to the output folder."""

    spec: BacktestSpec
    metrics: dict
    curves: Curves
    prices: dict[str, pd.Series]
    records: RunRecords  # nautilus's orders, fills, positions and account reports
    synthetic: list[str]
    output: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # more CSVs, by file name

    @property
    def orders(self) -> pd.DataFrame:
        return self.records.orders

    @property
    def fills(self) -> pd.DataFrame:
        return self.records.fills

    @property
    def positions(self) -> pd.DataFrame:
        return self.records.positions

    @property
    def accounts(self) -> dict[str, pd.DataFrame]:
        return self.records.accounts


@dataclass(frozen=True)
class CatalogCheck:
    synthetic: list[str]  # bar types whose data is synthetic
    bars: int  # bars of the run's series in its start/end window (pro rata when cut)


def _share_in_window(spec: BacktestSpec, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The share of a series' time range that falls in the run's window (0 when none does)."""
    lo = max(start, pd.Timestamp(spec.start, tz="UTC")) if spec.start else start
    hi = min(end, pd.Timestamp(spec.end, tz="UTC")) if spec.end else end
    if hi < lo:
        return 0.0
    return 1.0 if end == start else (hi - lo) / (end - start)


def check_catalog_has_data(spec: BacktestSpec) -> CatalogCheck:
    """
    Fail early, naming what the catalog holds, when a bar type is missing or has no bars
    between the run's start and end.
    """
    catalog_path = Path(spec.catalog)
    if not (catalog_path / "data").is_dir():
        raise ConfigError(
            f"catalog {catalog_path} holds no data (run `seraphim catalog sample` or ingest data)",
        )
    catalog = SeraphimCatalog(catalog_path, create=False)
    series = {info.identifier: info for info in list_series(catalog) if info.data_type == "bar"}
    synthetic = []
    bars = 0
    for bar_type in map(str, spec.bar_types()):
        info = series.get(bar_type)
        if info is None:
            known = ", ".join(sorted(series)) or "none"
            raise ConfigError(f"no bars {bar_type} in catalog {catalog_path} (bars there: {known})")
        share = _share_in_window(spec, info.start, info.end) if info.start is not None else 0.0
        if share == 0.0:
            raise ConfigError(
                f"no bars {bar_type} between {spec.start or 'the start'} and "
                f"{spec.end or 'the end'} (the catalog has {info.start} to {info.end})"
            )
        if info.synthetic:
            synthetic.append(bar_type)
        bars += round(info.rows * share)
    return CatalogCheck(synthetic=synthetic, bars=bars)


def run_backtest(
    spec: BacktestSpec,
    on_bars: Callable[[int], None] | None = None,
) -> BacktestOutcome:
    """
    Run ``spec``; ``on_bars(n)`` (optional) hears every ``PROGRESS_EVERY`` bars processed.
    Nothing is written: ``write_outputs`` saves the outcome.
    """
    synthetic = check_catalog_has_data(spec).synthetic
    run_config = build_run_config(spec)
    node = BacktestNode(configs=[run_config])
    try:
        node.build()
        engine = node.get_engine(run_config.id)
        use_columnar_analyzer(engine.kernel.portfolio)
        if on_bars is not None:
            engine.kernel.msgbus.subscribe("data.bars.*", _BarCounter(on_bars))
        results: list[BacktestResult] = node.run()
        recorder = equity_recorder(engine)
        curves = final_curves(recorder)
        prices = {
            bar_type: pd.Series(
                [p for _, p in rows],
                index=pd.to_datetime([t for t, _ in rows], unit="ns", utc=True),
                name=bar_type,
            )
            for bar_type, rows in recorder.prices.items()
        }
        controller = next(
            (a for a in engine.trader.actors() if isinstance(a, RiskController)), None
        )
        risk = controller.gate.summary() if controller is not None else {}
        records = RunRecords(engine.cache, [v.name for v in spec.venues])
        orders = records.cached_orders
        tables = allocation_tables(engine.trader.actors())
        tables |= execution_tables(engine.trader.exec_algorithms())
        result = results[0]
    finally:
        node.dispose()

    metrics = {
        "name": spec.name,
        "synthetic_data": bool(synthetic),
        "period": {
            "start": curves.equity.index[0].isoformat() if len(curves.equity) else None,
            "end": curves.equity.index[-1].isoformat() if len(curves.equity) else None,
            "bars": int(sum(len(p) for p in prices.values())),
        },
        **performance_metrics(curves, fills_frame(orders), len(orders)),
        "denied_orders": risk.get("denied_orders", {}),
        "risk_events": risk.get("risk_events", []),
        "risk": {k: v for k, v in risk.items() if k not in ("denied_orders", "risk_events")},
        "nautilus": {
            "stats_pnls": result.stats_pnls,
            "stats_returns": result.stats_returns,
            "iterations": result.iterations,
            "elapsed_time_s": result.elapsed_time,
        },
    }
    outcome = BacktestOutcome(
        spec=spec,
        metrics=metrics,
        curves=curves,
        prices=prices,
        records=records,
        synthetic=synthetic,
        output=Path(spec.output),
        tables=tables,
    )
    return outcome


def equity_recorder(engine) -> EquityRecorder:
    """The run's equity recorder (every run config from ``build_run_config`` has one)."""
    return next(a for a in engine.trader.actors() if isinstance(a, EquityRecorder))


def final_curves(recorder: EquityRecorder) -> Curves:
    """The equity curves, with the final mark taken after strategies flattened on stop."""
    if recorder.equity:
        recorder.sample(recorder.equity[-1][0])
    return curves_from_samples(recorder.equity)


def performance_metrics(curves: Curves, fills: pd.DataFrame, orders: int) -> dict:
    """A run's metrics from its equity curves and its fills (nautilus's fills report, or the
    lean table of its columns that ``seraphim.backtest.fills`` builds)."""
    return {
        **curve_metrics(curves),
        **trade_metrics(fills),
        "orders": orders,
        "fills": len(fills),
        "fees_paid": fees_paid(fills),
    }


PROGRESS_EVERY = 1_000


class _BarCounter:
    """A message-bus handler that reports progress every PROGRESS_EVERY bars."""

    def __init__(self, report: Callable[[int], None]) -> None:
        self._report = report
        self._count = 0

    def __call__(self, _bar: object) -> None:
        self._count += 1
        if self._count == PROGRESS_EVERY:
            self._report(self._count)
            self._count = 0
