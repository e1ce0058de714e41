"""
The comparison of a backtest and a live run of the same strategies on the same market path:
order sequences, fills, fees and final PnL, each difference given its likely cause.

Causes:
- ``latency``: the same order sent at a different bar.
- ``fill model``: the same order filled at another price (nautilus's ``prob_slippage`` moves a
  backtest fill by one tick; the venue fills against its own book).
- ``fee rounding``: nautilus books a USD commission at 2 decimals, Kraken charges to 4.
- ``fee schedule``: a larger fee difference (another tier or rate).
- ``sizing``: the same signal sized to another quantity (equity, a balance or a price differed
  before, e.g. by the fee rounding).
- ``risk``: an order denied or clipped on one side only.
- ``sequence``: an order only one side sent (the sequences diverged).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from seraphim.parity.records import FillRow
from seraphim.parity.records import OrderRow
from seraphim.parity.records import pnl

MAX_LISTED = 50  # differences listed one by one; the counts cover all of them
# A USD commission booked at 2 decimals is at most half a cent from Kraken's 4-decimal fee.
FEE_ROUNDING = Decimal("0.005")


@dataclass
class Difference:
    what: str  # order | fill | fee
    index: int
    cause: str
    backtest: str
    live: str


@dataclass
class Parity:
    """Everything the report shows."""

    orders_backtest: int
    orders_live: int
    orders_identical: bool
    # Every order at the same time, side and type; quantities at most this far apart (relative).
    orders_same_signals: bool
    largest_quantity_difference: float
    quantity_tolerance: float
    fills_backtest: int
    fills_live: int
    fees: dict[str, float]
    pnl: dict[str, Any]
    differences: list[Difference] = field(default_factory=list)
    causes: dict[str, int] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        """
        The same orders (quantities within the quantity tolerance: sizing from equity follows
        the fee rounding) and PnL within the tolerance.
        """
        same = self.orders_identical or (
            self.orders_same_signals and self.largest_quantity_difference <= self.quantity_tolerance
        )
        return same and bool(self.pnl["within"])

    def listed(self) -> list[Difference]:
        """The differences shown one by one: all but fee rounding (counted in ``causes``)."""
        return [d for d in self.differences if d.cause != "fee rounding"][:MAX_LISTED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "parity": self.holds,
            "orders": {
                "backtest": self.orders_backtest,
                "live": self.orders_live,
                "identical": self.orders_identical,
                "same_signals": self.orders_same_signals,
                "largest_quantity_difference": self.largest_quantity_difference,
                "quantity_tolerance": self.quantity_tolerance,
            },
            "fills": {"backtest": self.fills_backtest, "live": self.fills_live},
            "fees": self.fees,
            "pnl": self.pnl,
            "causes": self.causes,
            "differences": [vars(d) for d in self.listed()],
            "differences_total": len(self.differences),
        }


def _describe_order(o: OrderRow | None) -> str:
    if o is None:
        return "-"
    return f"{o.time:%Y-%m-%d %H:%M} {o.strategy} {o.side} {o.quantity} {o.type} {o.status}"


def _describe_fill(f: FillRow | None) -> str:
    if f is None:
        return "-"
    return f"{f.time:%Y-%m-%d %H:%M} {f.side} {f.quantity} @ {f.price} fee {f.fee} {f.currency}"


def _order_cause(bt: OrderRow | None, live: OrderRow | None) -> str:
    if bt is None or live is None:
        return "sequence"
    if "DENIED" in (bt.status, live.status) and bt.status != live.status:
        return "risk"
    if (bt.side, bt.quantity, bt.type) == (live.side, live.quantity, live.type):
        return "latency"
    if (bt.side, bt.type) == (live.side, live.type):
        return "sizing"
    return "sequence"


def compare_orders(backtest: list[OrderRow], live: list[OrderRow]) -> list[Difference]:
    """Position by position: what differs and why."""
    out = []
    for i in range(max(len(backtest), len(live))):
        bt = backtest[i] if i < len(backtest) else None
        lv = live[i] if i < len(live) else None
        same = bt is not None and lv is not None and bt.key() == lv.key()
        if same and bt.status == lv.status:  # type: ignore[union-attr]
            continue
        cause = "risk" if same else _order_cause(bt, lv)
        out.append(Difference("order", i, cause, _describe_order(bt), _describe_order(lv)))
    return out


def compare_fills(
    backtest: list[FillRow], live: list[FillRow], slippage: bool
) -> tuple[list[Difference], Decimal]:
    """
    Fill by fill (the same order sequence gives the same fills): prices and fees. Returns the
    differences and the PnL the price differences account for (live minus backtest).
    """
    out, price_effect = [], Decimal(0)
    for i, (bt, lv) in enumerate(zip(backtest, live, strict=False)):
        if (bt.side, bt.quantity) != (lv.side, lv.quantity):
            continue  # an order difference, listed there
        if bt.price != lv.price:
            sign = 1 if bt.side == "SELL" else -1
            price_effect += sign * (lv.price - bt.price) * bt.quantity
            cause = "fill model (backtest slippage)" if slippage else "fill model"
            out.append(Difference("fill", i, cause, _describe_fill(bt), _describe_fill(lv)))
        if lv.venue_fee is not None and bt.fee != lv.venue_fee:
            if abs(bt.fee - lv.venue_fee) <= FEE_ROUNDING:
                cause, shown_bt, shown_live = "fee rounding", f"{bt.fee}", f"{lv.venue_fee}"
            else:  # another rate: show both
                cause = "fee schedule"
                shown_bt = f"{bt.fee} ({_rate(bt):.4%} of {bt.quantity * bt.price:.4f})"
                shown_live = f"{lv.venue_fee} ({_rate(lv, True):.4%}, venue)"
            out.append(Difference("fee", i, cause, shown_bt, shown_live))
    return out, price_effect


def _rate(f: FillRow, venue: bool = False) -> Decimal:
    fee = f.venue_fee if venue and f.venue_fee is not None else f.fee
    return fee / (f.quantity * f.price)


def _quantity_gap(backtest: list[OrderRow], live: list[OrderRow]) -> tuple[bool, float]:
    """Whether every order matches but for its quantity, and the largest relative gap."""
    if len(backtest) != len(live):
        return False, float("inf")
    largest = Decimal(0)
    for bt, lv in zip(backtest, live, strict=True):
        if (bt.time, bt.strategy, bt.instrument, bt.side, bt.type, bt.status) != (
            lv.time,
            lv.strategy,
            lv.instrument,
            lv.side,
            lv.type,
            lv.status,
        ):
            return False, float("inf")
        if bt.quantity:
            largest = max(largest, abs(lv.quantity - bt.quantity) / bt.quantity)
    return True, float(largest)


def _total(fills: list[FillRow], venue: bool = False) -> Decimal:
    return sum(
        ((f.venue_fee if venue and f.venue_fee is not None else f.fee) for f in fills), Decimal(0)
    )


def compare(
    backtest_orders: list[OrderRow],
    live_orders: list[OrderRow],
    backtest_fills: list[FillRow],
    live_fills: list[FillRow],
    marks: dict[str, Decimal],
    starting_equity: Decimal,
    tolerance: float = 0.005,
    slippage: bool = False,
    quantity_tolerance: float = 1e-4,
) -> Parity:
    """
    The whole comparison. The live PnL is the venue's (its prices and its 4-decimal fees); the
    tolerance applies to the difference relative to the backtest's PnL, the quantity tolerance
    to orders that differ in quantity alone.
    """
    order_diffs = compare_orders(backtest_orders, live_orders)
    fill_diffs, price_effect = compare_fills(backtest_fills, live_fills, slippage)
    fees = {
        "backtest": _total(backtest_fills),
        "live_node": _total(live_fills),
        "live_venue": _total(live_fills, venue=True),
        "largest_rounding": max(
            (
                abs(b.fee - v.venue_fee)
                for b, v in zip(backtest_fills, live_fills, strict=False)
                if v.venue_fee is not None and abs(b.fee - v.venue_fee) <= FEE_ROUNDING
            ),
            default=Decimal(0),
        ),
    }
    pnl_bt = pnl(backtest_fills, marks)
    pnl_live = pnl(live_fills, marks, venue_fees=True)
    delta = pnl_live - pnl_bt
    fee_effect = fees["backtest"] - fees["live_venue"]
    relative = abs(delta) / abs(pnl_bt) if pnl_bt else (Decimal(0) if not delta else None)
    differences = order_diffs + fill_diffs
    causes: dict[str, int] = {}
    for d in differences:
        causes[d.cause] = causes.get(d.cause, 0) + 1
    same_signals, quantity_gap = _quantity_gap(backtest_orders, live_orders)
    return Parity(
        orders_backtest=len(backtest_orders),
        orders_live=len(live_orders),
        orders_identical=not order_diffs,
        orders_same_signals=same_signals,
        largest_quantity_difference=quantity_gap,
        quantity_tolerance=quantity_tolerance,
        fills_backtest=len(backtest_fills),
        fills_live=len(live_fills),
        fees={k: float(v) for k, v in fees.items()},
        pnl={
            "backtest": float(pnl_bt),
            "live": float(pnl_live),
            "live_node": float(pnl(live_fills, marks)),
            "difference": float(delta),
            "relative": None if relative is None else float(relative),
            "of_starting_equity": float(abs(delta) / starting_equity) if starting_equity else None,
            "tolerance": tolerance,
            "within": relative is not None and relative <= Decimal(str(tolerance)),
            "explained_by": {
                "fees": float(fee_effect),
                "fill_prices": float(price_effect),
                "orders": float(delta - fee_effect - price_effect),
            },
        },
        differences=differences,
        causes=causes,
    )
