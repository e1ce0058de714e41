"""
The part of nautilus's fills report that a trial's metrics read, built from the cache's fill
events: ``performance_metrics`` needs each fill's strategy, instrument, side, quantity, price,
commission, time and client order id, not the report's twenty text columns and per-row
timestamps (three times the cost, paid by every trial of a sweep).
"""

from __future__ import annotations

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
    rows = [[fill[column] for column in COLUMNS] for fill in fills]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows, columns=COLUMNS).set_index("client_order_id").sort_index()
    frame["ts_event"] = pd.to_datetime(frame["ts_event"], unit="ns", utc=True)
    return frame
