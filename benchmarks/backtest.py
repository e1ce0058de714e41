"""
Backtest throughput: Seraphim's ``ma_cross`` against nautilus's bundled ``EMACross`` example on
the same bars, in the same engine setup, in the same run (bars per CPU second, medians of
interleaved rounds: each round runs every row once).

Both run as stop-and-reverse EMA(10)/EMA(20) crossovers on a margin account, so they trade the
same way; the ratio is the cost of Seraphim's strategy base (target-position helper, sizing).
The last row times the whole ``seraphim backtest run`` path (catalog streaming, equity recorder,
risk layer, metrics; no files written) for the same strategy.

The reference is nautilus's default engine. On nautilus 1.231 its portfolio appends every
closed position's PnL to its analyzer with a pandas concat (quadratic in the positions);
``backtest run`` feeds the analyzer columnar (``seraphim.backtest.analyzer``), so the engine-only
rows are also timed with that setting and the last column compares like with like.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
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
from benchmarks.common import print_table
from benchmarks.common import real_or_sample_csv
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.backtest.analyzer import use_columnar_analyzer
from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig

BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
REPEATS = 5


def _engine(catalog: SeraphimCatalog, bars: list[Bar], columnar: bool) -> BacktestEngine:
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
    if columnar:
        use_columnar_analyzer(engine.kernel.portfolio)
    return engine


def _run(catalog: SeraphimCatalog, bars: list[Bar], make_strategy, columnar: bool) -> int:
    engine = _engine(catalog, bars, columnar)
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


def whole_run(catalog: SeraphimCatalog, output: Path, **params: object) -> dict:
    """The raw backtest spec of the whole-run row: ma_cross EMA 10/20 stop-and-reverse on a
    margin account (``params`` added to the strategy's; ``risk`` becomes the spec's risk)."""
    risk = params.pop("risk", None)
    raw = {
        "catalog": str(catalog.path),
        "output": str(output),
        "venues": [{"name": "KRAKEN", "account_type": "MARGIN", "starting_balances": ["1e7 USD"]}],
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
                    **params,
                },
            },
        ],
    }
    return raw if risk is None else {**raw, "risk": risk}


def _spec(catalog: SeraphimCatalog, workdir: str):
    return parse_spec(whole_run(catalog, Path(workdir) / "out"))


def _cpu_seconds(run: Callable[[], int]) -> tuple[float, int]:
    started = time.process_time()
    orders = run()
    return time.process_time() - started, orders


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        catalog, label = load_catalog(Path(workdir))
        bars = catalog.nautilus.query(Bar, identifiers=[str(BAR_TYPE)])
        spec = _spec(catalog, workdir)
        runs: dict[str, Callable[[], int]] = {
            "nautilus EMACross (reference)": lambda: _run(catalog, bars, nautilus_ema_cross, False),
            "nautilus EMACross, columnar analyzer": lambda: _run(
                catalog, bars, nautilus_ema_cross, True
            ),
            "seraphim ma_cross": lambda: _run(catalog, bars, seraphim_ma_cross, False),
            "seraphim ma_cross, columnar analyzer": lambda: _run(
                catalog, bars, seraphim_ma_cross, True
            ),
            "seraphim backtest run (catalog stream, recorder, risk, metrics)": lambda: run_backtest(
                spec
            ).metrics["orders"],
        }
        samples: dict[str, list[float]] = {name: [] for name in runs}
        orders: dict[str, int] = {}
        for round_ in range(REPEATS + 1):  # the first round warms up
            for name, run in runs.items():
                seconds, orders[name] = _cpu_seconds(run)
                if round_:
                    samples[name].append(seconds)
    medians = {name: statistics.median(times) for name, times in samples.items()}
    reference = medians["nautilus EMACross (reference)"]
    same_setting = medians["nautilus EMACross, columnar analyzer"]
    rows = [
        [
            name,
            f"{len(bars):,}",
            f"{orders[name]:,}",
            f"{seconds:.2f}",
            f"{len(bars) / seconds:,.0f}",
            f"{reference / seconds:.2f}",
            f"{same_setting / seconds:.2f}",
        ]
        for name, seconds in medians.items()
    ]
    print_table(
        f"Backtest throughput on {label} ({len(bars):,} 1-hour bars, CPU time, "
        f"median of {REPEATS} interleaved rounds)",
        [
            "run",
            "bars",
            "orders",
            "CPU s",
            "bars/s",
            "vs EMACross",
            "vs EMACross, columnar analyzer",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
