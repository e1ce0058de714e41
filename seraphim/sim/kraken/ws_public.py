"""WebSocket v2 public: status, heartbeat, ping, ticker, trade, book (with checksums), ohlc,
instrument."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from seraphim.sim.kraken.book import Level
from seraphim.sim.kraken.book import diff_levels
from seraphim.sim.kraken.fmt import num
from seraphim.sim.kraken.fmt import rfc3339
from seraphim.sim.kraken.fmt import rfc3339_nanos
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.matching import Event
from seraphim.sim.kraken.matching import StatusEvent
from seraphim.sim.kraken.matching import TradeEvent
from seraphim.sim.kraken.stats import OHLC_INTERVALS
from seraphim.sim.kraken.stats import PublicTrade
from seraphim.sim.kraken.ws_common import WsSession

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
PUBLIC_CHANNELS = ("ticker", "trade", "book", "ohlc", "instrument")
ZERO = Decimal(0)


class PublicSession(WsSession):
    """A ``/v2`` public connection."""

    kind = "public"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tickers: dict[str, str] = {}  # symbol -> event_trigger
        self.trades: set[str] = set()
        self.books: dict[str, tuple[int, list[Level], list[Level]]] = {}  # depth, asks, bids
        self.ohlc: dict[str, set[int]] = {}
        self.instrument = False
        self._last_bbo: dict[str, tuple[Decimal | None, Decimal | None]] = {}

    # ------------------------------------------------------------ requests

    def handle(self, method: str, params: dict[str, Any], req_id: Any, time_in: str) -> None:
        """subscribe / unsubscribe."""
        if method not in ("subscribe", "unsubscribe"):
            self.error(method, req_id, "Method not supported", time_in)
            return
        channel = params.get("channel")
        if channel not in PUBLIC_CHANNELS:
            self.error(method, req_id, f"Channel {channel} not supported", time_in)
            return
        if channel == "instrument":
            self.instrument = method == "subscribe"
            self.reply(method, req_id, {"channel": "instrument", "snapshot": True}, time_in)
            if self.instrument and params.get("snapshot", True):
                self.subscribed = True
                self.send(self._instrument_snapshot())
            return
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            self.error(method, req_id, "EGeneral:Invalid arguments:symbol", time_in)
            return
        for symbol in symbols:
            pair = self.exchange.pair_by_symbol(str(symbol))
            if pair is None:
                self.error(
                    method, req_id, f"Currency pair not supported {symbol}", time_in, symbol=symbol
                )
                continue
            if method == "subscribe":
                self._subscribe(str(channel), pair, params, req_id, time_in)
            else:
                self._unsubscribe(str(channel), pair, params, req_id, time_in)

    def _subscribe(
        self, channel: str, pair: SimPair, params: dict[str, Any], req_id: Any, time_in: str
    ) -> None:
        symbol = pair.symbol
        snapshot = bool(params.get("snapshot", True))
        result: dict[str, Any] = {"channel": channel, "snapshot": snapshot, "symbol": symbol}
        if channel == "book":
            depth = params.get("depth", 10)
            if depth not in BOOK_DEPTHS:
                self.error("subscribe", req_id, "EGeneral:Invalid arguments:depth", time_in)
                return
            asks, bids = self.exchange.books[pair.key].top(depth)
            self.books[symbol] = (depth, asks, bids)
            result = {"channel": "book", "depth": depth, "snapshot": snapshot, "symbol": symbol}
            self.reply("subscribe", req_id, result, time_in)
            if snapshot:
                self.send(self._book_message(pair, "snapshot", asks, bids))
        elif channel == "ohlc":
            interval = params.get("interval", 1)
            if interval not in OHLC_INTERVALS:
                self.error("subscribe", req_id, "EGeneral:Invalid arguments:interval", time_in)
                return
            self.ohlc.setdefault(symbol, set()).add(interval)
            result["interval"] = interval
            self.reply("subscribe", req_id, result, time_in)
            if snapshot:
                series = self.exchange.stats[pair.key].candles[interval]
                rows = series.window(self.exchange.now())
                self.send(
                    {
                        "channel": "ohlc",
                        "type": "snapshot",
                        "timestamp": rfc3339(self.exchange.now()),
                        "data": [self._candle(pair, c, interval) for c in rows[-720:]],
                    }
                )
        elif channel == "ticker":
            trigger = params.get("event_trigger", "trades")
            self.tickers[symbol] = trigger
            result["event_trigger"] = trigger
            self.reply("subscribe", req_id, result, time_in)
            if snapshot:
                self.send({"channel": "ticker", "type": "snapshot", "data": [self._ticker(pair)]})
        elif channel == "trade":
            self.trades.add(symbol)
            self.reply("subscribe", req_id, result, time_in)
            if snapshot:
                tape = self.exchange.tape[pair.key][-50:]
                self.send(
                    {
                        "channel": "trade",
                        "type": "snapshot",
                        "data": [self._trade(pair, t) for t in tape],
                    }
                )
        self.subscribed = True

    def _unsubscribe(
        self, channel: str, pair: SimPair, params: dict[str, Any], req_id: Any, time_in: str
    ) -> None:
        symbol = pair.symbol
        registry: dict | set = {
            "book": self.books,
            "ohlc": self.ohlc,
            "ticker": self.tickers,
            "trade": self.trades,
        }[channel]
        if symbol not in registry:
            self.error("unsubscribe", req_id, "Subscription Not Found", time_in, symbol=symbol)
            return
        if isinstance(registry, set):
            registry.discard(symbol)
        else:
            registry.pop(symbol)
        result: dict[str, Any] = {"channel": channel, "symbol": symbol}
        if channel == "book":
            result["depth"] = params.get("depth", 10)
        self.reply("unsubscribe", req_id, result, time_in)

    # ------------------------------------------------------------ messages

    def _book_message(
        self, pair: SimPair, kind: str, asks: list[Level], bids: list[Level]
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "symbol": pair.symbol,
            "bids": [{"price": num(p), "qty": num(q)} for p, q in bids],
            "asks": [{"price": num(p), "qty": num(q)} for p, q in asks],
            "checksum": self.exchange.books[pair.key].checksum(),
        }
        if kind == "update":
            entry["timestamp"] = rfc3339(self.exchange.now())
        return {"channel": "book", "type": kind, "data": [entry]}

    def _trade(self, pair: SimPair, trade: PublicTrade) -> dict[str, Any]:
        return {
            "symbol": pair.symbol,
            "side": "buy" if trade.side == "b" else "sell",
            "price": num(trade.price),
            "qty": num(trade.qty),
            "ord_type": "market" if trade.ord_type == "m" else "limit",
            "trade_id": trade.trade_id,
            "timestamp": rfc3339(trade.time),
        }

    def _ticker(self, pair: SimPair) -> dict[str, Any]:
        book = self.exchange.books[pair.key]
        tape = self.exchange.tape[pair.key]
        day = self.exchange.stats[pair.key].last_24h(self.exchange.now())
        bid, ask = book.bids.best(), book.asks.best()
        last = tape[-1].price if tape else ZERO
        opened = day.open or last
        change = last - opened
        pct = (change / opened * 100) if opened else ZERO
        return {
            "symbol": pair.symbol,
            "bid": num(bid or ZERO),
            "bid_qty": num(book.bids.qty_at(bid) if bid else ZERO),
            "ask": num(ask or ZERO),
            "ask_qty": num(book.asks.qty_at(ask) if ask else ZERO),
            "last": num(last),
            "volume": num(day.volume.quantize(Decimal(1).scaleb(-pair.lot_decimals))),
            "vwap": num(day.vwap.quantize(Decimal(1).scaleb(-pair.price_decimals))),
            "low": num(day.low or ZERO),
            "high": num(day.high or ZERO),
            "change": num(change),
            "change_pct": round(float(pct), 2),
            "timestamp": rfc3339(self.exchange.now()),
        }

    def _candle(self, pair: SimPair, c: Any, interval: int) -> dict[str, Any]:
        return {
            "symbol": pair.symbol,
            "open": num(c.open),
            "high": num(c.high),
            "low": num(c.low),
            "close": num(c.close),
            "trades": c.count,
            "volume": num(c.volume.quantize(Decimal(1).scaleb(-pair.lot_decimals))),
            "vwap": num(c.vwap.quantize(Decimal(1).scaleb(-pair.price_decimals))),
            "interval_begin": rfc3339_nanos(c.time),
            "interval": interval,
            "timestamp": rfc3339(c.time + interval * 60),
        }

    def _instrument_snapshot(self) -> dict[str, Any]:
        assets = [
            {
                "id": info.ws_name,  # type: ignore[attr-defined]
                "status": "enabled",
                "precision": info.decimals,  # type: ignore[attr-defined]
                "precision_display": info.display_decimals,  # type: ignore[attr-defined]
                "borrowable": False,
                "collateral_value": 0.0,
                "margin_rate": 0.0,
            }
            for info in self.exchange.assets().values()
        ]
        pairs = [
            {
                "symbol": p.symbol,
                "base": p.base.ws_name,
                "quote": p.quote.ws_name,
                "status": self.exchange.status,
                "qty_precision": p.lot_decimals,
                "qty_increment": float(Decimal(1).scaleb(-p.lot_decimals)),
                "price_precision": p.price_decimals,
                "cost_precision": p.cost_decimals,
                "marginable": False,
                "has_index": True,
                "cost_min": float(p.costmin),
                "tick_size": float(p.tick_size),
                "price_increment": float(p.tick_size),
                "qty_min": float(p.ordermin),
            }
            for p in self.exchange.pairs.values()
        ]
        return {
            "channel": "instrument",
            "type": "snapshot",
            "data": {"assets": assets, "pairs": pairs},
        }

    # ------------------------------------------------------------ exchange events

    def on_exchange(self, events: list[Event], dirty: set[str]) -> None:
        """Turn exchange events into channel updates."""
        trades: dict[str, list[PublicTrade]] = {}
        for event in events:
            if isinstance(event, TradeEvent):
                trades.setdefault(event.pair.key, []).append(event.trade)
            elif isinstance(event, StatusEvent):
                self.send(
                    {
                        "channel": "status",
                        "type": "update",
                        "data": [{"system": event.status, "api_version": "v2"}],
                    }
                )
        for key in sorted(dirty | set(trades)):
            pair = self.exchange.pairs[key]
            symbol = pair.symbol
            # Kraken's trade and book channels are independent streams: the trade goes first,
            # without waiting for the book diff to be built.
            if key in trades and symbol in self.trades:
                self.send(
                    {
                        "channel": "trade",
                        "type": "update",
                        "data": [self._trade(pair, t) for t in trades[key]],
                    }
                )
            if symbol in self.books:
                self._book_update(pair)
            if symbol in self.tickers:
                book = self.exchange.books[key]
                bbo = (book.bids.best(), book.asks.best())
                bbo_changed = self._last_bbo.get(symbol) != bbo
                self._last_bbo[symbol] = bbo
                if key in trades or (self.tickers[symbol] == "bbo" and bbo_changed):
                    self.send({"channel": "ticker", "type": "update", "data": [self._ticker(pair)]})
            if key in trades and symbol in self.ohlc:
                now = self.exchange.now()
                for interval in sorted(self.ohlc[symbol]):
                    candle = self.exchange.stats[key].candles[interval].current(now)
                    if candle is not None:
                        self.send(
                            {
                                "channel": "ohlc",
                                "type": "update",
                                "timestamp": rfc3339(now),
                                "data": [self._candle(pair, candle, interval)],
                            }
                        )

    def _book_update(self, pair: SimPair) -> None:
        depth, old_asks, old_bids = self.books[pair.symbol]
        book = self.exchange.books[pair.key]
        asks, bids = book.top(depth)
        ask_changes = diff_levels(old_asks, asks, book.asks)
        bid_changes = diff_levels(old_bids, bids, book.bids)
        self.books[pair.symbol] = (depth, asks, bids)
        if not ask_changes and not bid_changes:
            return
        fault = self.venue.faults.take_book(pair.symbol)
        if fault == "skip":
            return
        message = self._book_message(pair, "update", ask_changes, bid_changes)
        if fault == "corrupt":
            # Alter a level the client keeps (or lose a deletion) so its next checksum fails.
            entry = message["data"][0]
            live = [lv for lv in entry["asks"] + entry["bids"] if lv["qty"] > 0]
            if live:
                unit = float(Decimal(1).scaleb(-pair.lot_decimals))
                live[0]["qty"] = round(live[0]["qty"] + unit, pair.lot_decimals)
            else:
                (entry["asks"] or entry["bids"]).pop(0)
        self.send(message)
