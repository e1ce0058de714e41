"""A small nautilus EMACross backtest on the embedded sample catalog, for tests of what a run
leaves behind (analysis, reports)."""

from decimal import Decimal

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

from seraphim.catalog.store import SeraphimCatalog
from seraphim.paths import REPO_ROOT

BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")


def sample_data():
    """The sample catalog's BTC/USD instrument and its hourly bars."""
    catalog = SeraphimCatalog(REPO_ROOT / "catalog", create=False)
    instrument = catalog.nautilus.instruments(instrument_ids=[str(BAR_TYPE.instrument_id)])[0]
    return instrument, catalog.nautilus.query(Bar, identifiers=[str(BAR_TYPE)])


def sample_engine(sample) -> BacktestEngine:
    """An engine on a KRAKEN margin account with ``sample``'s data (strategy not added)."""
    instrument, bars = sample
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        venue=Venue("KRAKEN"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000, USD)],
    )
    engine.add_instrument(instrument)
    engine.add_data(bars)
    return engine


def add_ema_cross(engine: BacktestEngine) -> None:
    """nautilus's EMACross, stop-and-reverse EMA 5/12 (many short positions on hourly bars)."""
    config = EMACrossConfig(
        instrument_id=BAR_TYPE.instrument_id,
        bar_type=BAR_TYPE,
        trade_size=Decimal("0.1"),
        fast_ema_period=5,
        slow_ema_period=12,
        request_bars=False,
        subscribe_trade_ticks=False,
    )
    engine.add_strategy(EMACross(config))
