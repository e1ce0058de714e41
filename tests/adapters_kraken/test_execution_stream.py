"""The execution client's pieces on their own: the private channels' sequence numbers and the
order bookkeeping (cl_ord_id mapping, accept once, trades once, deferred terminal events)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from seraphim.adapters.kraken.execution_stream import ExecutionSequence
from seraphim.adapters.kraken.order_tracking import KrakenOrderTracker
from seraphim.adapters.kraken.schemas.ws import ExecData


def _sequence() -> tuple[ExecutionSequence, Counter[str], list[tuple[int, int, int]]]:
    stats: Counter[str] = Counter()
    gaps: list[tuple[int, int, int]] = []
    sequence = ExecutionSequence(stats, lambda *gap: gaps.append(gap))
    sequence.new_connection()
    return sequence, stats, gaps


def test_sequence_drops_duplicates_and_reports_gaps() -> None:
    sequence, stats, gaps = _sequence()
    assert [sequence.note(s) for s in (1, 2, 2, 5, None)] == [True, True, False, True, True]
    assert stats == Counter(duplicate_messages=1, sequence_gaps=1)
    assert gaps == [(1, 3, 5)]
    assert sequence.note(3)  # late, not a duplicate
    assert sequence.missing(1, 3, 5) == [4]


def test_sequence_restarts_on_a_new_connection() -> None:
    sequence, stats, gaps = _sequence()
    assert sequence.note(1) and sequence.note(2)
    sequence.new_connection()
    assert sequence.note(1) and sequence.note(2)  # the same numbers on a new connection
    assert not sequence.note(2)
    assert stats == Counter(duplicate_messages=1) and gaps == []
    assert sequence.missing(1, 1, 3) == [] and sequence.missing(2, 1, 4) == [3]


def _order(client_order_id: str) -> Order:
    factory = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), LiveClock())
    return factory.limit(
        InstrumentId.from_str("BTC/USD.KRAKEN"),
        OrderSide.BUY,
        Quantity.from_str("0.0002"),
        Price.from_str("20000.0"),
        client_order_id=ClientOrderId(client_order_id),
    )


def test_cl_ord_id_mapping_survives_a_new_tracker_on_the_same_cache() -> None:
    cache = Cache()
    long_id = ClientOrderId("O-20260101-000000-001-001-1")  # too long for Kraken
    cl = KrakenOrderTracker(cache).cl_ord_id(long_id)
    assert cl != long_id.value and len(cl) == 36
    assert KrakenOrderTracker(cache).client_order_id_for(cl) == long_id  # a restarted client
    assert KrakenOrderTracker(cache).cl_ord_id(ClientOrderId("short-1")) == "short-1"


def test_accept_once_trade_once_and_terminal_after_its_fills() -> None:
    tracker = KrakenOrderTracker(Cache())
    order = _order("O-1")
    assert tracker.is_pending(order.client_order_id) is False  # not in the cache
    assert tracker.accept(order) and not tracker.accept(order)
    assert not tracker.trade_seen("T-1", order) and tracker.trade_seen("T-1", order)

    canceled = ExecData(order_id="TX-1", exec_type="canceled", cum_qty=0.0002)
    tracker.defer_terminal(order.client_order_id, canceled)
    tracker.track(order).filled = Decimal("0.0001")
    assert tracker.due_terminal(order) is None and tracker.is_deferred(order.client_order_id)
    tracker.track(order).filled = Decimal("0.0002")
    assert tracker.due_terminal(order) is canceled
    assert not tracker.is_deferred(order.client_order_id)
