"""Kraken WebSocket v2 message shapes (decoded with ``msgspec.json.Decoder``)."""

from __future__ import annotations

import msgspec


class WsHeader(msgspec.Struct):
    """Just enough of any message to route it."""

    channel: str | None = None
    type: str | None = None
    method: str | None = None
    req_id: int | None = None
    success: bool | None = None
    error: str | None = None


# -------------------------------------------------------------------- public


class BookLevel(msgspec.Struct, array_like=False):
    price: float
    qty: float


class BookData(msgspec.Struct):
    symbol: str
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    checksum: int = 0
    timestamp: str | None = None


class BookMessage(msgspec.Struct):
    channel: str
    type: str  # snapshot | update
    data: list[BookData]


class TickerData(msgspec.Struct):
    symbol: str
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    last: float = 0.0
    volume: float = 0.0
    vwap: float = 0.0
    low: float = 0.0
    high: float = 0.0
    change: float = 0.0
    change_pct: float = 0.0
    timestamp: str | None = None


class TickerMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[TickerData]


class TradeData(msgspec.Struct):
    symbol: str
    side: str  # buy | sell (taker side)
    price: float
    qty: float
    trade_id: int
    timestamp: str
    ord_type: str = "limit"


class TradeMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[TradeData]


class OhlcData(msgspec.Struct):
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    interval_begin: str
    interval: int
    trades: int = 0
    vwap: float = 0.0
    timestamp: str | None = None


class OhlcMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[OhlcData]
    timestamp: str | None = None


class StatusData(msgspec.Struct):
    system: str
    api_version: str | None = None
    version: str | None = None


class StatusMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[StatusData]


class InstrumentPair(msgspec.Struct):
    symbol: str
    status: str
    base: str = ""
    quote: str = ""
    price_precision: int | None = None
    qty_precision: int | None = None


class InstrumentData(msgspec.Struct):
    pairs: list[InstrumentPair] = []


class InstrumentMessage(msgspec.Struct):
    channel: str
    type: str
    data: InstrumentData


# -------------------------------------------------------------------- private


class Fee(msgspec.Struct):
    asset: str
    qty: float


class Triggers(msgspec.Struct):
    price: float | None = None
    reference: str | None = None
    status: str | None = None


class ExecData(msgspec.Struct):
    order_id: str
    exec_type: str = ""  # pending_new|new|trade|filled|canceled|expired|amended|... ("": snapshot)
    timestamp: str = ""
    order_status: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    order_qty: float | None = None
    limit_price: float | None = None
    triggers: Triggers | None = None
    time_in_force: str | None = None
    post_only: bool | None = None
    exec_id: str | None = None
    trade_id: int | None = None
    last_qty: float | None = None
    last_price: float | None = None
    liquidity_ind: str | None = None
    cost: float | None = None
    fees: list[Fee] | None = None
    cum_qty: float | None = None
    cum_cost: float | None = None
    avg_price: float | None = None
    reason: str | None = None
    display_qty: float | None = None
    expire_time: str | None = None


class ExecMessage(msgspec.Struct):
    channel: str
    type: str  # snapshot | update
    data: list[ExecData]
    sequence: int | None = None


class BalanceData(msgspec.Struct):
    asset: str
    balance: float
    amount: float | None = None
    fee: float | None = None
    type: str | None = None
    ledger_id: str | None = None
    wallet_type: str | None = None


class BalanceMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[BalanceData]
    sequence: int | None = None


class MethodResponse(msgspec.Struct):
    method: str
    req_id: int | None = None
    success: bool | None = None
    error: str | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    time_in: str | None = None
    time_out: str | None = None


class AddOrderAck(msgspec.Struct):
    order_id: str
    cl_ord_id: str | None = None
    order_userref: int | None = None
