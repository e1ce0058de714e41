"""Run a backtest spec on nautilus's ``BacktestNode`` and write its results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.backtest.results import BacktestResult
from nautilus_trader.model.identifiers import Venue

from seraphim.backtest.config import BacktestSpec
from seraphim.backtest.config import ConfigError
from seraphim.backtest.config import build_run_config
from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.backtest.metrics import curves_from_samples
from seraphim.backtest.metrics import fees_paid
from seraphim.backtest.metrics import trade_metrics
from seraphim.backtest.recorder import EquityRecorder
from seraphim.catalog.inventory import series_files
from seraphim.catalog.store import SeraphimCatalog
from seraphim.risk.controller import RiskController


@dataclass
class BacktestOutcome:
    """Everything a run produced, as written to the output folder."""

    spec: BacktestSpec
    metrics: dict
    curves: Curves
    prices: dict[str, pd.Series]
    orders: pd.DataFrame
    fills: pd.DataFrame
    positions: pd.DataFrame
    accounts: dict[str, pd.DataFrame]
    synthetic: list[str]
    output: Path


def check_catalog_has_data(spec: BacktestSpec) -> list[str]:
    """Fail early (naming what the catalog holds) when a bar type is missing.

    Returns the bar types whose data is synthetic.
    """
    catalog_path = Path(spec.catalog)
    if not (catalog_path / "data").is_dir():
        raise ConfigError(
            f"catalog {catalog_path} holds no data (run `seraphim catalog sample` or ingest data)",
        )
    catalog = SeraphimCatalog(catalog_path)
    available = {identifier for kind, identifier in series_files(catalog) if kind == "bar"}
    synthetic = []
    for bar_type in spec.bar_types():
        if str(bar_type) not in available:
            known = ", ".join(sorted(available)) or "none"
            raise ConfigError(f"no bars {bar_type} in catalog {catalog_path} (bars there: {known})")
        if catalog.is_synthetic(str(bar_type)):
            synthetic.append(str(bar_type))
    return synthetic


def run_backtest(spec: BacktestSpec) -> BacktestOutcome:
    synthetic = check_catalog_has_data(spec)
    run_config = build_run_config(spec)
    node = BacktestNode(configs=[run_config])
    try:
        results: list[BacktestResult] = node.run()
        engine = node.get_engine(run_config.id)
        recorder = next(a for a in engine.trader.actors() if isinstance(a, EquityRecorder))
        if recorder.equity:  # the final mark, after strategies flattened on stop
            recorder.sample(recorder.equity[-1][0])
        curves = curves_from_samples(recorder.equity)
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
        orders = engine.trader.generate_orders_report()
        fills = engine.trader.generate_fills_report()
        positions = engine.trader.generate_positions_report()
        accounts = {
            v.name: engine.trader.generate_account_report(Venue(v.name)) for v in spec.venues
        }
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
        **curve_metrics(curves),
        **trade_metrics(fills),
        "orders": len(orders),
        "fills": len(fills),
        "fees_paid": fees_paid(fills),
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
        orders=orders,
        fills=fills,
        positions=positions,
        accounts=accounts,
        synthetic=synthetic,
        output=Path(spec.output),
    )
    write_outputs(outcome)
    return outcome


def write_outputs(outcome: BacktestOutcome) -> None:
    from seraphim.backtest.report import write_report

    out = outcome.output
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(outcome.metrics, indent=2, default=_json) + "\n")
    outcome.orders.to_csv(out / "orders.csv")
    outcome.fills.to_csv(out / "fills.csv")
    outcome.positions.to_csv(out / "positions.csv")
    for venue, frame in outcome.accounts.items():
        frame.to_csv(out / f"account_{venue}.csv")
    pd.DataFrame(
        {
            "equity": outcome.curves.equity,
            "drawdown": outcome.curves.drawdown,
            "exposure": outcome.curves.exposure,
        },
    ).to_csv(out / "equity.csv", index_label="timestamp")
    write_report(outcome, out / "report.html")


def _json(value: object) -> object:
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)
