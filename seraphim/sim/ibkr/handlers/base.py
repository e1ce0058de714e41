"""
What every API area of a client connection shares: the connection, its subscriptions, the
venue it talks to, and writing answers and errors.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.contracts import as_exchange
from seraphim.sim.ibkr.history import BarSize
from seraphim.sim.ibkr.market import Quote
from seraphim.sim.ibkr.messages import MarketDataType
from seraphim.sim.ibkr.protocol import encode_frame
from seraphim.sim.ibkr.venue import IbkrSimVenue

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


class ClientIds(Protocol):
    """The gateway's table of connected client ids (error 326 when one is taken)."""

    def register(self, session: SessionBase, client_id: int) -> bool: ...

    def unregister(self, session: SessionBase) -> None: ...


class SessionBase:
    """A client connection: its socket, state and the venue; the area mixins build on it."""

    def __init__(
        self,
        venue: IbkrSimVenue,
        clients: ClientIds,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.venue = venue
        self.clients = clients
        self.reader = reader
        self.writer = writer
        self.client_id: int | None = None
        self.state = SessionState()
        self.peer = writer.get_extra_info("peername")
        self.closed = asyncio.Event()

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
        return self.venue.clock()

    def _resolve(self, req_id: int, q: ContractQuery) -> ContractSpec | None:
        """Find exactly one contract or answer error 200."""
        matches = self.venue.find_contracts(q)
        if len(matches) == 1:
            return as_exchange(matches[0], q.exchange)
        if not matches:
            self.error(req_id, 200)
        else:
            self.error(
                req_id, 200, f"The contract description specified for {q.symbol} is ambiguous."
            )
        return None
