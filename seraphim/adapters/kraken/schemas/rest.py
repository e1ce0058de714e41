"""Kraken Spot REST ``result`` shapes (decoded with ``msgspec.json.decode(raw, type=...)``)."""

from __future__ import annotations

import msgspec


class ServerTime(msgspec.Struct):
    unixtime: int
    rfc1123: str = ""


class SystemStatus(msgspec.Struct):
    status: str  # online | maintenance | cancel_only | post_only
    timestamp: str = ""


class TickerInfo(msgspec.Struct):
    a: list[str]  # ask [price, whole lot volume, lot volume]
    b: list[str]  # bid
    c: list[str]  # last trade [price, volume]
    v: list[str] = []
    p: list[str] = []
    t: list[int] = []
    l: list[str] = []  # noqa: E741 (Kraken's field name)
    h: list[str] = []
    o: str = "0"


# OHLC row: [time, open, high, low, close, vwap, volume, count]
OhlcRow = tuple[int, str, str, str, str, str, str, int]
OhlcResult = dict[str, list[OhlcRow] | int]
# Trades row: [price, volume, time, side, ord_type, misc, trade_id]
TradeRow = tuple[str, str, float, str, str, str, int]
TradesResult = dict[str, list[TradeRow] | str]


class DepthBook(msgspec.Struct):
    asks: list[tuple[str, str, int]]
    bids: list[tuple[str, str, int]]


class BalanceEx(msgspec.Struct):
    balance: str
    hold_trade: str = "0"
    credit: str | None = None
    credit_used: str | None = None


class OrderDescr(msgspec.Struct):
    pair: str
    type: str  # buy | sell
    ordertype: str
    price: str = "0"
    price2: str = "0"
    leverage: str = "none"
    order: str = ""
    close: str = ""


class OrderInfo(msgspec.Struct):
    status: str  # pending | open | closed | canceled | expired
    opentm: float
    descr: OrderDescr
    vol: str
    vol_exec: str
    cost: str = "0"
    fee: str = "0"
    price: str = "0"  # average fill price
    stopprice: str = "0"
    limitprice: str = "0"
    oflags: str = ""
    userref: int | None = None
    cl_ord_id: str | None = None
    refid: str | None = None
    starttm: float = 0.0
    expiretm: float = 0.0
    closetm: float | None = None
    reason: str | None = None
    timeinforce: str | None = None
    misc: str = ""
    trades: list[str] | None = None


class OpenOrders(msgspec.Struct):
    open: dict[str, OrderInfo]


class ClosedOrders(msgspec.Struct):
    closed: dict[str, OrderInfo]
    count: int = 0


class TradeInfo(msgspec.Struct):
    ordertxid: str
    pair: str
    time: float
    type: str  # buy | sell
    ordertype: str
    price: str
    cost: str
    fee: str
    vol: str
    postxid: str = ""
    margin: str = "0"
    misc: str = ""
    ledgers: list[str] | None = None
    trade_id: int | None = None
    maker: bool | None = None


class TradesHistory(msgspec.Struct):
    trades: dict[str, TradeInfo]
    count: int = 0


class AddOrderResult(msgspec.Struct):
    descr: dict[str, str] = {}
    txid: list[str] = []


class AmendOrderResult(msgspec.Struct):
    amend_id: str = ""


class CancelResult(msgspec.Struct):
    count: int = 0
    pending: bool | None = None


class WebSocketsToken(msgspec.Struct):
    token: str
    expires: int = 900
