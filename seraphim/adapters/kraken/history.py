"""
Historical data through the adapter's REST client: completed OHLC bars, and longer history than
OHLC's 720 rows by aggregating the paginated Trades endpoint into bars of the same interval.

Used by the data client's requests and by ``seraphim catalog ingest kraken``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.parsing import NANOS
from seraphim.adapters.kraken.parsing import aggregate_trades
from seraphim.adapters.kraken.parsing import interval_for_bar_type
from seraphim.adapters.kraken.parsing import make_bar

Progress = Callable[[str], None]


async def download_trades(
    api: KrakenSpotApi,
    instrument: Instrument,
    pair: str,
    start_ns: int,
    end_ns: int | None = None,
    *,
    limit: int = 0,
    max_pages: int = 50,
    progress: Progress | None = None,
) -> list[TradeTick]:
    """Trades after ``start_ns`` up to ``end_ns`` (pages of 1,000, following ``last``)."""
    ticks: list[TradeTick] = []
    since = start_ns
    ts_init = time.time_ns()
    for page in range(max_pages):
        _, rows, last = await api.trades(pair, since=since)
        done = not rows
        for price, volume, t, side, _ord_type, _misc, trade_id in rows:
            ts = round(t * 1_000_000) * 1_000
            if end_ns is not None and ts > end_ns:
                done = True
                break
            ticks.append(
                TradeTick(
                    instrument.id,
                    instrument.make_price(Decimal(price)),
                    instrument.make_qty(Decimal(volume)),
                    AggressorSide.BUYER if side == "b" else AggressorSide.SELLER,
                    TradeId(str(trade_id)),
                    ts,
                    ts_init,
                )
            )
        if progress is not None:
            progress(f"trades page {page + 1}: {len(ticks):,} trades")
        if done or last <= since:
            break
        since = last
    return ticks[-limit:] if limit else ticks


async def download_bars(
    api: KrakenSpotApi,
    instrument: Instrument,
    pair: str,
    bar_type: BarType,
    start_ns: int | None,
    end_ns: int | None = None,
    *,
    now_ns: int | None = None,
    limit: int = 0,
    max_trade_pages: int = 50,
    on_close: bool = True,
    progress: Progress | None = None,
) -> tuple[list[Bar], int]:
    """
    Completed bars with ``begin`` in ``[start, end]``; returns (bars, how many came from trades).

    OHLC supplies up to 720 committed candles (its last, forming candle is dropped); when
    ``start`` is older than the first of them, trades from ``start`` on are aggregated.
    """
    interval = interval_for_bar_type(bar_type)
    interval_ns = interval * 60 * NANOS
    now_ns = now_ns or time.time_ns()
    since = None if start_ns is None else max(0, start_ns // NANOS - interval * 60 - 1)
    _, rows, last = await api.ohlc(pair, interval, since=since)
    ts_init = time.time_ns()
    by_begin: dict[int, Bar] = {}
    for t, o, h, low, c, _vwap, v, _count in rows:
        if t > last:
            continue  # the forming candle
        begin = t * NANOS
        by_begin[begin] = make_bar(
            bar_type, instrument, begin, interval_ns, o, h, low, c, v, ts_init, on_close
        )
    if progress is not None:
        progress(f"OHLC: {len(by_begin):,} candles")
    from_trades = 0
    first_ohlc = min(by_begin) if by_begin else None
    if start_ns is not None and (first_ohlc is None or start_ns < first_ohlc):
        upto = first_ohlc if first_ohlc is not None else end_ns
        ticks = await download_trades(
            api,
            instrument,
            pair,
            start_ns - start_ns % interval_ns,
            upto,
            max_pages=max_trade_pages,
            progress=progress,
        )
        trades = [
            (t.ts_event, t.price.as_decimal(), t.size.as_decimal())
            for t in ticks
            if upto is None or t.ts_event < upto
        ]
        for begin, o, h, low, c, v in aggregate_trades(trades, interval_ns):
            if begin in by_begin or begin + interval_ns > now_ns:
                continue  # OHLC wins; the forming interval is not a bar yet
            from_trades += 1
            by_begin[begin] = make_bar(
                bar_type, instrument, begin, interval_ns, str(o), str(h), str(low), str(c),
                str(v), ts_init, on_close,
            )  # fmt: skip
    bars = [
        by_begin[begin]
        for begin in sorted(by_begin)
        if (start_ns is None or begin + interval_ns >= start_ns)
        and (end_ns is None or begin <= end_ns)
    ]
    return (bars[-limit:] if limit else bars), from_trades
