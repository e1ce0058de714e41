"""
nautilus ``OrderBookDeltas`` from the changes a :class:`KrakenBook` reports.

Each delta is made by ``OrderBookDelta.from_raw`` in one call (the scaled integers times the
fixed-point multiplier are nautilus's raw values), rather than through ``Price``, ``Quantity``
and ``BookOrder`` objects that would be unpacked again at once.
"""

from __future__ import annotations

from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import FIXED_PRECISION

from seraphim.adapters.kraken.book import Change

_F_SNAPSHOT = int(RecordFlag.F_SNAPSHOT)
_F_LAST = int(RecordFlag.F_LAST)
_ADD, _UPDATE, _DELETE = BookAction.ADD, BookAction.UPDATE, BookAction.DELETE
_BUY, _SELL = OrderSide.BUY, OrderSide.SELL


class BookDeltaBuilder:
    """One instrument's deltas: ADD for new levels (all of a snapshot), UPDATE, DELETE."""

    __slots__ = ("instrument_id", "price_mul", "price_precision", "qty_mul", "size_precision")

    def __init__(self, instrument_id: InstrumentId, price_precision: int, size_precision: int):
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.price_mul = 10 ** (FIXED_PRECISION - price_precision)  # scaled int -> raw
        self.qty_mul = 10 ** (FIXED_PRECISION - size_precision)

    def build(
        self, changes: list[Change], snapshot: bool, ts_event: int, ts_init: int
    ) -> OrderBookDeltas | None:
        """The batch for one book message (``None`` when nothing visible changed); a snapshot
        starts with a CLEAR, and the last delta carries ``F_LAST``."""
        instrument_id = self.instrument_id
        if snapshot:
            flag = _F_SNAPSHOT
            if not changes:
                clear = OrderBookDelta(
                    instrument_id, BookAction.CLEAR, None, flag | _F_LAST, 0, ts_event, ts_init
                )
                return OrderBookDeltas(instrument_id, [clear])
            deltas = [OrderBookDelta.clear(instrument_id, 0, ts_event, ts_init)]
        elif changes:
            flag = 0
            deltas = []
        else:
            return None
        from_raw = OrderBookDelta.from_raw
        pp, sp, pmul, qmul = self.price_precision, self.size_precision, self.price_mul, self.qty_mul
        last = len(changes) - 1
        for i, (is_bid, price, qty, existed) in enumerate(changes):
            if qty == 0:
                action = _DELETE
            elif snapshot or not existed:
                action = _ADD
            else:
                action = _UPDATE
            deltas.append(
                from_raw(
                    instrument_id,
                    action,
                    _BUY if is_bid else _SELL,
                    price * pmul,
                    pp,
                    qty * qmul,
                    sp,
                    0,
                    flag | _F_LAST if i == last else flag,
                    0,
                    ts_event,
                    ts_init,
                )
            )
        return OrderBookDeltas(instrument_id, deltas)
