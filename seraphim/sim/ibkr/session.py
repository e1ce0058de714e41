"""One client connection: handshake, request decoding and the answers TWS would give."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING

from seraphim.sim.ibkr import encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.contracts import as_exchange
from seraphim.sim.ibkr.faults import PERMISSION_DELAYED
from seraphim.sim.ibkr.faults import PERMISSION_LIVE
from seraphim.sim.ibkr.history import HMDS
from seraphim.sim.ibkr.history import BarSize
from seraphim.sim.ibkr.history import HistoryRequestError
from seraphim.sim.ibkr.history import current_bar_window
from seraphim.sim.ibkr.history import format_bar_date
from seraphim.sim.ibkr.history import format_head_timestamp
from seraphim.sim.ibkr.history import format_range_stamp
from seraphim.sim.ibkr.history import parse_bar_size
from seraphim.sim.ibkr.history import parse_duration
from seraphim.sim.ibkr.history import parse_end_time
from seraphim.sim.ibkr.market import FIRST_DAY
from seraphim.sim.ibkr.market import Quote
from seraphim.sim.ibkr.matching import OrderRejected
from seraphim.sim.ibkr.matching import SimOrder
from seraphim.sim.ibkr.messages import DELAYED_OF
from seraphim.sim.ibkr.messages import FARM_STATUS_CODES
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.messages import In
from seraphim.sim.ibkr.messages import MarketDataType
from seraphim.sim.ibkr.messages import Tick
from seraphim.sim.ibkr.protocol import UNSET_DOUBLE
from seraphim.sim.ibkr.protocol import FieldReader
from seraphim.sim.ibkr.protocol import ProtocolError
from seraphim.sim.ibkr.protocol import encode_frame
from seraphim.sim.ibkr.protocol import read_frame
from seraphim.sim.ibkr.protocol import read_handshake

if TYPE_CHECKING:
    from seraphim.sim.ibkr.server import IbkrSimServer

log = logging.getLogger(__name__)
DELAY_SECONDS = 15 * 60
TBT_KINDS = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}


@dataclass
class MarketSub:
    """A reqMktData subscription."""

    req_id: int
    spec: ContractSpec
    delayed: bool
    last: Quote | None = None


@dataclass
class TickByTickSub:
    """A reqTickByTickData subscription."""

    req_id: int
    spec: ContractSpec
    kind: int
    last: tuple | None = None


@dataclass
class BarSub:
    """A real-time 5-second bar or keepUpToDate historical bar subscription."""

    req_id: int
    spec: ContractSpec
    size: BarSize
    what: str
    use_rth: bool
    format_date: int = 2
    next_emit: float = 0.0


@dataclass
class SessionState:
    """Everything a connection has subscribed to."""

    market_data_type: int = MarketDataType.REALTIME
    market: dict[int, MarketSub] = field(default_factory=dict)
    tick_by_tick: dict[int, TickByTickSub] = field(default_factory=dict)
    realtime_bars: dict[int, BarSub] = field(default_factory=dict)
    live_history: dict[int, BarSub] = field(default_factory=dict)
    account_summary: dict[int, str] = field(default_factory=dict)
    account_updates: str | None = None
    account_updates_multi: dict[int, str] = field(default_factory=dict)
    positions: bool = False
    positions_multi: dict[int, str] = field(default_factory=dict)
    pnl: dict[int, str] = field(default_factory=dict)
    pnl_single: dict[int, tuple[str, int]] = field(default_factory=dict)
    auto_open_orders: bool = False

    def drop_market_data(self) -> int:
        """Forget all market data subscriptions (what 1101 'data lost' means); returns how many."""
        n = (
            len(self.market)
            + len(self.tick_by_tick)
            + len(self.realtime_bars)
            + len(self.live_history)
        )
        self.market.clear()
        self.tick_by_tick.clear()
        self.realtime_bars.clear()
        self.live_history.clear()
        return n


class Session:
    """A client connection to the gateway."""

    def __init__(
        self, server: IbkrSimServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.client_id: int | None = None
        self.state = SessionState()
        self.peer = writer.get_extra_info("peername")
        self.closed = asyncio.Event()
        self._handlers: dict[int, Callable[[int, FieldReader], None]] = {
            In.REQ_MKT_DATA: self._req_mkt_data,
            In.CANCEL_MKT_DATA: self._cancel_mkt_data,
            In.PLACE_ORDER: self._place_order,
            In.CANCEL_ORDER: self._cancel_order,
            In.REQ_OPEN_ORDERS: self._req_open_orders,
            In.REQ_ACCT_DATA: self._req_account_updates,
            In.REQ_EXECUTIONS: self._req_executions,
            In.REQ_IDS: self._req_ids,
            In.REQ_CONTRACT_DATA: self._req_contract_details,
            In.REQ_AUTO_OPEN_ORDERS: self._req_auto_open_orders,
            In.REQ_ALL_OPEN_ORDERS: self._req_all_open_orders,
            In.REQ_MANAGED_ACCTS: self._req_managed_accounts,
            In.REQ_HISTORICAL_DATA: self._req_historical_data,
            In.CANCEL_HISTORICAL_DATA: self._cancel_historical_data,
            In.REQ_CURRENT_TIME: self._req_current_time,
            In.REQ_REAL_TIME_BARS: self._req_realtime_bars,
            In.CANCEL_REAL_TIME_BARS: self._cancel_realtime_bars,
            In.REQ_GLOBAL_CANCEL: self._req_global_cancel,
            In.REQ_MARKET_DATA_TYPE: self._req_market_data_type,
            In.REQ_POSITIONS: self._req_positions,
            In.REQ_ACCOUNT_SUMMARY: self._req_account_summary,
            In.CANCEL_ACCOUNT_SUMMARY: self._cancel_account_summary,
            In.CANCEL_POSITIONS: self._cancel_positions,
            In.REQ_POSITIONS_MULTI: self._req_positions_multi,
            In.CANCEL_POSITIONS_MULTI: self._cancel_positions_multi,
            In.REQ_ACCOUNT_UPDATES_MULTI: self._req_account_updates_multi,
            In.CANCEL_ACCOUNT_UPDATES_MULTI: self._cancel_account_updates_multi,
            In.REQ_SEC_DEF_OPT_PARAMS: self._req_sec_def_opt_params,
            In.REQ_MATCHING_SYMBOLS: self._req_matching_symbols,
            In.REQ_HEAD_TIMESTAMP: self._req_head_timestamp,
            In.CANCEL_HEAD_TIMESTAMP: self._ignore,
            In.REQ_MARKET_RULE: self._req_market_rule,
            In.REQ_PNL: self._req_pnl,
            In.CANCEL_PNL: self._cancel_pnl,
            In.REQ_PNL_SINGLE: self._req_pnl_single,
            In.CANCEL_PNL_SINGLE: self._cancel_pnl_single,
            In.REQ_TICK_BY_TICK_DATA: self._req_tick_by_tick,
            In.CANCEL_TICK_BY_TICK_DATA: self._cancel_tick_by_tick,
            In.REQ_COMPLETED_ORDERS: self._req_completed_orders,
            In.REQ_USER_INFO: self._req_user_info,
            In.SET_SERVER_LOGLEVEL: self._ignore,
            In.CANCEL_MKT_DEPTH: self._ignore,
            In.CANCEL_NEWS_BULLETINS: self._ignore,
        }

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the socket can still be written."""
        return not self.writer.is_closing()

    def send(self, fields: list) -> None:
        """Write one message (dropped silently once the socket is closing)."""
        if self.writer.is_closing():
            return
        self.writer.write(encode_frame(fields))

    def error(self, req_id: int, code: int, message: str | None = None) -> None:
        """Send an error/warning message."""
        self.send(enc.error(req_id, code, message))

    def close(self) -> None:
        """Close the socket."""
        if not self.writer.is_closing():
            self.writer.close()

    @property
    def now(self) -> float:
        """The gateway's clock."""
        return self.server.clock()

    async def run(self) -> None:
        """Serve the connection until the client goes away."""
        try:
            offer = await read_handshake(self.reader)
            version = self.server.server_version
            if not offer.min_version <= version <= offer.max_version:
                # Every layout here is the v176 one; a client that cannot speak it is refused.
                log.warning(
                    "client offered %s..%s; only %s is spoken",
                    offer.min_version,
                    offer.max_version,
                    version,
                )
                return
            self.writer.write(encode_frame([version, self.server.connection_time_text()]))
            await self.writer.drain()
            while True:
                fields = await read_frame(self.reader)
                if not fields:
                    continue
                if self.client_id is None:
                    if fields[0] != str(int(In.START_API)):
                        continue
                    if not self._start_api(FieldReader(fields, 1)):
                        break
                    continue
                self.dispatch(fields)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            log.debug("session %s ended: %r", self.peer, exc)
        finally:
            self.server.unregister(self)
            self.close()
            self.closed.set()

    def _start_api(self, r: FieldReader) -> bool:
        r.skip()  # version
        client_id = r.int()
        if not self.server.register(self, client_id):
            self.error(NO_VALID_ID, 326)
            self.close()
            return False
        self.client_id = client_id
        self.send(enc.next_valid_id(self.server.engine.next_order_id(client_id)))
        self.send(enc.managed_accounts(self.server.account_ids))
        if self.server.faults.connected_to_ib:
            for code in FARM_STATUS_CODES:
                self.error(NO_VALID_ID, code)
        else:
            self.error(NO_VALID_ID, 1100)
        return True

    def dispatch(self, fields: list[str]) -> None:
        """Route one request to its handler; unsupported requests get error 321."""
        try:
            msg_id = int(fields[0])
        except ValueError:
            self.error(
                NO_VALID_ID,
                321,
                f"Error validating request.-'{fields[0]}' : cause - bad message id",
            )
            return
        handler = self._handlers.get(msg_id)
        if handler is None:
            self.error(
                NO_VALID_ID,
                321,
                f"Error validating request.-'{msg_id}' : cause - Unsupported request type {msg_id}"
                " by the Seraphim local gateway",
            )
            return
        self.server.requests_seen[msg_id] = self.server.requests_seen.get(msg_id, 0) + 1
        try:
            handler(msg_id, FieldReader(fields, 1))
        except Exception as exc:
            log.exception("request %s failed", fields[:3])
            self.error(NO_VALID_ID, 321, f"Error validating request.-'{msg_id}' : cause - {exc}")

    def _ignore(self, msg_id: int, r: FieldReader) -> None:
        return None

    def _resolve(self, req_id: int, q: ContractQuery) -> ContractSpec | None:
        """Find exactly one contract or answer error 200."""
        matches = self.server.find_contracts(q)
        if len(matches) == 1:
            return as_exchange(matches[0], q.exchange)
        if not matches:
            self.error(req_id, 200)
        else:
            self.error(
                req_id, 200, f"The contract description specified for {q.symbol} is ambiguous."
            )
        return None

    # -- contracts ------------------------------------------------------------------------------

    def _req_contract_details(self, msg_id: int, r: FieldReader) -> None:
        r.skip()  # version
        req_id = r.int()
        q = ContractQuery.read(r)
        q.include_expired = r.bool()
        q.sec_id_type = r.str()
        q.sec_id = r.str()
        matches = self.server.find_contracts(q)
        if not matches:
            self.error(req_id, 200)
            return
        today = dt.datetime.fromtimestamp(self.now, dt.UTC).date()
        for spec in matches:
            self.send(enc.contract_details(req_id, as_exchange(spec, q.exchange), today))
        self.send(enc.contract_details_end(req_id))

    def _req_matching_symbols(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        pattern = r.str()
        universe = self.server.universe
        out = []
        for spec in universe.search(pattern)[:16]:
            derivatives = ["OPT"] if universe.options_of(spec.con_id) else []
            out.append((spec, derivatives))
        self.send(enc.symbol_samples(req_id, out))

    def _req_sec_def_opt_params(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        symbol = r.str()
        r.str()  # futFopExchange
        r.str()  # underlying secType
        con_id = r.int()
        universe = self.server.universe
        under = universe.get(con_id) or next(
            (c for c in universe if c.symbol == symbol and c.sec_type == "STK"), None
        )
        options = universe.options_of(under.con_id) if under else []
        if options:
            expiries = sorted({o.last_trade_date for o in options})
            strikes = sorted({o.strike for o in options})
            for exchange in ("SMART", "CBOE"):
                self.send(
                    enc.sec_def_opt_params(
                        req_id, exchange, under.con_id, under.symbol, "100", expiries, strikes
                    )
                )
        self.send(enc.sec_def_opt_params_end(req_id))

    def _req_market_rule(self, msg_id: int, r: FieldReader) -> None:
        rule_id = r.int()
        increments = {26: [(0.0, 0.01)], 32: [(0.0, 0.01), (3.0, 0.05)], 3003: [(0.0, 0.25)]}
        self.send(enc.market_rule(rule_id, increments.get(rule_id, [(0.0, 0.01)])))

    # -- simple requests ------------------------------------------------------------------------

    def _req_ids(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.next_valid_id(self.server.engine.next_order_id(self.client_id or 0)))

    def _req_current_time(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.current_time(int(self.now)))

    def _req_managed_accounts(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.managed_accounts(self.server.account_ids))

    def _req_user_info(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.user_info(r.int()))

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

    # -- market data ----------------------------------------------------------------------------

    def _market_permission(self, req_id: int, spec: ContractSpec) -> bool | None:
        """True for live, False for delayed, None when refused (error already sent)."""
        permission = self.server.faults.permission(spec.symbol)
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
        market = self.server.market
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
        self.send(enc.tick_size(rid, self._tick(sub, Tick.VOLUME), self.server.day_volume(spec, t)))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.CLOSE), prev_close, 0))
        self.send(enc.tick_price(rid, self._tick(sub, Tick.OPEN), day_open, 0))
        sub.last = quote

    def on_market_tick(self, now: float) -> None:
        """Push changed quotes, tick-by-tick data and bars for this connection's subscriptions."""
        market = self.server.market
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
        if self.server.faults.permission(spec.symbol) != PERMISSION_LIVE:
            self.error(
                req_id, 10189, "Failed to request tick-by-tick data.No market data permissions."
            )
            return
        sub = TickByTickSub(req_id, spec, kind)
        self.state.tick_by_tick[req_id] = sub
        self._push_tick_by_tick(sub, self.now)

    def _push_tick_by_tick(self, sub: TickByTickSub, now: float) -> None:
        q = self.server.market.quote(sub.spec, now)
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
        if self.server.faults.permission(spec.symbol) != PERMISSION_LIVE:
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
            row = self.server.history.bars(
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

    # -- historical data ------------------------------------------------------------------------

    def _req_historical_data(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        q = ContractQuery.read(r)
        q.include_expired = r.bool()
        end_text = r.str()
        bar_text = r.str()
        duration_text = r.str()
        use_rth = r.bool()
        what = r.str()
        format_date = r.int(1)
        if q.sec_type == "BAG":
            for _ in range(r.int()):
                r.skip(4)
        keep_up_to_date = r.bool()
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        faults = self.server.faults
        if faults.permission(spec.symbol) == "none":
            self.error(
                req_id,
                162,
                f"Historical Market Data Service error message:No market data permissions for "
                f"{spec.primary_exchange or spec.exchange} {spec.sec_type}",
            )
            return
        key = (spec.con_id, end_text, bar_text, duration_text, use_rth, what)
        violation = (
            "forced"
            if faults.take_forced_pacing()
            else faults.pacing.check(self.now, key, spec.con_id)
        )
        if violation:
            self.error(
                req_id,
                162,
                f"Historical Market Data Service error message:Pacing violation ({violation})",
            )
            return
        try:
            size = parse_bar_size(bar_text)
            duration = parse_duration(duration_text)
            if keep_up_to_date and end_text:
                raise HistoryRequestError(162, f"{HMDS}End date not supported with live updates")
            now = self.now
            end = parse_end_time(end_text, now)
            rows = self.server.history.bars(spec, end, duration, size, what, use_rth, now)
        except HistoryRequestError as exc:
            self.error(req_id, exc.code, str(exc))
            return
        if not rows:
            self.error(
                req_id,
                162,
                "Historical Market Data Service error message:HMDS query returned no data: "
                f"{spec.local_symbol}@{spec.exchange} {what}",
            )
            return
        wire = [
            [
                format_bar_date(b.start, size, format_date),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume,
                b.wap,
                b.count,
            ]
            for b in rows
        ]
        start_text = format_range_stamp(end - duration)
        self.send(enc.historical_data(req_id, start_text, format_range_stamp(end), wire))
        if keep_up_to_date:
            self.state.live_history[req_id] = BarSub(req_id, spec, size, what, use_rth, format_date)

    def _push_history_update(self, sub: BarSub, now: float) -> None:
        window = current_bar_window(sub.spec, now, sub.size, sub.use_rth)
        if window is None:
            return
        lo, hi = window
        rows = self.server.history.bars(
            sub.spec, hi, int(hi - lo), sub.size, sub.what, sub.use_rth, now + 1
        )
        if not rows:
            return
        b = rows[-1]
        date = format_bar_date(b.start, sub.size, sub.format_date)
        self.send(
            enc.historical_data_update(
                sub.req_id, b.count, date, b.open, b.close, b.high, b.low, b.wap, b.volume
            )
        )

    def _cancel_historical_data(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.live_history.pop(r.int(), None)

    def _req_head_timestamp(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        q = ContractQuery.read(r)
        r.bool()  # includeExpired
        r.bool()  # useRTH
        r.str()  # whatToShow
        format_date = r.int(1)
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        first = self.server.head_timestamp(spec) or FIRST_DAY * 86_400 + 14.5 * 3600
        self.send(enc.head_timestamp(req_id, format_head_timestamp(first, format_date)))

    # -- orders ---------------------------------------------------------------------------------

    def _place_order(self, msg_id: int, r: FieldReader) -> None:
        order_id = r.int()
        q = ContractQuery.read(r)
        q.sec_id_type = r.str()
        q.sec_id = r.str()
        action = r.str().upper()
        quantity = r.decimal()
        order_type = r.str().upper()
        lmt = r.float(UNSET_DOUBLE)
        aux = r.float(UNSET_DOUBLE)
        tif = r.str().upper() or "DAY"
        oca_group = r.str()
        account = r.str() or self.server.account_ids[0]
        r.str()  # openClose
        r.int()  # origin
        order_ref = r.str()
        r.bool()  # transmit
        parent_id = r.int()
        r.skip(4)  # blockOrder, sweepToFill, displaySize, triggerMethod
        outside_rth = r.bool()
        r.bool()  # hidden
        if q.sec_type == "BAG":
            self.error(
                order_id,
                201,
                "Order rejected - reason:Combo orders are not supported by the local gateway",
            )
            return
        # sharesAllocation, discretionaryAmt, goodAfterTime, goodTillDate, faGroup/Method/Percentage
        r.skip(7)
        r.skip(1)  # faProfile (< 177)
        r.skip(4)  # modelCode, shortSaleSlot, designatedLocation, exemptCode
        oca_type = r.int()
        spec = self._resolve(order_id, q)
        if spec is None:
            return
        order = SimOrder(
            client_id=self.client_id or 0,
            order_id=order_id,
            perm_id=0,
            account=account,
            spec=spec,
            action=action,
            total_qty=quantity,
            order_type=order_type,
            lmt_price=None if lmt == UNSET_DOUBLE else lmt,
            aux_price=None if aux == UNSET_DOUBLE else aux,
            tif=tif,
            order_ref=order_ref,
            outside_rth=outside_rth,
            parent_id=parent_id,
            oca_group=oca_group,
            oca_type=oca_type,
        )
        try:
            self.server.engine.place(order)
        except OrderRejected as exc:
            self.error(order_id, exc.code, str(exc))

    def _cancel_order(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        order_id = r.int()
        engine = self.server.engine
        if engine.cancel(self.client_id or 0, order_id, "API cancel") is None:
            order = engine.orders.get((self.client_id or 0, order_id))
            if order is None:
                self.error(
                    order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                )
            else:
                self.error(
                    order_id,
                    10148,
                    f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                    f"state: {order.status}.",
                )

    def _req_global_cancel(self, msg_id: int, r: FieldReader) -> None:
        self.server.engine.cancel_all()

    def _send_open_orders(self, orders: list[SimOrder]) -> None:
        for order in sorted(orders, key=lambda o: o.perm_id):
            self.send(enc.open_order(order))
            self.send(enc.order_status(order))
        self.send(enc.open_order_end())

    def _req_open_orders(self, msg_id: int, r: FieldReader) -> None:
        cid = self.client_id or 0
        self._send_open_orders(self.server.engine.open_orders(None if cid == 0 else cid))

    def _req_all_open_orders(self, msg_id: int, r: FieldReader) -> None:
        self._send_open_orders(self.server.engine.open_orders())

    def _req_auto_open_orders(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        auto = r.bool()
        if self.client_id != 0:
            self.error(
                NO_VALID_ID,
                321,
                "Error validating request.-'bX' : cause - Only client id 0 can bind orders",
            )
            return
        self.state.auto_open_orders = auto

    def _req_completed_orders(self, msg_id: int, r: FieldReader) -> None:
        for order in sorted(
            self.server.engine.completed_orders(), key=lambda o: o.completed_at or 0
        ):
            self.send(enc.completed_order(order))
        self.send(enc.completed_orders_end())

    def _req_executions(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        client_id = r.int()
        account = r.str()
        since = r.str()
        symbol = r.str().upper()
        sec_type = r.str().upper()
        exchange = r.str().upper()
        side = r.str().upper()
        since_t = None
        if since:
            try:
                since_t = parse_end_time(since, self.now)
            except HistoryRequestError:
                since_t = None
        for ex in self.server.engine.executions:
            o = ex.order
            if client_id and o.client_id != client_id:
                continue
            if account and o.account != account:
                continue
            if symbol and o.spec.symbol != symbol:
                continue
            if sec_type and o.spec.sec_type != sec_type:
                continue
            if exchange and exchange not in (ex.exchange, o.spec.exchange):
                continue
            if side and side not in (ex.side, "BUY" if ex.side == "BOT" else "SELL"):
                continue
            if since_t is not None and ex.time < since_t:
                continue
            self.send(enc.exec_details(req_id, ex))
            self.send(enc.commission_report(ex))
        self.send(enc.exec_details_end(req_id))

    # -- account --------------------------------------------------------------------------------

    def _req_positions(self, msg_id: int, r: FieldReader) -> None:
        self.state.positions = True
        for account_id, account in self.server.accounts.items():
            for pos in account.open_positions():
                self.send(enc.position(account_id, pos.spec, pos.quantity, pos.avg_cost))
        self.send(enc.position_end())

    def _cancel_positions(self, msg_id: int, r: FieldReader) -> None:
        self.state.positions = False

    def _req_positions_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        self.state.positions_multi[req_id] = account
        for account_id, acct in self.server.accounts.items():
            if account and account not in ("All", account_id):
                continue
            for pos in acct.open_positions():
                self.send(
                    enc.position_multi(req_id, account_id, pos.spec, pos.quantity, pos.avg_cost)
                )
        self.send(enc.position_multi_end(req_id))

    def _cancel_positions_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.positions_multi.pop(r.int(), None)

    def _req_account_summary(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        group = r.str()
        tags = r.str()
        if group and group != "All":
            self.error(
                req_id, 321, f"Error validating request.-'bc' : cause - Unknown group {group!r}"
            )
            return
        self.state.account_summary[req_id] = tags
        self.send_account_summary(req_id, tags)

    def send_account_summary(self, req_id: int, tags: str) -> None:
        """All rows for every managed account, then accountSummaryEnd."""
        for account_id, account in self.server.accounts.items():
            for tag, value, currency in account.summary_rows(tags, self.server.mark):
                self.send(enc.account_summary(req_id, account_id, tag, value, currency))
        self.send(enc.account_summary_end(req_id))

    def _cancel_account_summary(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.account_summary.pop(r.int(), None)

    def _req_account_updates(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        subscribe = r.bool()
        account = r.str() or self.server.account_ids[0]
        if not subscribe:
            self.state.account_updates = None
            return
        if account not in self.server.accounts:
            self.error(
                NO_VALID_ID,
                321,
                f"Error validating request.-'bb' : cause - Unknown account {account}",
            )
            return
        self.state.account_updates = account
        self.send_account_updates(account)
        self.send(enc.account_download_end(account))

    def send_account_updates(self, account_id: str) -> None:
        """accountValue rows, one portfolioValue per position and the update time."""
        server = self.server
        account = server.accounts[account_id]
        for key, value, currency in account.update_rows(server.mark):
            self.send(enc.account_value(key, value, currency, account_id))
        for pos in account.open_positions():
            price = server.mark(pos.spec)
            value = float(pos.quantity) * price * pos.spec.value_multiplier
            unrealized = value - float(pos.quantity) * pos.avg_cost
            self.send(
                enc.portfolio_value(
                    pos.spec,
                    pos.quantity,
                    price,
                    value,
                    pos.avg_cost,
                    unrealized,
                    pos.realized_pnl,
                    account_id,
                )
            )
        self.send(enc.account_update_time(self.now))

    def _req_account_updates_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        account = r.str() or self.server.account_ids[0]
        r.str()  # modelCode
        r.bool()  # ledgerAndNLV
        if account not in self.server.accounts:
            self.error(
                req_id, 321, f"Error validating request.-'bb' : cause - Unknown account {account}"
            )
            return
        self.state.account_updates_multi[req_id] = account
        self.send_account_updates_multi(req_id, account)

    def send_account_updates_multi(self, req_id: int, account_id: str) -> None:
        """accountUpdateMulti rows then accountUpdateMultiEnd."""
        account = self.server.accounts[account_id]
        for key, value, currency in account.update_rows(self.server.mark):
            self.send(enc.account_update_multi(req_id, account_id, key, value, currency))
        self.send(enc.account_update_multi_end(req_id))

    def _cancel_account_updates_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.account_updates_multi.pop(r.int(), None)

    def _req_pnl(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        if account not in self.server.accounts:
            self.error(
                req_id, 321, f"Error validating request.-'bJ' : cause - Unknown account {account}"
            )
            return
        self.state.pnl[req_id] = account
        self.send_pnl(req_id, account)

    def send_pnl(self, req_id: int, account_id: str) -> None:
        """Daily, unrealised and realised P&L of one account."""
        values = self.server.accounts[account_id].values(self.server.mark)
        unrealized, realized = values["UnrealizedPnL"], values["RealizedPnL"]
        self.send(enc.pnl(req_id, unrealized + realized, unrealized, realized))

    def _cancel_pnl(self, msg_id: int, r: FieldReader) -> None:
        self.state.pnl.pop(r.int(), None)

    def _req_pnl_single(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        con_id = r.int()
        if account not in self.server.accounts or self.server.universe.get(con_id) is None:
            self.error(req_id, 200)
            return
        self.state.pnl_single[req_id] = (account, con_id)
        self.send_pnl_single(req_id, account, con_id)

    def send_pnl_single(self, req_id: int, account_id: str, con_id: int) -> None:
        """P&L of one position."""
        account = self.server.accounts[account_id]
        pos = account.positions.get(con_id)
        if pos is None:
            self.send(enc.pnl_single(req_id, Decimal(0), 0.0, 0.0, 0.0, 0.0))
            return
        value = float(pos.quantity) * self.server.mark(pos.spec) * pos.spec.value_multiplier
        unrealized = value - float(pos.quantity) * pos.avg_cost
        self.send(
            enc.pnl_single(
                req_id,
                pos.quantity,
                unrealized + pos.realized_pnl,
                unrealized,
                pos.realized_pnl,
                value,
            )
        )

    def _cancel_pnl_single(self, msg_id: int, r: FieldReader) -> None:
        self.state.pnl_single.pop(r.int(), None)

    def push_account_changes(self) -> None:
        """Resend account data to this connection's account subscriptions after a fill."""
        for req_id, tags in list(self.state.account_summary.items()):
            self.send_account_summary(req_id, tags)
        if self.state.account_updates:
            self.send_account_updates(self.state.account_updates)
        for req_id, account in list(self.state.account_updates_multi.items()):
            self.send_account_updates_multi(req_id, account)
        for req_id, account in list(self.state.pnl.items()):
            self.send_pnl(req_id, account)
        for req_id, (account, con_id) in list(self.state.pnl_single.items()):
            self.send_pnl_single(req_id, account, con_id)

    def push_position(self, account_id: str, spec: ContractSpec) -> None:
        """A position update for reqPositions/reqPositionsMulti subscribers."""
        pos = self.server.accounts[account_id].positions.get(spec.con_id)
        if pos is None:
            return
        if self.state.positions:
            self.send(enc.position(account_id, spec, pos.quantity, pos.avg_cost))
        for req_id, account in self.state.positions_multi.items():
            if account in ("", "All", account_id):
                self.send(enc.position_multi(req_id, account_id, spec, pos.quantity, pos.avg_cost))
