"""
One client connection: handshake, request routing and the simple requests; each API area answers
in its own mixin (``handlers/``), as nautilus's IB client is split.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.handlers.account import AccountMixin
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.handlers.contracts import ContractsMixin
from seraphim.sim.ibkr.handlers.history import HistoryMixin
from seraphim.sim.ibkr.handlers.market_data import MarketDataMixin
from seraphim.sim.ibkr.handlers.orders import OrdersMixin
from seraphim.sim.ibkr.messages import FARM_STATUS_CODES
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.messages import In
from seraphim.sim.ibkr.protocol import FieldReader
from seraphim.sim.ibkr.protocol import ProtocolError
from seraphim.sim.ibkr.protocol import encode_frame
from seraphim.sim.ibkr.protocol import read_frame
from seraphim.sim.ibkr.protocol import read_handshake

log = logging.getLogger(__name__)


class Session(
    ContractsMixin, MarketDataMixin, HistoryMixin, OrdersMixin, AccountMixin, SessionBase
):
    """A client connection to the gateway."""

    @functools.cached_property
    def _handlers(self) -> dict[int, Callable[[int, FieldReader], None]]:
        """Each request id's handler, from the area mixins."""
        return {
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

    async def run(self) -> None:
        """Serve the connection until the client goes away."""
        try:
            offer = await read_handshake(self.reader)
            version = self.venue.server_version
            if not offer.min_version <= version <= offer.max_version:
                # Every layout here is the v176 one; a client that cannot speak it is refused.
                log.warning(
                    "client offered %s..%s; only %s is spoken",
                    offer.min_version,
                    offer.max_version,
                    version,
                )
                return
            self.writer.write(encode_frame([version, self.venue.connection_time_text()]))
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
            self.clients.unregister(self)
            self.close()
            self.closed.set()

    def _start_api(self, r: FieldReader) -> bool:
        r.skip()  # version
        client_id = r.int()
        if not self.clients.register(self, client_id):
            self.error(NO_VALID_ID, 326)
            self.close()
            return False
        self.client_id = client_id
        self.send(enc.next_valid_id(self.venue.engine.next_order_id(client_id)))
        self.send(enc.managed_accounts(self.venue.account_ids))
        if self.venue.faults.connected_to_ib:
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
        self.venue.requests_seen[msg_id] = self.venue.requests_seen.get(msg_id, 0) + 1
        try:
            handler(msg_id, FieldReader(fields, 1))
        except Exception as exc:
            log.exception("request %s failed", fields[:3])
            self.error(NO_VALID_ID, 321, f"Error validating request.-'{msg_id}' : cause - {exc}")

    def _ignore(self, msg_id: int, r: FieldReader) -> None:
        return None

    def _req_ids(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.next_valid_id(self.venue.engine.next_order_id(self.client_id or 0)))

    def _req_current_time(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.current_time(int(self.now)))

    def _req_managed_accounts(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.managed_accounts(self.venue.account_ids))

    def _req_user_info(self, msg_id: int, r: FieldReader) -> None:
        self.send(enc.user_info(r.int()))
