"""
Saved Kraken REST responses: ``/0/public/OHLC`` (bars) and ``/0/public/Trades`` (trade ticks).

An OHLC response ends with the current, still-forming candle (its time is after ``last``); that
row is never stored.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

from seraphim.adapters.kraken.common.constants import OHLC_INTERVALS
from seraphim.adapters.kraken.common.constants import bar_spec_for_interval
from seraphim.adapters.kraken.loaders.spacing import check_spacing
from seraphim.adapters.kraken.parsing import NANOS
from seraphim.adapters.kraken.parsing import make_bar
from seraphim.catalog.errors import MalformedInputError

_AGGRESSOR = {"b": AggressorSide.BUYER, "s": AggressorSide.SELLER}


@dataclass(frozen=True)
class KrakenResponse:
    """A decoded saved response: the pair key, its rows and the ``last`` cursor."""

    kind: str  # "ohlc" or "trades"
    pair: str
    rows: list[list]
    last: int


def read_response(path: str | Path) -> KrakenResponse:
    """Read a saved OHLC or Trades response, telling which it is from the row shape."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"response file not found: {path}")
    try:
        body = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise MalformedInputError(path, e.lineno, f"not JSON: {e.msg}") from None
    if not isinstance(body, dict) or "result" not in body:
        raise MalformedInputError(path, None, "not a Kraken REST response (no 'result')")
    if body.get("error"):
        raise MalformedInputError(path, None, f"response carries errors: {body['error']}")
    result = body["result"]
    pairs = [key for key in result if key != "last"]
    if len(pairs) != 1 or "last" not in result:
        raise MalformedInputError(path, None, "expected one pair and a 'last' cursor in result")
    rows = result[pairs[0]]
    if not rows:
        raise MalformedInputError(path, None, "the response holds no rows")
    kind = "ohlc" if len(rows[0]) == 8 and isinstance(rows[0][0], int) else "trades"
    return KrakenResponse(kind=kind, pair=pairs[0], rows=rows, last=int(result["last"]))


def infer_interval_minutes(response: KrakenResponse) -> int:
    """Kraken's OHLC response does not state its interval: infer it from the row spacing."""
    times = [row[0] for row in response.rows]
    spacing = min((b - a for a, b in itertools.pairwise(times)), default=0)
    minutes = spacing // 60
    if minutes not in OHLC_INTERVALS:
        raise ValueError(
            f"cannot infer the OHLC interval from rows spaced {spacing}s apart; pass --interval",
        )
    return minutes


def ohlc_to_bars(
    response: KrakenResponse,
    instrument: Instrument,
    interval_minutes: int,
    path: Path,
) -> list[Bar]:
    """Committed OHLC rows as bars stamped at their close; the forming candle is dropped."""
    bar_type = BarType.from_str(
        f"{instrument.id}-{bar_spec_for_interval(interval_minutes)}-EXTERNAL"
    )
    interval_ns = interval_minutes * 60 * NANOS
    bars = []
    for index, row in enumerate(response.rows):
        if row[0] > response.last:
            continue  # the uncommitted candle
        try:
            time, open_, high, low, close, _vwap, volume, _count = row
            begin = int(time) * NANOS
            bars.append(
                make_bar(
                    bar_type, instrument, begin, interval_ns, open_, high, low, close, volume, 0
                )
            )
        except (ValueError, TypeError, ArithmeticError) as e:
            raise MalformedInputError(path, None, f"OHLC row {index}: {e}: {row}") from None
    # The forming candle is the last row only, so the committed rows' indexes are the response's.
    open_times = [bar.ts_event // NANOS - interval_minutes * 60 for bar in bars]
    check_spacing(open_times, interval_minutes * 60, path, lambda row: f"OHLC row {row}")
    return bars


def trades_to_ticks(
    response: KrakenResponse, instrument: Instrument, path: Path
) -> list[TradeTick]:
    """Trades rows ``[price, volume, time, side, type, misc, trade_id]`` as trade ticks."""
    ticks = []
    for index, row in enumerate(response.rows):
        try:
            price, volume, time, side, _ord_type, _misc, trade_id = row
            ts = round(Decimal(str(time)) * 1_000_000) * 1_000  # microsecond stamps
            ticks.append(
                TradeTick(
                    instrument.id,
                    instrument.make_price(Decimal(price)),
                    instrument.make_qty(Decimal(volume)),
                    _AGGRESSOR[side],
                    TradeId(str(trade_id)),
                    ts,
                    ts,
                ),
            )
        except (ValueError, TypeError, ArithmeticError, KeyError) as e:
            raise MalformedInputError(path, None, f"trade row {index}: {e}: {row}") from None
    return ticks
