"""
The proof: the strategy class and config of a backtest run unchanged in a TradingNode against
the local exchange over real sockets; data flows, orders are placed, and nautilus's fills and
balances equal the exchange's own record.

The backtest's data comes from the same exchange through ``seraphim catalog ingest kraken``
(the adapter's REST client), so the loop is: venue -> catalog -> backtest; the same file ->
node -> venue.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import LiquiditySide

from seraphim.adapters.kraken.ingest import ingest_from_kraken
from seraphim.backtest.config import load_spec
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.node.runner import run_node
from seraphim.sim.kraken.clock import AcceleratedClock
from seraphim.strategies.ma_cross import MACross

from .helpers import KEY
from .helpers import SECRET
from .node_harness import exchange_balances_as_money
from .node_harness import lively_sim
from .node_harness import write_node_config

pytestmark = pytest.mark.slow

STRATEGY = {"name": "ma_cross", "params": {"fast": 3, "slow": 8, "trade_size": 0.01}}
BAR_TYPE = "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"


def test_backtest_strategy_runs_unchanged_against_the_exchange(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    # One exchange minute per real second: 1-minute bars close every second.
    market = {"warmup_seconds": 12 * 3600, "step_seconds": 2.0, "volatility": 0.0004}
    with lively_sim(clock=AcceleratedClock(60), random_walk=market) as tsim:
        sim = tsim.sim
        # 1. History from the exchange into a catalog, through the adapter's REST client.
        catalog = SeraphimCatalog(tmp_path / "catalog")
        since = str(int(sim.exchange.now()) - 10 * 3600)
        result = ingest_from_kraken(catalog, "BTC/USD", 1, since, rest_url=sim.rest_url)
        assert result.added > 100

        # 2. A backtest file, run as a backtest.
        backtest_file = tmp_path / "ma_cross_1m.yaml"
        backtest_file.write_text(
            yaml.safe_dump(
                {
                    "name": "ma_cross 1m",
                    "catalog": "catalog",
                    "output": "out",
                    "venues": [
                        {
                            "name": "KRAKEN",
                            "account_type": "CASH",
                            "starting_balances": ["100000 USD", "10 BTC", "10 ETH"],
                        }
                    ],
                    "data": [{"bar_type": BAR_TYPE}],
                    "strategies": [STRATEGY],
                }
            )
        )
        asyncio.set_event_loop(asyncio.new_event_loop())  # nautilus wants a current loop
        outcome = run_backtest(load_spec(backtest_file))
        assert outcome.metrics["orders"] > 0

        # 3. The same file drives a TradingNode against the exchange.
        node_file = write_node_config(tmp_path, tsim, name="proof", backtest=str(backtest_file))
        seen = {}

        def inspect(node) -> None:
            seen["strategies"] = list(node.trader.strategies())
            seen["orders"] = node.kernel.cache.orders()
            seen["account"] = node.kernel.cache.accounts()[0]
            seen["bars"] = node.kernel.cache.bar_count(BarType.from_str(BAR_TYPE))

        summary = run_node(node_file, duration=30.0, inspect=inspect)
        trades = dict(tsim.account.trades)
        exchange_orders = list(tsim.account.orders.values())
        balances = exchange_balances_as_money(tsim)

    # The node ran the backtest's strategy class with the backtest's parameters.
    (strategy,) = seen["strategies"]
    assert isinstance(strategy, MACross)
    assert (strategy.config.fast, strategy.config.slow) == (3, 8)
    assert str(strategy.config.bar_type) == BAR_TYPE
    assert float(strategy.config.trade_size) == 0.01

    # Data flowed and orders were placed.
    assert seen["bars"] >= 10
    orders = seen["orders"]
    assert len(orders) >= 2, summary.to_dict()
    assert not [o for o in orders if o.is_closed and not o.filled_qty], "orders refused"
    assert len(exchange_orders) == len(orders)  # each order reached the venue exactly once
    assert {o.venue_order_id.value for o in orders} == {o.txid for o in exchange_orders}

    # Fills equal the exchange's trades: ids, quantities, prices, fees, liquidity.
    fills = summary.fills
    assert {f["trade_id"] for f in fills} == set(trades)
    for fill in fills:
        trade = trades[fill["trade_id"]]
        assert fill["venue_order_id"] == trade.ordertxid
        assert str(trade.vol) == fill["last_qty"] or float(trade.vol) == float(fill["last_qty"])
        assert float(fill["last_px"]) == float(trade.price)
        assert float(fill["commission"]) == float(round(trade.fee, 2))
        liquidity = LiquiditySide.MAKER if trade.maker else LiquiditySide.TAKER
        assert fill["liquidity"] == liquidity.name

    # Balances in nautilus equal the exchange's (at nautilus's currency precision).
    account = seen["account"]
    for code, money in balances.items():
        assert account.balance_total(money.currency) == money, code
