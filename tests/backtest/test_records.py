"""A run's records give nautilus's own reports after the engine is disposed."""

import pandas as pd
from nautilus_trader.model.identifiers import Venue

from seraphim.backtest.runner import RunRecords
from tests.backtest.sample_engine import add_ema_cross
from tests.backtest.sample_engine import sample_data
from tests.backtest.sample_engine import sample_engine


def test_records_report_as_the_trader_does_after_dispose() -> None:
    engine = sample_engine(sample_data())
    add_ema_cross(engine)
    engine.run()
    trader = engine.trader
    expected = {
        "orders": trader.generate_orders_report(),
        "fills": trader.generate_fills_report(),
        "positions": trader.generate_positions_report(),
        "account": trader.generate_account_report(Venue("KRAKEN")),
    }
    records = RunRecords(engine.cache, ["KRAKEN", "ELSEWHERE"])
    engine.dispose()

    assert len(records.cached_orders) == len(expected["orders"]) > 100
    assert expected["positions"]["is_snapshot"].any()  # NETTING flips leave snapshots
    pd.testing.assert_frame_equal(records.orders, expected["orders"])
    pd.testing.assert_frame_equal(records.fills, expected["fills"])
    pd.testing.assert_frame_equal(records.positions, expected["positions"])
    pd.testing.assert_frame_equal(records.accounts["KRAKEN"], expected["account"])
    assert records.accounts["ELSEWHERE"].empty  # a venue without an account, as the trader
