"""
A TradingNode built only from nautilus's own Kraken adapter (Spot, CASH) pointed at a local
exchange; a recording strategy subscribes to everything, trades a little and writes what it saw
as JSON. Run in its own process by the tests:

    python -m tests.nautilus_kraken.node_script CONFIG.json REPORT.json
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.adapters.kraken import KRAKEN
from nautilus_trader.adapters.kraken import KrakenDataClientConfig
from nautilus_trader.adapters.kraken import KrakenExecClientConfig
from nautilus_trader.adapters.kraken import KrakenLiveDataClientFactory
from nautilus_trader.adapters.kraken import KrakenLiveExecClientFactory
from nautilus_trader.adapters.kraken import KrakenProductType
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

INSTRUMENT = "BTC/USD.KRAKEN"


class RecorderConfig(StrategyConfig, frozen=True):
    """What to record and whether to trade."""

    report_path: str
    trade: bool = True
    leave_open_order: bool = False


class Recorder(Strategy):
    """Subscribes to every data type, trades a market and a limit order, records everything."""

    def __init__(self, config: RecorderConfig) -> None:
        super().__init__(config)
        self.instrument_id = InstrumentId.from_str(INSTRUMENT)
        self.bar_type = BarType.from_str(f"{INSTRUMENT}-1-MINUTE-LAST-EXTERNAL")
        self.seen: dict[str, Any] = {
            "instruments": [],
            "quotes": 0,
            "trades": 0,
            "book_deltas": 0,
            "book_checks": [],
            "bars": [],
            "events": [],
            "balances": [],
        }
        self.traded = False

    def on_start(self) -> None:
        self.seen["instruments"] = sorted(i.id.value for i in self.cache.instruments())
        self.seen["open_at_start"] = sorted(
            o.venue_order_id.value for o in self.cache.orders_open() if o.venue_order_id
        )
        self.subscribe_instrument(self.instrument_id)
        self.subscribe_quote_ticks(self.instrument_id)
        self.subscribe_trade_ticks(self.instrument_id)
        self.subscribe_order_book_deltas(self.instrument_id, BookType.L2_MBP, depth=10)
        self.subscribe_bars(self.bar_type)
        self._record_balances("start")

    def on_instrument(self, instrument: Instrument) -> None:
        self.seen["instrument_updates"] = self.seen.get("instrument_updates", 0) + 1

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.seen["quotes"] += 1
        self.seen["last_quote"] = [str(tick.bid_price), str(tick.ask_price)]
        if self.config.trade and not self.traded:
            self.traded = True
            self._trade(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.seen["trades"] += 1

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.seen["book_deltas"] += 1
        book = self.cache.order_book(self.instrument_id)
        if book is not None and book.best_bid_price() and book.best_ask_price():
            checks = self.seen["book_checks"]
            if len(checks) < 50:
                checks.append([str(book.best_bid_price()), str(book.best_ask_price())])

    def on_bar(self, bar: Bar) -> None:
        self.seen["bars"].append([bar.ts_event, str(bar.close)])

    def on_event(self, event: Any) -> None:
        name = type(event).__name__
        if name.startswith("Order"):
            self.seen["events"].append([name, str(getattr(event, "client_order_id", ""))])
        if name == "OrderFilled":
            self._record_balances("after_fill")

    def _trade(self, tick: QuoteTick) -> None:
        instrument = self.cache.instrument(self.instrument_id)
        qty = instrument.make_qty(Decimal("0.001"))
        self.submit_order(self.order_factory.market(self.instrument_id, OrderSide.BUY, qty))
        below = instrument.make_price(tick.bid_price.as_decimal() * Decimal("0.9"))
        limit = self.order_factory.limit(self.instrument_id, OrderSide.BUY, qty, below)
        self.submit_order(limit)
        self.seen["limit_order"] = limit.client_order_id.value
        if not self.config.leave_open_order:
            self.clock.set_time_alert_ns(
                "cancel", self.clock.timestamp_ns() + 2_000_000_000, lambda _: self._cancel()
            )

    def _cancel(self) -> None:
        for order in self.cache.orders_open(instrument_id=self.instrument_id):
            self.cancel_order(order)

    def _record_balances(self, when: str) -> None:
        account = self.cache.account_for_venue(Venue(KRAKEN))
        if account is None:
            return
        balances = {c.code: str(m.as_decimal()) for c, m in account.balances_total().items()}
        self.seen["balances"].append([when, balances])

    def on_stop(self) -> None:
        self._record_balances("stop")
        self.seen["orders"] = {
            o.client_order_id.value: [
                o.status.name,
                o.venue_order_id.value if o.venue_order_id else None,
            ]
            for o in self.cache.orders()
        }
        Path(self.config.report_path).write_text(json.dumps(self.seen))


def build_node(config: dict[str, Any]) -> TradingNode:
    """The node: nautilus's Kraken data client, and its execution client when asked."""
    common = {
        "api_key": config["api_key"],
        "api_secret": config["api_secret"],
        "product_types": (KrakenProductType.SPOT,),
        "base_url_http_spot": config["rest"],
        "instrument_provider": InstrumentProviderConfig(load_all=True),
        "http_timeout_secs": 5,
    }
    exec_clients = {}
    if config["execution"]:
        exec_clients[KRAKEN] = KrakenExecClientConfig(
            **common, base_url_ws_spot=config["ws_private"], spot_account_type=AccountType.CASH
        )
    node = TradingNode(
        config=TradingNodeConfig(
            trader_id=TraderId("NAUTILUS-001"),
            logging=LoggingConfig(log_level="WARNING", use_pyo3=True),
            exec_engine=LiveExecEngineConfig(reconciliation=config["execution"]),
            data_clients={
                KRAKEN: KrakenDataClientConfig(**common, base_url_ws_spot=config["ws_public"])
            },
            exec_clients=exec_clients,
            timeout_connection=config.get("timeout_connection", 20.0),
            timeout_disconnection=5.0,
            timeout_post_stop=1.0,
        )
    )
    node.trader.add_strategy(
        Recorder(
            RecorderConfig(
                report_path=config["report"],
                trade=config["execution"],
                leave_open_order=config.get("leave_open_order", False),
            )
        )
    )
    node.add_data_client_factory(KRAKEN, KrakenLiveDataClientFactory)
    if config["execution"]:
        node.add_exec_client_factory(KRAKEN, KrakenLiveExecClientFactory)
    node.build()
    return node


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    node = build_node(config)
    loop = node.get_event_loop()
    loop.call_later(config["duration"], lambda: loop.create_task(node.stop_async()))
    try:
        node.run()
    finally:
        node.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
