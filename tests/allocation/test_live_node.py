"""
A portfolio in a TradingNode against the local Kraken exchange (real sockets, one exchange
minute per second): the allocator assigns capital at the first bar, samples every bar time,
and the strategies' orders are sized from their allocated capital, not from the account.
"""

import pytest

from seraphim.allocation.actor import PortfolioAllocator
from seraphim.node.runner import run_node
from seraphim.sim.kraken.clock import AcceleratedClock
from tests.adapters_kraken.helpers import KEY
from tests.adapters_kraken.helpers import SECRET
from tests.adapters_kraken.node_harness import lively_sim
from tests.adapters_kraken.node_harness import write_node_config

BTC = "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"
ETH = "ETH/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"
FRACTION = 0.1


def ma_cross(instrument: str, bar_type: str) -> dict:
    params = {"instrument_id": instrument, "bar_type": bar_type, "fast": 2, "slow": 4}
    return {"name": "ma_cross", "params": {**params, "equity_fraction": FRACTION}}


@pytest.mark.slow
def test_strategies_in_a_node_size_from_their_allocation(tmp_path, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    market = {"warmup_seconds": 3 * 3600, "step_seconds": 2.0, "volatility": 0.0008}
    seen = {}

    def inspect(node) -> None:
        (allocator,) = [a for a in node.trader.actors() if isinstance(a, PortfolioAllocator)]
        seen["allocator"] = allocator
        seen["orders"] = node.kernel.cache.orders()

    with lively_sim(clock=AcceleratedClock(60), random_walk=market) as tsim:
        path = write_node_config(
            tmp_path,
            tsim,
            name="portfolio",
            data=[{"bar_type": BTC}, {"bar_type": ETH}],
            strategies=[ma_cross("BTC/USD.KRAKEN", BTC), ma_cross("ETH/USD.KRAKEN", ETH)],
            portfolio={"scheme": "fixed", "weights": {"MACross-000": 0.7, "MACross-001": 0.3}},
        )
        run_node(path, duration=25.0, inspect=inspect)

    allocator = seen["allocator"]
    start = {row[2]: row for row in allocator.allocation_rows if row[1] == "start"}
    assert {sid: row[3] for sid, row in start.items()} == {"MACross-000": 0.7, "MACross-001": 0.3}
    equity = sum(row[5] for row in start.values())
    assert equity > 100_000  # the account's USD, BTC and ETH at the exchange's prices
    bar_times = {row[0] for row in allocator.return_rows}
    assert len(bar_times) >= 10
    # Each strategy's first order: FRACTION of its own capital (0.7 or 0.3 of the account).
    for sid, row in start.items():
        orders = [o for o in seen["orders"] if o.strategy_id.value == sid and o.filled_qty]
        assert orders, f"{sid} traded nothing"
        first = min(orders, key=lambda o: o.ts_init)
        notional = first.filled_qty.as_double() * first.avg_px
        assert notional / row[5] == pytest.approx(FRACTION, rel=0.05), (sid, notional, row)
