"""A balance without a price has no known value: the monitor's equity waits for it."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.portfolio import account_equity
from seraphim.portfolio import unpriced

KRAKEN = Venue("KRAKEN")


def _engine_after(quoted: str) -> BacktestEngine:
    """A CASH account holding USD and BTC, run over one quote of ``quoted``."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        KRAKEN,
        OmsType.NETTING,
        AccountType.CASH,
        base_currency=None,
        starting_balances=[Money(100_000, USD), Money(Decimal(2), BTC)],
    )
    for name in ("BTC/USD", "ETH/USD"):
        engine.add_instrument(instrument_for(name))
    instrument = instrument_for(quoted)
    price = instrument.make_price(50_000 if quoted == "BTC/USD" else 2_000)
    size = Quantity.from_str("1.00000000")
    engine.add_data([QuoteTick(instrument.id, price, price, size, size, 1, 1)])
    engine.run()
    return engine


def test_balances_count_once_priced() -> None:
    engine = _engine_after("ETH/USD")
    assert unpriced(engine.cache, KRAKEN, USD) == ["BTC"]  # no BTC quote yet: value unknown
    engine.dispose()
    engine = _engine_after("BTC/USD")
    assert unpriced(engine.cache, KRAKEN, USD) == []
    assert account_equity(engine.cache, engine.portfolio, KRAKEN, USD) == 200_000
    engine.dispose()
