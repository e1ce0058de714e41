"""
Backtest throughput: Seraphim's ``ma_cross`` against nautilus's bundled ``EMACross`` example on
the same bars, in the same engine setup, in the same run (bars per second, medians).

Both run as stop-and-reverse EMA(10)/EMA(20) crossovers on a margin account, so they trade the
same way; the ratio is the cost of Seraphim's strategy base (target-position helper, sizing).
A third row times the whole ``seraphim backtest run`` path (catalog streaming, equity recorder,
reports) for the same strategy.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.examples.strategies.ema_cross import EMACross
from nautilus_trader.examples.strategies.ema_cross import EMACrossConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from benchmarks.common import SAMPLE_CATALOG
from benchmarks.common import median_seconds
from benchmarks.common import print_table
from benchmarks.common import real_or_sample_csv
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig

BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
REPEATS = 5


def _engine(catalog: SeraphimCatalog, bars: list[Bar]) -> BacktestEngine:
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), run_analysis=False),
    )
    engine.add_venue(
        venue=Venue("KRAKEN"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(10_000_000, USD)],
    )
    engine.add_instrument(catalog.nautilus.instruments()[0])
    engine.add_data(bars)
    return engine


def _run(catalog: SeraphimCatalog, bars: list[Bar], make_strategy) -> int:
    engine = _engine(catalog, bars)
    engine.add_strategy(make_strategy())
    engine.run()
    orders = len(engine.cache.orders())
    engine.dispose()
    return orders


def seraphim_ma_cross() -> MACross:
    return MACross(
        MACrossConfig(
            instrument_id=BAR_TYPE.instrument_id,
            bar_type=BAR_TYPE,
            fast=10,
            slow=20,
            ma_type="ema",
            long_only=False,
            trade_size=Decimal("0.1"),
        ),
    )


def nautilus_ema_cross() -> EMACross:
    return EMACross(
        EMACrossConfig(
            instrument_id=BAR_TYPE.instrument_id,
            bar_type=BAR_TYPE,
            trade_size=Decimal("0.1"),
            fast_ema_period=10,
            slow_ema_period=20,
            request_bars=False,
            subscribe_trade_ticks=False,
        ),
    )


def load_catalog(workdir: Path) -> tuple[SeraphimCatalog, str]:
    csv, label = real_or_sample_csv()
    if csv is None:
        return SeraphimCatalog(SAMPLE_CATALOG), label
    catalog = SeraphimCatalog(workdir / "catalog")
    ingest_kraken_ohlcvt(catalog, csv, "BTC/USD", 60)
    return catalog, label


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        catalog, label = load_catalog(Path(workdir))
        bars = catalog.nautilus.query(Bar, identifiers=[str(BAR_TYPE)])
        rows = []
        timings = {}
        for name, factory in (
            ("nautilus EMACross (reference)", nautilus_ema_cross),
            ("seraphim ma_cross", seraphim_ma_cross),
        ):
            orders = _run(catalog, bars, factory)
            timings[name] = median_seconds(lambda f=factory: _run(catalog, bars, f), REPEATS)
            rows.append([name, f"{len(bars):,}", f"{orders:,}", f"{timings[name]:.2f}"])
        spec = parse_spec(
            {
                "catalog": str(catalog.path),
                "output": str(Path(workdir) / "out"),
                "venues": [
                    {
                        "name": "KRAKEN",
                        "account_type": "MARGIN",
                        "starting_balances": ["10000000 USD"],
                    },
                ],
                "data": [{"bar_type": str(BAR_TYPE)}],
                "strategies": [
                    {
                        "name": "ma_cross",
                        "params": {
                            "fast": 10,
                            "slow": 20,
                            "ma_type": "ema",
                            "long_only": False,
                            "trade_size": 0.1,
                        },
                    },
                ],
            },
        )
        runner_orders = run_backtest(spec).metrics["orders"]
        timings["runner"] = median_seconds(lambda: run_backtest(spec), 3)
        rows.append(
            [
                "seraphim backtest run (catalog stream, recorder, reports)",
                f"{len(bars):,}",
                f"{runner_orders:,}",
                f"{timings['runner']:.2f}",
            ],
        )
    reference = timings["nautilus EMACross (reference)"]
    for row in rows:
        seconds = float(row[3])
        row += [f"{len(bars) / seconds:,.0f}", f"{reference / seconds:.2f}"]
    print_table(
        f"Backtest throughput on {label} ({len(bars):,} 1-hour bars, median of {REPEATS})",
        ["run", "bars", "orders", "seconds", "bars/s", "speed vs EMACross"],
        rows,
    )


if __name__ == "__main__":
    main()
