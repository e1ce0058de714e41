"""
The part of nautilus's fills report that a run's metrics read, built from the cache's fill
events: ``performance_metrics`` needs each fill's strategy, instrument, side, quantity, price,
commission, time and client order id, not the report's twenty text columns and per-row
timestamps (three times the cost, paid by every backtest and every trial of a sweep; the full
report is built only where it is written out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.orders import Order

# Fields of nautilus's OrderFilled.to_dict, as the fills report writes them.
COLUMNS = [
    "client_order_id",
    "strategy_id",
    "instrument_id",
    "order_side",
    "last_qty",
    "last_px",
    "commission",
    "ts_event",
]


def fills_frame(orders: list[Order]) -> pd.DataFrame:
    """
    Rows and order of ``ReportProvider.generate_fills_report(orders)`` (indexed and sorted by
    client order id, ``ts_event`` as UTC times) with only ``COLUMNS``.
    """
    fills = [
        OrderFilled.to_dict(event)
        for order in orders
        for event in order.events
        if isinstance(event, OrderFilled)
    ]
    if not fills:
        return pd.DataFrame()
    columns = {column: [fill[column] for fill in fills] for column in COLUMNS[1:]}
    stamps = np.array(columns["ts_event"], dtype=np.int64)
    columns["ts_event"] = pd.to_datetime(stamps, unit="ns", utc=True)
    index = pd.Index([fill["client_order_id"] for fill in fills], name="client_order_id")
    return pd.DataFrame(columns, index=index).sort_index()
