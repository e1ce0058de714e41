"""Conversions between Kraken's wire values and nautilus objects and enums."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AggregationSource
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import MarketStatusAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency

from seraphim.adapters.kraken.common.constants import OHLC_INTERVALS

NANOS = 1_000_000_000
_CL_ORD_NAMESPACE = uuid.UUID("6f1c1f3e-4c55-4b8e-9a0b-6b7261616b65")  # fixed: ids stay stable
_HEX = set("0123456789abcdefABCDEF")


# ---------------------------------------------------------------------- time


@lru_cache(maxsize=4096)
def _second_ns(prefix: str) -> int:
    return int(datetime.fromisoformat(prefix).replace(tzinfo=UTC).timestamp()) * NANOS


def rfc3339_to_ns(text: str) -> int:
    """``2023-07-30T15:29:58.343415Z`` (or with 9 fraction digits) -> UNIX nanoseconds."""
    base = _second_ns(text[:19])
    if len(text) == 27 and text[19] == "." and text[26] == "Z":  # the usual: microseconds
        return base + int(text[20:26]) * 1000
    rest = text[19:]
    if rest.startswith("."):
        digits = rest[1:].rstrip("Z").split("+")[0]
        return base + int((digits + "000000000")[:9])
    return base


def secs_to_ns(seconds: float) -> int:
    """UNIX seconds (float, as REST gives them) -> nanoseconds, to the microsecond."""
    return round(seconds * 1_000_000) * 1_000


def ns_to_rfc3339(ns: int) -> str:
    """Nanoseconds -> RFC 3339 with microseconds (for GTD expiry)."""
    dt = datetime.fromtimestamp(ns // NANOS, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % NANOS) // 1000:06d}Z"


# ---------------------------------------------------------------------- bars

_INTERVAL_BY_SPEC = {spec: minutes for minutes, spec in OHLC_INTERVALS.items()}


def interval_for_bar_type(bar_type: BarType) -> int:
    """The Kraken OHLC interval (minutes) of an ``EXTERNAL``, ``LAST`` time bar type."""
    spec = bar_type.spec
    if spec.price_type != PriceType.LAST:
        raise ValueError(f"{bar_type}: Kraken bars are LAST (trade) bars")
    key = str(spec).rsplit("-", 1)[0]  # "1-HOUR"
    minutes = _INTERVAL_BY_SPEC.get(key)
    if minutes is None:
        allowed = ", ".join(OHLC_INTERVALS.values())
        raise ValueError(f"{bar_type}: Kraken has no {key} candles (one of {allowed})")
    return minutes


def is_external(bar_type: BarType) -> bool:
    """True for venue-aggregated bars."""
    return bar_type.aggregation_source == AggregationSource.EXTERNAL


def make_bar(
    bar_type: BarType,
    instrument: Instrument,
    begin_ns: int,
    interval_ns: int,
    open_: float | str,
    high: float | str,
    low: float | str,
    close: float | str,
    volume: float | str,
    ts_init: int,
    on_close: bool = True,
) -> Bar:
    """A nautilus bar stamped at its close (default) or its open."""
    ts_event = begin_ns + interval_ns if on_close else begin_ns
    return Bar(
        bar_type,
        instrument.make_price(_num(open_)),
        instrument.make_price(_num(high)),
        instrument.make_price(_num(low)),
        instrument.make_price(_num(close)),
        instrument.make_qty(_num(volume)),
        ts_event,
        max(ts_init, ts_event) if ts_init else ts_event,
    )


def _num(value: float | str) -> float | Decimal:
    return Decimal(value) if isinstance(value, str) else value


def aggregate_trades(
    trades: list[tuple[int, Decimal, Decimal]], interval_ns: int
) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """``(ts_ns, price, qty)`` trades (time-ordered) -> ``(begin, o, h, l, c, volume)`` rows."""
    rows: list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]] = []
    current: list | None = None
    for ts, price, qty in trades:
        begin = ts - ts % interval_ns
        if current is None or begin != current[0]:
            if current is not None:
                rows.append(tuple(current))  # type: ignore[arg-type]
            current = [begin, price, price, price, price, qty]
        else:
            current[2] = max(current[2], price)
            current[3] = min(current[3], price)
            current[4] = price
            current[5] += qty
    if current is not None:
        rows.append(tuple(current))  # type: ignore[arg-type]
    return rows


# ---------------------------------------------------------------------- orders

ORDER_TYPE_TO_KRAKEN: dict[OrderType, str] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP_MARKET: "stop-loss",
    OrderType.STOP_LIMIT: "stop-loss-limit",
    OrderType.MARKET_IF_TOUCHED: "take-profit",
    OrderType.LIMIT_IF_TOUCHED: "take-profit-limit",
}
KRAKEN_TO_ORDER_TYPE: dict[str, OrderType] = {v: k for k, v in ORDER_TYPE_TO_KRAKEN.items()} | {
    "iceberg": OrderType.LIMIT,
    "trailing-stop": OrderType.TRAILING_STOP_MARKET,
    "trailing-stop-limit": OrderType.TRAILING_STOP_LIMIT,
    "settle-position": OrderType.MARKET,
}
TIF_TO_KRAKEN: dict[TimeInForce, str] = {
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.GTD: "gtd",
}
KRAKEN_TO_TIF: dict[str, TimeInForce] = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "GTD": TimeInForce.GTD,
    "FOK": TimeInForce.FOK,
}


def order_side(side: str) -> OrderSide:
    """``buy``/``sell`` -> OrderSide."""
    return OrderSide.BUY if side == "buy" else OrderSide.SELL


def liquidity_side(maker: bool | None) -> LiquiditySide:
    """A REST trade's ``maker`` flag -> LiquiditySide (none when Kraken leaves it out)."""
    if maker is None:
        return LiquiditySide.NO_LIQUIDITY_SIDE
    return LiquiditySide.MAKER if maker else LiquiditySide.TAKER


