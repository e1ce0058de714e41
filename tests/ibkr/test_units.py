"""Pure pieces: history chunking and pacing, bar stamping, the reconciliation fix."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from nautilus_trader.execution.reports import ExecutionMassStatus
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs

from seraphim.adapters.ibkr.execution import apply_open_order_fills
from seraphim.adapters.ibkr.history import HistoricalPacer
from seraphim.adapters.ibkr.history import HistoryError
from seraphim.adapters.ibkr.history import PacingRules
from seraphim.adapters.ibkr.history import max_span_seconds
from seraphim.adapters.ibkr.history import parse_bar_spec
from seraphim.adapters.ibkr.history import plan_chunks
from seraphim.adapters.ibkr.history import restamp_at_close

UTC = dt.UTC


def test_bar_specs_ib_can_serve() -> None:
    assert str(parse_bar_spec("1-HOUR")) == "1-HOUR-LAST"
    assert str(parse_bar_spec("5-minute-mid")) == "5-MINUTE-MID"
    for bad in ("7-MINUTE", "1-SECOND", "2-DAY", "HOUR"):
        with pytest.raises(HistoryError):
            parse_bar_spec(bad)


def test_chunks_cover_the_range_without_gaps_within_ib_spans() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    end = dt.datetime(2025, 3, 17, 12, tzinfo=UTC)
    for bar in ("1-MINUTE", "5-MINUTE", "1-HOUR", "1-DAY", "30-SECOND"):
        spec = parse_bar_spec(bar)
        chunks = plan_chunks(start, end, spec)
        assert chunks[0].start == start and chunks[-1].end == end
        assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
        span = max_span_seconds(spec)
        assert all((c.end - c.start).total_seconds() <= span for c in chunks)
    one_minute = plan_chunks(start, end, parse_bar_spec("1-MINUTE"))
    assert len(one_minute) == 76  # 75.5 days, one day per request
    assert one_minute[0].duration == "86400 S" and one_minute[-1].duration == "43200 S"
    hourly = plan_chunks(start, end, parse_bar_spec("1-HOUR"))
    assert [c.duration for c in hourly] == ["30 D", "30 D", "16 D"]
    with pytest.raises(HistoryError):
        plan_chunks(end, start, parse_bar_spec("1-HOUR"))


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(rules: PacingRules | None = None) -> tuple[HistoricalPacer, FakeTime]:
    t = FakeTime()
    return HistoricalPacer(rules or PacingRules(margin=0.0), clock=t.clock, sleep=t.sleep), t


def _acquire(pacer: HistoricalPacer, key, contract) -> float:
    import asyncio

    return asyncio.run(pacer.acquire(key, contract))


def test_pacer_spaces_identical_requests_by_15_seconds() -> None:
    pacer, t = _pacer()
    assert _acquire(pacer, "k", "AAPL") == 0
    t.now += 4
    assert _acquire(pacer, "k", "AAPL") == pytest.approx(11)
    assert _acquire(pacer, "other", "AAPL") == 0


def test_pacer_allows_five_requests_per_contract_in_two_seconds() -> None:
    pacer, t = _pacer()
    for i in range(5):
        assert _acquire(pacer, i, "AAPL") == 0
        t.now += 0.1
    assert _acquire(pacer, 5, "MSFT") == 0  # another contract is not held back
    assert _acquire(pacer, 6, "AAPL") == pytest.approx(1.5)  # until the first is 2 s old


def test_pacer_allows_sixty_requests_in_ten_minutes() -> None:
    pacer, t = _pacer()
    for i in range(60):
        _acquire(pacer, i, f"C{i}")
        t.now += 1
    assert _acquire(pacer, "late", "C-new") == pytest.approx(540)
    assert pacer.waited == pytest.approx(540)


def test_bars_are_restamped_at_their_close() -> None:
    bar_type = BarType.from_str("AAPL.NASDAQ-1-HOUR-LAST-EXTERNAL")
    opened, closed = 1_000_000_000_000, 1_003_600_000_000
    bar = Bar(
        bar_type, Price.from_str("1.00"), Price.from_str("2.00"), Price.from_str("0.50"),
        Price.from_str("1.50"), Quantity.from_int(10), opened, closed,
    )  # fmt: skip
    (stamped,) = restamp_at_close([bar])
    assert stamped.ts_event == stamped.ts_init == closed
    assert (stamped.open, stamped.close, stamped.volume) == (bar.open, bar.close, bar.volume)


AAPL = InstrumentId.from_str("AAPL.NASDAQ")
ACCOUNT = AccountId("INTERACTIVE_BROKERS-DU1234567")


def _order_report(venue_id: str, side: OrderSide, qty: int, status: OrderStatus, filled=0):
    return OrderStatusReport(
        account_id=ACCOUNT,
        instrument_id=AAPL,
        venue_order_id=VenueOrderId(venue_id),
        order_side=side,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.GTC,
        order_status=status,
        quantity=Quantity.from_int(qty),
        filled_qty=Quantity.from_int(filled),
        report_id=TestIdStubs.uuid(),
        ts_accepted=0,
        ts_last=0,
        ts_init=0,
        client_order_id=ClientOrderId(venue_id if venue_id == AAPL.value else f"O-{venue_id}"),
    )


def _fill(venue_id: str, trade: str, side: OrderSide, qty: int, px: str) -> FillReport:
    return FillReport(
        account_id=ACCOUNT,
        instrument_id=AAPL,
        venue_order_id=VenueOrderId(venue_id),
        trade_id=TradeId(trade),
        order_side=side,
        last_qty=Quantity.from_int(qty),
        last_px=Price.from_str(px),
        commission=Money.from_str("1 USD"),
        liquidity_side=LiquiditySide.NO_LIQUIDITY_SIDE,
        report_id=TestIdStubs.uuid(),
        ts_event=0,
        ts_init=0,
    )


def _mass_status(orders, fills) -> ExecutionMassStatus:
    status = ExecutionMassStatus(
        client_id=ClientId("INTERACTIVE_BROKERS"),
        account_id=ACCOUNT,
        venue=Venue("INTERACTIVE_BROKERS"),
        report_id=TestIdStubs.uuid(),
        ts_init=0,
    )
    status.add_order_reports(orders)
    status.add_fill_reports(fills)
    return status


def test_partly_filled_open_order_gets_its_fills_and_the_position_order_shrinks() -> None:
    # nautilus's IB client: the position (1500 long) as a filled pseudo-order, and the open
    # order (BUY 3000, 1200 executed) reported with nothing filled.
    position = _order_report(AAPL.value, OrderSide.BUY, 1500, OrderStatus.FILLED, 1500)
    working = _order_report("101", OrderSide.BUY, 3000, OrderStatus.ACCEPTED)
    fills = [
        _fill("101", "T1", OrderSide.BUY, 700, "190.00"),
        _fill("101", "T2", OrderSide.BUY, 500, "190.12"),
        _fill("77", "T0", OrderSide.BUY, 300, "189.00"),  # an earlier, completed order
    ]
    status = _mass_status([position, working], fills)
    moved = apply_open_order_fills(status)
    assert moved == {"AAPL.NASDAQ": Decimal(1200)}
    reports = status.order_reports
    fixed = reports[VenueOrderId("101")]
    assert fixed.order_status == OrderStatus.PARTIALLY_FILLED
    assert fixed.filled_qty == Quantity.from_int(1200)
    assert fixed.leaves_qty == Quantity.from_int(1800)
    assert (
        fixed.avg_px == (Decimal(700) * Decimal("190.00") + Decimal(500) * Decimal("190.12")) / 1200
    )
    pseudo = reports[VenueOrderId(AAPL.value)]
    assert pseudo.order_side == OrderSide.BUY and pseudo.quantity == Quantity.from_int(300)
    assert pseudo.filled_qty == pseudo.quantity


def test_position_order_disappears_when_the_open_order_holds_all_of_it() -> None:
    position = _order_report(AAPL.value, OrderSide.BUY, 1200, OrderStatus.FILLED, 1200)
    working = _order_report("101", OrderSide.BUY, 3000, OrderStatus.ACCEPTED)
    status = _mass_status([position, working], [_fill("101", "T1", OrderSide.BUY, 1200, "190")])
    apply_open_order_fills(status)
    assert list(status.order_reports) == [VenueOrderId("101")]


def test_selling_order_can_flip_the_residual_position_order() -> None:
    # Long 200 now, a SELL of 1000 has executed 500: the pseudo order becomes the long 700
    # held before that sell, whose 500 are reconciled on the order itself.
    position = _order_report(AAPL.value, OrderSide.BUY, 200, OrderStatus.FILLED, 200)
    working = _order_report("102", OrderSide.SELL, 1000, OrderStatus.ACCEPTED)
    status = _mass_status([position, working], [_fill("102", "T9", OrderSide.SELL, 500, "191")])
    assert apply_open_order_fills(status) == {"AAPL.NASDAQ": Decimal(-500)}
    pseudo = status.order_reports[VenueOrderId(AAPL.value)]
    assert pseudo.order_side == OrderSide.BUY and pseudo.quantity == Quantity.from_int(700)


def test_untouched_when_no_open_order_has_executions() -> None:
    position = _order_report(AAPL.value, OrderSide.BUY, 100, OrderStatus.FILLED, 100)
    working = _order_report("103", OrderSide.BUY, 50, OrderStatus.ACCEPTED)
    status = _mass_status([position, working], [_fill("9", "T", OrderSide.BUY, 100, "190")])
    assert apply_open_order_fills(status) == {}
    assert status.order_reports[VenueOrderId("103")].filled_qty == Quantity.from_int(0)
    assert status.order_reports[VenueOrderId(AAPL.value)].quantity == Quantity.from_int(100)
