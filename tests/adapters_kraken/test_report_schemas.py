"""REST order and trade records as nautilus reports (the schemas' ``parse_to_*``)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.schemas.rest import OrderInfo
from seraphim.adapters.kraken.schemas.rest import TradeInfo

ACCOUNT = AccountId("KRAKEN-SPOT")
INSTRUMENT = instrument_for("BTC/USD")

ORDER = b"""{"status": "open", "opentm": 1767225600.1234, "expiretm": 1767229200,
  "descr": {"pair": "XBTUSD", "type": "sell", "ordertype": "stop-loss-limit",
            "price": "41000.0", "price2": "40900.5"},
  "vol": "0.50000000", "vol_exec": "0.20000000", "price": "40950.1", "oflags": "fciq,post"}"""
TRADE = b"""{"ordertxid": "OQCLML-BW3P3-BUCMWZ", "pair": "XBTUSD", "time": 1767225700.5,
  "type": "sell", "ordertype": "limit", "price": "40950.1", "cost": "8190.02", "fee": "0.0002",
  "vol": "0.20000000", "maker": true}"""


def test_order_info_to_status_report() -> None:
    info = msgspec.json.decode(ORDER, type=OrderInfo)
    report = info.parse_to_order_status_report(
        ACCOUNT, INSTRUMENT, VenueOrderId("OQCLML-BW3P3-BUCMWZ"), ClientOrderId("C-1"), UUID4(), 7
    )
    assert report.instrument_id == INSTRUMENT.id and report.client_order_id == ClientOrderId("C-1")
    assert (report.order_side, report.order_type) == (OrderSide.SELL, OrderType.STOP_LIMIT)
    assert report.order_status == OrderStatus.PARTIALLY_FILLED
    assert report.time_in_force == TimeInForce.GTD  # an expiry on a GTC order
    assert str(report.trigger_price) == "41000.0" and str(report.price) == "40900.5"
    assert report.filled_qty.as_decimal() == Decimal("0.2") and report.post_only
    assert report.ts_accepted == 1_767_225_600_123_400_000 and report.ts_init == 7


def test_trade_info_to_fill_report_fee_currency_follows_the_order_flags() -> None:
    trade = msgspec.json.decode(TRADE, type=TradeInfo)
    args = (ACCOUNT, INSTRUMENT, TradeId("T-1"), None)
    quote = trade.parse_to_fill_report(*args, "fciq,post", UUID4(), 5, 6)
    base = trade.parse_to_fill_report(*args, "fcib", UUID4(), 5, 6)
    assert quote.venue_order_id == VenueOrderId("OQCLML-BW3P3-BUCMWZ")
    assert quote.liquidity_side == LiquiditySide.MAKER and quote.order_side == OrderSide.SELL
    assert str(quote.last_px) == "40950.1" and quote.last_qty.as_decimal() == Decimal("0.2")
    assert quote.commission.currency.code == "USD" and base.commission.currency.code == "BTC"
    assert (quote.ts_event, quote.ts_init) == (5, 6)