def fee_currency(instrument: Instrument, oflags: str) -> Currency:
    """The currency an order's fees were charged in: the base with ``fcib``, else the quote."""
    return instrument.base_currency if "fcib" in oflags else instrument.quote_currency


def order_status(status: str, vol_exec: Decimal) -> OrderStatus:
    """A REST order status (pending|open|closed|canceled|expired) -> nautilus OrderStatus."""
    if status in ("pending", "open"):
        return OrderStatus.PARTIALLY_FILLED if vol_exec > 0 else OrderStatus.ACCEPTED
    if status == "closed":
        return OrderStatus.FILLED
    if status == "expired":
        return OrderStatus.EXPIRED
    return OrderStatus.CANCELED


def is_valid_cl_ord_id(value: str) -> bool:
    """Kraken accepts a UUID, 32 hex digits, or up to 18 printable ASCII characters."""
    plain = value.replace("-", "")
    if len(plain) == 32 and set(plain) <= _HEX:
        return True
    return 0 < len(value) <= 18 and value.isascii() and value.isprintable()


def to_cl_ord_id(client_order_id: str) -> str:
    """
    The ``cl_ord_id`` sent to Kraken for a nautilus ``ClientOrderId``: the id itself when Kraken
    accepts it, else a stable UUID derived from it (the adapter keeps the mapping).
    """
    if is_valid_cl_ord_id(client_order_id):
        return client_order_id
    return str(uuid.uuid5(_CL_ORD_NAMESPACE, client_order_id))


# ---------------------------------------------------------------------- status

SYSTEM_STATUS_ACTIONS: dict[str, tuple[MarketStatusAction, bool, bool]] = {
    # status -> (action, is_trading, is_quoting)
    "online": (MarketStatusAction.TRADING, True, True),
    "post_only": (MarketStatusAction.QUOTING, False, True),
    "limit_only": (MarketStatusAction.TRADING, True, True),
    "cancel_only": (MarketStatusAction.PAUSE, False, False),
    "reduce_only": (MarketStatusAction.PAUSE, False, False),
    "maintenance": (MarketStatusAction.HALT, False, False),
    "work_in_progress": (MarketStatusAction.HALT, False, False),
    "delisted": (MarketStatusAction.NOT_AVAILABLE_FOR_TRADING, False, False),
}


def status_action(status: str) -> tuple[MarketStatusAction, bool, bool]:
    """A Kraken system or pair status -> (action, is_trading, is_quoting)."""
    return SYSTEM_STATUS_ACTIONS.get(status, (MarketStatusAction.NONE, False, False))
