"""
Lockstep between the local exchange's clock and a running TradingNode.

The exchange time moves one market print at a time, and only once the node has caught up with
the previous one: every bar the print completed has reached the node (its strategies have run
on it), every order the node sent is settled (a market order filled, cancelled, denied or
rejected; a resting order acknowledged) and every fill the venue made has reached the node. The
node's latency then cannot change what the market looked like when its orders arrived, which is
what a backtest assumes; what remains between the two are the fill model and fee arithmetic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import Venue

from seraphim.parity.exchange import LockstepExchange

KRAKEN_VENUE = Venue("KRAKEN")
# Order states where an order waits on the node alone (nothing is on its way to the venue).
_RESTING = (
    OrderStatus.ACCEPTED,
    OrderStatus.TRIGGERED,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.EMULATED,
)


def _balance_tolerance(currency: Currency, amount: Decimal) -> Decimal:
    """
    How far the node's balance may be from the venue's and still be the same: nautilus keeps a
    currency to its precision (USD: cents) and books fees so rounded, the venue to Kraken's
    (USD: 4 decimals), so the two drift by fractions of a cent a fill. A fill the node has not
    heard of moves the base currency by a whole order (at least the pair's minimum).
    """
    return max(Decimal(1).scaleb(-currency.precision), abs(amount) * Decimal("1e-6"))


class PacerError(RuntimeError):
    """The node did not catch up with the exchange in time; the message says on what."""


@dataclass(frozen=True)
class Step:
    """
    One pair's prints at one exchange time, and the bars (bar type -> how many so far) the
    node must have by then.
    """

    at: float
    pair: str
    bars_due: dict[str, int]


@dataclass
class PacerLog:
    """What the pacer saw: the wall time each step began (to date the node's orders)."""

    steps: list[tuple[int, float]] = field(default_factory=list)  # (wall ns, exchange time)
    bars: dict[str, int] = field(default_factory=dict)
    fills: int = 0

    def exchange_time(self, wall_ns: int) -> float | None:
        """The exchange time of the step during which ``wall_ns`` fell."""
        found = None
        for started, at in self.steps:
            if started > wall_ns:
                break
            found = at
        return found


class Pacer:
    """Runs on the node's loop next to ``NodeLifecycle.run()``; asks it to stop when done."""

    def __init__(
        self,
        node: Any,
        exchange: LockstepExchange,
        steps: list[Step],
        symbols: list[str],
        request_stop: Callable[[str], None],
        step_timeout: float = 60.0,
        start_timeout: float = 120.0,
    ) -> None:
        self.node = node
        self.kernel = node.kernel
        self.exchange = exchange
        self.steps = steps
        self.symbols = symbols
        self.request_stop = request_stop
        self.step_timeout = step_timeout
        self.start_timeout = start_timeout
        self.log = PacerLog(bars={b: 0 for s in steps for b in s.bars_due})
        self.error: PacerError | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ node events

    def _on_bar(self, bar: Any) -> None:
        key = str(bar.bar_type)
        if key in self.log.bars:
            self.log.bars[key] += 1
        self._changed.set()

    def _on_order_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            self.log.fills += 1
        self._changed.set()

    def _on_account_event(self, event: Any) -> None:
        self._changed.set()

    # ------------------------------------------------------------------ run

    async def run(self) -> None:
        """Replay every step, then ask the node to stop (also when something failed)."""
        try:
            await self._wait_ready()
            msgbus = self.kernel.msgbus
            for bar_type in self.log.bars:
                msgbus.subscribe(f"data.bars.{bar_type}", self._on_bar)
            msgbus.subscribe("events.order.*", self._on_order_event)
            msgbus.subscribe("events.account.*", self._on_account_event)
            for step in self.steps:
                self.log.steps.append((time.time_ns(), step.at))
                await self.exchange.step(step.at, step.pair)
                await self._settle(step)
            self.request_stop("parity replay over")
        except PacerError as e:
            self.error = e
            self.request_stop(str(e))
        except asyncio.CancelledError:
            raise

    async def _wait_ready(self) -> None:
        # Start-up has no event to wait on: the trader's state and the exchange's subscriptions
        # are polled, bounded by start_timeout.
        deadline = time.monotonic() + self.start_timeout
        while not (self.kernel.trader.is_running and await self.exchange.subscribed(self.symbols)):
            if time.monotonic() > deadline:
                raise PacerError(
                    f"the node was not trading and subscribed to {', '.join(self.symbols)} "
                    f"within {self.start_timeout:g} s"
                )
            await asyncio.sleep(0.05)

    def _node_waiting(self) -> list[str]:
        """What the node itself has still to do: bars to receive, orders to settle."""
        waiting = []
        for bar_type, due in self._bars_due.items():
            if self.log.bars[bar_type] < due:
                waiting.append(f"bar {bar_type} #{due}")
        for order in self.kernel.cache.orders():
            if order.is_closed:
                continue
            if order.order_type == OrderType.MARKET or order.status not in _RESTING:
                waiting.append(f"order {order.client_order_id} {order.status_string()}")
        return waiting

    def _behind_venue(self, venue_fills: int, venue_balances: dict[str, Decimal]) -> list[str]:
        """What the venue has done that the node has not heard of yet."""
        waiting = []
        if self.log.fills < venue_fills:
            waiting.append(f"fills ({self.log.fills} of {venue_fills})")
        return waiting + self._balances_behind(venue_balances)

    def _balances_behind(self, venue_balances: dict[str, Decimal]) -> list[str]:
        """Currencies whose balance at the node is not yet the venue's (to its precision)."""
        account = self.kernel.cache.account_for_venue(KRAKEN_VENUE)
        if account is None:
            return ["the account"]
        if not account.last_event.is_reported:
            # nautilus's own update after a fill (fees at the currency's precision): wait for
            # the venue's balances, so every bar is sized on the same (the venue's) figures.
            return ["the venue's account state"]
        behind = []
        for code, amount in venue_balances.items():
            currency = Currency.from_str(code)
            held = account.balance_total(currency)
            node = held.as_decimal() if held is not None else Decimal(0)
            if abs(node - amount) > _balance_tolerance(currency, amount):
                behind.append(f"{code} balance (node {node}, venue {amount})")
        return behind

    async def _settle(self, step: Step) -> None:
        """
        Wait until the node has caught up: first with itself (bars, orders), then with the
        venue as it is at that moment (its fills and balances, asked again after each change:
        orders the node sent may have filled there meanwhile).
        """
        self._bars_due = step.bars_due
        deadline = time.monotonic() + self.step_timeout
        while True:
            self._changed.clear()
            waiting = self._node_waiting()
            if not waiting:
                waiting = self._behind_venue(*await self.exchange.account_view())
                if not waiting:
                    return
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self._changed.wait(), max(remaining, 0.0))
            except TimeoutError:
                raise PacerError(
                    f"node did not catch up with the exchange at {step.at:.0f} ({step.pair}) "
                    f"within {self.step_timeout:g} s: waiting for {', '.join(waiting)}"
                ) from None
