"""The lean fills table metrics read is nautilus's fills report cut to those columns."""

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from seraphim.backtest.fees import KrakenFeeModel
from seraphim.backtest.fees import KrakenFeeModelConfig
from seraphim.backtest.fills import COLUMNS
from seraphim.backtest.fills import fills_frame
from seraphim.backtest.metrics import trade_metrics
from seraphim.catalog.store import SeraphimCatalog
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig
from tests.research.conftest import BTC
from tests.research.conftest import SYNTHETIC_CATALOG


def _engine() -> BacktestEngine:
    catalog = SeraphimCatalog(SYNTHETIC_CATALOG)
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        Venue("KRAKEN"),
        OmsType.NETTING,
        AccountType.CASH,
        [Money(100_000, USD)],
        fill_model=FillModel(prob_slippage=0.3, random_seed=7),
        fee_model=KrakenFeeModel(KrakenFeeModelConfig()),
    )
    engine.add_instrument(catalog.nautilus.instruments(instrument_ids=["BTC/USD.KRAKEN"])[0])
    engine.add_data(
        catalog.nautilus.query(Bar, identifiers=[BTC], start="2024-03-01", end="2024-05-01")
    )
    return engine


def test_fills_frame_is_the_reports_columns_row_for_row():
    engine = _engine()
    bar_type = BarType.from_str(BTC)
    try:
        assert fills_frame(engine.cache.orders()).empty  # nothing ran: no fills, as the report
        # Two strategies, so rows from different orders share times and the sort matters.
        for fast, slow in ((5, 20), (8, 30)):
            engine.add_strategy(
                MACross(
                    MACrossConfig(
                        instrument_id=bar_type.instrument_id,
                        bar_type=bar_type,
                        fast=fast,
                        slow=slow,
                        trade_size=Decimal("0.5"),
                        order_id_tag=f"{fast:03d}",
                    )
                )
            )
        engine.run()
        report = engine.trader.generate_fills_report()
        lean = fills_frame(engine.cache.orders())
    finally:
        engine.dispose()
    assert len(report) > 40
    assert list(lean.columns) == COLUMNS[1:]
    assert lean.equals(report[COLUMNS[1:]])
    assert trade_metrics(lean) == trade_metrics(report)
