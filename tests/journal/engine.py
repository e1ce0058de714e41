"""A BacktestEngine that trades a lot on synthetic minute bars (journal and state tests)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import CacheConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import MessageBusConfig
from nautilus_trader.examples.strategies.ema_cross import EMACross
from nautilus_trader.examples.strategies.ema_cross import EMACrossConfig
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.test_kit.providers import TestInstrumentProvider

INSTRUMENT = TestInstrumentProvider.btcusdt_binance()
BAR_TYPE = BarType.from_str(f"{INSTRUMENT.id}-1-MINUTE-LAST-EXTERNAL")
T0 = 1_700_000_000_000_000_000
MINUTE = 60_000_000_000


def synthetic_bars(count: int, start: int = 0, seed: int = 7) -> list[Bar]:
    """A random walk of one-minute bars (bar ``start`` .. ``start + count``)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.002, start + count)
    closes = 50_000.0 * np.exp(np.cumsum(steps))
    bars = []
    for i in range(start, start + count):
        close = closes[i]
        open_ = closes[i - 1] if i else 50_000.0
        high, low = max(open_, close) * 1.0005, min(open_, close) * 0.9995
        stamp = T0 + i * MINUTE
        bars.append(
            Bar(
                BAR_TYPE,
                INSTRUMENT.make_price(open_),
                INSTRUMENT.make_price(high),
                INSTRUMENT.make_price(low),
                INSTRUMENT.make_price(close),
                INSTRUMENT.make_qty(10),
                stamp,
                stamp,
            )
        )
    return bars


def make_engine(
    trader_id: str,
    actors: list | None = None,
    cache: CacheConfig | None = None,
    message_bus: MessageBusConfig | None = None,
    strategies: list | None = None,
) -> BacktestEngine:
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId(trader_id),
            logging=LoggingConfig(log_level="ERROR"),
            cache=cache,
            message_bus=message_bus,
        )
    )
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=None,
        starting_balances=[Money(1_000_000, INSTRUMENT.quote_currency), Money(10, BTC)],
    )
    engine.add_instrument(INSTRUMENT)
    for strategy in strategies if strategies is not None else [ema_cross()]:
        engine.add_strategy(strategy)
    for actor in actors or []:
        engine.add_actor(actor)
    return engine


def ema_cross(tag: str = "000") -> EMACross:
    return EMACross(
        EMACrossConfig(
            instrument_id=INSTRUMENT.id,
            bar_type=BAR_TYPE,
            trade_size=Decimal("0.1"),
            fast_ema_period=10,
            slow_ema_period=20,
            order_id_tag=tag,
        )
    )
