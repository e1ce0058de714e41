"""
Kraken Spot REST ``result`` shapes (decoded with ``msgspec.json.decode(raw, type=...)``), with
their ``parse_to_*`` conversions into nautilus reports (as nautilus's own adapters' schemas).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

import msgspec
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money

from seraphim.adapters.kraken.parsing import KRAKEN_TO_ORDER_TYPE
from seraphim.adapters.kraken.parsing import KRAKEN_TO_TIF
from seraphim.adapters.kraken.parsing import fee_currency
from seraphim.adapters.kraken.parsing import liquidity_side
from seraphim.adapters.kraken.parsing import order_side
from seraphim.adapters.kraken.parsing import order_status
from seraphim.adapters.kraken.parsing import secs_to_ns


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

    def parse_to_order_status_report(
        self,
        account_id: AccountId,
        instrument: Instrument,
        venue_order_id: VenueOrderId,
        client_order_id: ClientOrderId | None,
        report_id: UUID4,
        ts_init: int,
    ) -> OrderStatusReport:
        """The order as a nautilus report (``cl_ord_id`` already mapped by the caller)."""
        vol_exec = Decimal(self.vol_exec)
        kraken_type = self.descr.ordertype
        price = trigger = None
        if kraken_type in ("limit", "iceberg"):
            price = instrument.make_price(Decimal(self.descr.price))
        elif kraken_type in ("stop-loss", "take-profit"):
            trigger = instrument.make_price(Decimal(self.descr.price))
        elif kraken_type in ("stop-loss-limit", "take-profit-limit"):
            trigger = instrument.make_price(Decimal(self.descr.price))
            price = instrument.make_price(Decimal(self.descr.price2))
        expire = datetime.fromtimestamp(self.expiretm, tz=UTC) if self.expiretm else None
        tif = KRAKEN_TO_TIF.get((self.timeinforce or "GTC").upper(), TimeInForce.GTC)
        if expire is not None and tif == TimeInForce.GTC:
            tif = TimeInForce.GTD
        return OrderStatusReport(
            account_id=account_id,
            instrument_id=instrument.id,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id,
            order_side=order_side(self.descr.type),
            order_type=KRAKEN_TO_ORDER_TYPE.get(kraken_type, OrderType.LIMIT),
            time_in_force=tif,
            order_status=order_status(self.status, vol_exec),
            price=price,
            trigger_price=trigger,
            trigger_type=TriggerType.LAST_PRICE if trigger is not None else TriggerType.NO_TRIGGER,
            quantity=instrument.make_qty(Decimal(self.vol)),
            filled_qty=instrument.make_qty(vol_exec),
            avg_px=Decimal(self.price) if vol_exec > 0 else None,
            expire_time=expire,
            post_only="post" in self.oflags,
            cancel_reason=self.reason,
            report_id=report_id,
            ts_accepted=secs_to_ns(self.opentm),
            ts_last=secs_to_ns(self.closetm or self.opentm),
            ts_init=ts_init,
        )


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

    def parse_to_fill_report(
        self,
        account_id: AccountId,
        instrument: Instrument,
        trade_id: TradeId,
        client_order_id: ClientOrderId | None,
        oflags: str,
        report_id: UUID4,
        ts_event: int,
        ts_init: int,
    ) -> FillReport:
        """``oflags`` are the order's (its fee currency); ``ts_event`` the fill's time."""
        return FillReport(
            account_id=account_id,
            instrument_id=instrument.id,
            venue_order_id=VenueOrderId(self.ordertxid),
            client_order_id=client_order_id,
            trade_id=trade_id,
            order_side=order_side(self.type),
            last_qty=instrument.make_qty(Decimal(self.vol)),
            last_px=instrument.make_price(Decimal(self.price)),
            commission=Money(Decimal(self.fee), fee_currency(instrument, oflags)),
            liquidity_side=liquidity_side(self.maker),
            report_id=report_id,
            ts_event=ts_event,
            ts_init=ts_init,
        )


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
