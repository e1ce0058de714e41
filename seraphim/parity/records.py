"""
Orders and fills of either side in one shape, from nautilus's own reports (a backtest's and a
node's ``generate_orders_report`` / ``generate_fills_report``) and the venue's trade records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class OrderRow:
    """One order as parity compares it."""

    time: pd.Timestamp  # when the strategy sent it (exchange time on the live side)
    strategy: str
    instrument: str
    side: str
    quantity: Decimal
    type: str
    status: str
    order_id: str

    def key(self) -> tuple:
        """What must be identical on both sides."""
        return (self.time, self.strategy, self.instrument, self.side, self.quantity, self.type)


@dataclass(frozen=True)
class FillRow:
    """One fill; ``venue_fee`` is the venue's own figure where there is a venue."""

    time: pd.Timestamp
    strategy: str
    instrument: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal  # as nautilus books it (the commission's currency precision)
    currency: str
    venue_fee: Decimal | None = None


def _money(text: str) -> tuple[Decimal, str]:
    amount, _, currency = str(text).strip().partition(" ")
    return Decimal(amount.replace(",", "").replace("_", "")), currency


def orders_from_report(
    report: pd.DataFrame, when: Callable[[int], pd.Timestamp] | None = None
) -> list[OrderRow]:
    """
    Orders by time, then strategy, each strategy's in the order it sent them; ``when`` turns
    ``ts_init`` (nanoseconds) into the time to compare (the live side maps its wall clock to
    the exchange's).
    """
    if report.empty:
        return []
    rows = []
    for order_id, row in report.sort_values("ts_init", kind="stable").iterrows():
        ts = int(row["ts_init"])
        rows.append(
            OrderRow(
                time=when(ts) if when else pd.Timestamp(ts, unit="ns", tz="UTC"),
                strategy=str(row["strategy_id"]),
                instrument=str(row["instrument_id"]),
                side=str(row["side"]),
                quantity=Decimal(str(row["quantity"])),
                type=str(row["type"]),
                status=str(row["status"]),
                order_id=str(order_id),
            )
        )
    # Orders of one bar from several strategies: each strategy's own order kept.
    return sorted(rows, key=lambda o: (o.time, o.strategy))


def fills_from_report(
    fills: pd.DataFrame, orders: pd.DataFrame, venue_trades: dict[str, Any] | None = None
) -> list[FillRow]:
    """Fills by time, then strategy; ``venue_trades`` (txid -> the venue's trade) adds its fee."""
    if fills.empty:
        return []
    strategies = orders["strategy_id"].astype(str).to_dict() if not orders.empty else {}
    rows = []
    frame = fills.reset_index().sort_values("ts_event", kind="stable")
    for _, row in frame.iterrows():
        fee, currency = _money(row["commission"])
        venue = (venue_trades or {}).get(str(row["trade_id"]))
        rows.append(
            FillRow(
                time=pd.Timestamp(row["ts_event"]),
                strategy=strategies.get(row["client_order_id"], ""),
                instrument=str(row["instrument_id"]),
                side=str(row["order_side"]),
                quantity=Decimal(str(row["last_qty"])),
                price=Decimal(str(row["last_px"])),
                fee=fee,
                currency=currency,
                venue_fee=Decimal(venue["fee"]) if venue is not None else None,
            )
        )
    return sorted(rows, key=lambda f: (f.time, f.strategy))


def pnl(fills: list[FillRow], marks: dict[str, Decimal], venue_fees: bool = False) -> Decimal:
    """
    Cash from the fills, less fees, plus what is still held valued at ``marks`` (instrument ->
    last close): the run's profit in the quote currency.
    """
    cash = Decimal(0)
    held: dict[str, Decimal] = {}
    for f in fills:
        sign = 1 if f.side == "BUY" else -1
        fee = f.venue_fee if venue_fees and f.venue_fee is not None else f.fee
        cash -= sign * f.quantity * f.price + fee
        held[f.instrument] = held.get(f.instrument, Decimal(0)) + sign * f.quantity
    return cash + sum((qty * marks[i] for i, qty in held.items() if qty), Decimal(0))
