"""
A client connection's market data: top-of-book ticks, tick-by-tick and real-time bars, live or
delayed.
"""

from __future__ import annotations

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.faults import PERMISSION_DELAYED
from seraphim.sim.ibkr.faults import PERMISSION_LIVE
from seraphim.sim.ibkr.handlers.base import DELAY_SECONDS
from seraphim.sim.ibkr.handlers.base import TBT_KINDS
from seraphim.sim.ibkr.handlers.base import BarSub
from seraphim.sim.ibkr.handlers.base import MarketSub
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.handlers.base import TickByTickSub
from seraphim.sim.ibkr.history import BarSize
from seraphim.sim.ibkr.messages import DELAYED_OF
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.messages import MarketDataType
from seraphim.sim.ibkr.messages import Tick
from seraphim.sim.ibkr.protocol import FieldReader


class MarketDataMixin(SessionBase):
    """Market data: top-of-book ticks, tick-by-tick and real-time bars, live or delayed."""

    def _req_market_data_type(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        data_type = r.int(MarketDataType.REALTIME)
        if data_type not in (1, 2, 3, 4):
            self.error(
                NO_VALID_ID,
                321,
                f"Error validating request.-'bN' : cause - Invalid market data type {data_type}",
            )
            return
        self.state.market_data_type = data_type

    def _market_permission(self, req_id: int, spec: ContractSpec) -> bool | None:
        """True for live, False for delayed, None when refused (error already sent)."""
        permission = self.venue.faults.permission(spec.symbol)
        wants_delayed = self.state.market_data_type in (
            MarketDataType.DELAYED,
            MarketDataType.DELAYED_FROZEN,
        )
        if permission == PERMISSION_LIVE:
            return True
        if wants_delayed and permission == PERMISSION_DELAYED:
            self.error(req_id, 10167)
            return False
        if wants_delayed:
            self.error(req_id, 10168)
            return None
        exchange = spec.primary_exchange or spec.exchange
        self.error(
            req_id,
            354,
            "Requested market data is not subscribed. Check API status by selecting the Account "
            "menu then under Management choose Market Data Subscription Manager and/or enable "
            f"delayed-frozen data by reqMarketDataType.{spec.symbol} {exchange}/TOP/ALL",
        )
        return None

    def _req_mkt_data(self, msg_id: int, r: FieldReader) -> None:
        r.skip()  # version
        req_id = r.int()
        q = ContractQuery.read(r)
        if q.sec_type == "BAG":
            for _ in range(r.int()):
                r.skip(4)
        if r.bool():
            r.skip(3)
        r.str()  # genericTickList
        snapshot = r.bool()
        regulatory = r.bool()
        if req_id in self.state.market:
            self.error(
                req_id,
                322,
                f"Error processing request.-'bR' : cause - Duplicate ticker id {req_id}",
            )
            return
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        live = self._market_permission(req_id, spec)
        if live is None:
            return
        sub = MarketSub(req_id, spec, delayed=not live)
        self.send(
            enc.tick_req_params(req_id, spec.min_tick, "9c0001" if spec.sec_type == "STK" else "")
        )
        data_type = MarketDataType.REALTIME if live else MarketDataType.DELAYED
        if self.state.market_data_type == MarketDataType.FROZEN and live:
            data_type = MarketDataType.FROZEN
        self.send(enc.market_data_type(req_id, data_type))
        self._send_full_ticks(sub, self.now)
        if snapshot or regulatory:
            self.send(enc.tick_snapshot_end(req_id))
            return
        self.state.market[req_id] = sub

    def _cancel_mkt_data(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        if self.state.market.pop(req_id, None) is None:
            self.error(req_id, 300, f"Can't find EId with tickerId:{req_id}")

    def _tick(self, sub: MarketSub, tick: Tick) -> int:
        return DELAYED_OF[tick] if sub.delayed else tick

    def _send_full_ticks(self, sub: MarketSub, now: float) -> None:
        t = now - DELAY_SECONDS if sub.delayed else now
        market = self.venue.market
        spec = sub.spec
        quote = market.quote(spec, t)
        rid = sub.req_id
        self.send(enc.tick_price(rid, self._tick(sub, Tick.BID), quote.bid, quote.bid_size))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.ASK), quote.ask, quote.ask_size))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.LAST), quote.last, quote.last_size))
        self.send(enc.tick_string(rid, self._tick(sub, Tick.LAST_TIMESTAMP), str(int(t))))
        day_start = t - (t % 86_400)
        prev_close = market.quote(spec, day_start - 1).last
        day_open = market.quote(spec, day_start).last
        self.send(
            enc.tick_price(rid, self._tick(sub, Tick.HIGH), max(quote.last, day_open, quote.ask), 0)
        )
        self.send(
            enc.tick_price(rid, self._tick(sub, Tick.LOW), min(quote.last, day_open, quote.bid), 0)
        )
        self.send(enc.tick_size(rid, self._tick(sub, Tick.VOLUME), self.venue.day_volume(spec, t)))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.CLOSE), prev_close, 0))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.OPEN), day_open, 0))
        sub.last = quote

    def on_market_tick(self, now: float) -> None:
        """Push changed quotes, tick-by-tick data and bars for this connection's subscriptions."""
        market = self.venue.market
        for sub in list(self.state.market.values()):
            if self.state.market_data_type in (
                MarketDataType.FROZEN,
                MarketDataType.DELAYED_FROZEN,
            ):
                continue
            t = now - DELAY_SECONDS if sub.delayed else now
            q = market.quote(sub.spec, t)
            prev = sub.last
            rid = sub.req_id
            if prev is None or q.bid != prev.bid:
                self.send(enc.tick_price(rid, self._tick(sub, Tick.BID), q.bid, q.bid_size))
            elif q.bid_size != prev.bid_size:
                self.send(enc.tick_size(rid, self._tick(sub, Tick.BID_SIZE), q.bid_size))
            if prev is None or q.ask != prev.ask:
                self.send(enc.tick_price(rid, self._tick(sub, Tick.ASK), q.ask, q.ask_size))
            elif q.ask_size != prev.ask_size:
                self.send(enc.tick_size(rid, self._tick(sub, Tick.ASK_SIZE), q.ask_size))
            if prev is None or q.last != prev.last or q.last_size != prev.last_size:
                self.send(enc.tick_price(rid, self._tick(sub, Tick.LAST), q.last, q.last_size))
                self.send(enc.tick_string(rid, self._tick(sub, Tick.LAST_TIMESTAMP), str(int(t))))
            sub.last = q
        for tbt in list(self.state.tick_by_tick.values()):
            self._push_tick_by_tick(tbt, now)
        for bar_sub in list(self.state.realtime_bars.values()):
            self._push_realtime_bar(bar_sub, now)
        for hist in list(self.state.live_history.values()):
            self._push_history_update(hist, now)

    def _req_tick_by_tick(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        q = ContractQuery.read(r)
        kind_text = r.str()
        r.int()  # numberOfTicks
        r.bool()  # ignoreSize
        kind = TBT_KINDS.get(kind_text)
        if kind is None:
            self.error(
                req_id,
                321,
                f"Error validating request.-'cg' : cause - Invalid tick type {kind_text!r}",
            )
            return
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        if self.venue.faults.permission(spec.symbol) != PERMISSION_LIVE:
            self.error(
                req_id, 10189, "Failed to request tick-by-tick data.No market data permissions."
            )
            return
        sub = TickByTickSub(req_id, spec, kind)
        self.state.tick_by_tick[req_id] = sub
        self._push_tick_by_tick(sub, self.now)

    def _push_tick_by_tick(self, sub: TickByTickSub, now: float) -> None:
        q = self.venue.market.quote(sub.spec, now)
        t = int(now)
        if sub.kind in (1, 2):
            key = (q.last, q.last_size, t)
            if key != sub.last:
                exchange = sub.spec.primary_exchange or sub.spec.exchange
                self.send(
                    enc.tick_by_tick_last(sub.req_id, sub.kind, t, q.last, q.last_size, exchange)
                )
        elif sub.kind == 3:
            key = (q.bid, q.ask, q.bid_size, q.ask_size)
            if key != sub.last:
                self.send(
                    enc.tick_by_tick_bid_ask(sub.req_id, t, q.bid, q.ask, q.bid_size, q.ask_size)
                )
        else:
            mid = round((q.bid + q.ask) / 2, 6)
            key = (mid,)
            if key != sub.last:
                self.send(enc.tick_by_tick_mid(sub.req_id, t, mid))
        sub.last = key

    def _cancel_tick_by_tick(self, msg_id: int, r: FieldReader) -> None:
        self.state.tick_by_tick.pop(r.int(), None)

    def _req_realtime_bars(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        q = ContractQuery.read(r)
        r.int()  # barSize: always 5
        what = r.str() or "TRADES"
        use_rth = r.bool()
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        if self.venue.faults.permission(spec.symbol) != PERMISSION_LIVE:
            self.error(
                req_id, 420, f"Invalid Real-time Query:No market data permissions for {spec.symbol}"
            )
            return
        now = self.now
        sub = BarSub(req_id, spec, BarSize(5, "5 secs"), what, use_rth, next_emit=now - now % 5 + 5)
        self.state.realtime_bars[req_id] = sub

    def _push_realtime_bar(self, sub: BarSub, now: float) -> None:
        while now >= sub.next_emit:
            start = sub.next_emit - 5
            row = self.venue.history.bars(
                sub.spec, sub.next_emit, 5, sub.size, sub.what, False, now
            )
            if row:
                b = row[-1]
                self.send(
                    enc.realtime_bar(
                        sub.req_id,
                        int(start),
                        b.open,
                        b.high,
                        b.low,
                        b.close,
                        max(b.volume, 0),
                        max(b.wap, 0),
                        max(b.count, 0),
                    )
                )
            sub.next_emit += 5

    def _cancel_realtime_bars(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.realtime_bars.pop(r.int(), None)
