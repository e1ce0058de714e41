"""
nautilus's IB execution client with one reconciliation fix: partially filled open orders.

On start (a restart after a crash, say) nautilus 1.221's IB client reports every open order
with ``filled_qty = 0`` (the TWS ``openOrder`` message carries no filled quantity) and reports
each position as a synthetic filled order. So an order that was half filled when the node went
down comes back with its *whole* quantity still to fill, while its fills are counted in the
synthetic order: the position is right but the order's leaves are overstated, and a strategy
that nets its working orders against its target (Seraphim's ``set_target_position`` does)
trades the filled part a second time.

:class:`SeraphimIbkrExecutionClient` fills in the open orders' filled quantity and average
price from the executions TWS reports (``reqExecutions``: the fill reports of the same mass
status), so nautilus applies those fills to the order itself, and shrinks the synthetic
position order by the same amounts (dropping it when nothing is left). Positions still
reconcile to the gateway's quantity (nautilus compares them with the position reports).

TWS offers no consistent snapshot: an order that fills *while* reconciliation runs (between
the position and the execution requests, milliseconds) can still be counted twice until the
next reconciliation; nautilus's own design has the same window.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from decimal import Decimal

from nautilus_trader.adapters.interactive_brokers.common import IB_VENUE
from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersExecClientConfig
from nautilus_trader.adapters.interactive_brokers.execution import InteractiveBrokersExecutionClient
from nautilus_trader.adapters.interactive_brokers.factories import (
    InteractiveBrokersLiveExecClientFactory,
)
from nautilus_trader.adapters.interactive_brokers.factories import get_cached_ib_client
from nautilus_trader.adapters.interactive_brokers.factories import (
    get_cached_interactive_brokers_instrument_provider,
)
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.execution.reports import ExecutionMassStatus
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.objects import Quantity


def _is_position_report(report: OrderStatusReport) -> bool:
    """nautilus's synthetic order for a position carries the instrument id as its order id."""
    return report.venue_order_id.value == report.instrument_id.value


def apply_open_order_fills(mass_status: ExecutionMassStatus) -> dict[str, Decimal]:
    """
    Give the open-order reports of ``mass_status`` the quantity its own fill reports show as
    executed, and shrink the synthetic position reports by the same signed amounts (removing
    those that reach zero). Returns the signed quantity moved per instrument.

    Using the mass status's fill reports (the executions nautilus is about to apply) keeps the
    order's reported and applied fills equal, so no inferred fill is invented.
    """
    orders = mass_status._order_reports
    fills = mass_status._fill_reports
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for venue_order_id, report in orders.items():
        if _is_position_report(report) or not report.is_open:
            continue
        trades = fills.get(venue_order_id) or []
        filled = sum((t.last_qty.as_decimal() for t in trades), Decimal(0))
        if filled <= report.filled_qty.as_decimal() or filled >= report.quantity.as_decimal():
            continue
        notional = sum(
            (t.last_qty.as_decimal() * t.last_px.as_decimal() for t in trades), Decimal(0)
        )
        precision = report.quantity.precision
        report.filled_qty = Quantity(filled, precision)
        report.leaves_qty = Quantity(report.quantity.as_decimal() - filled, precision)
        report.avg_px = notional / filled
        report.order_status = OrderStatus.PARTIALLY_FILLED
        sign = 1 if report.order_side == OrderSide.BUY else -1
        moved[report.instrument_id.value] += sign * filled
    for venue_order_id, report in list(orders.items()):
        shift = moved.get(report.instrument_id.value)
        if not shift or not _is_position_report(report):
            continue
        sign = 1 if report.order_side == OrderSide.BUY else -1
        residual = sign * report.quantity.as_decimal() - shift
        if residual == 0:
            del orders[venue_order_id]
            continue
        qty = Quantity(abs(residual), report.quantity.precision)
        report.order_side = OrderSide.BUY if residual > 0 else OrderSide.SELL
        report.quantity = qty
        report.filled_qty = qty
        report.leaves_qty = Quantity(0, qty.precision)
    return dict(moved)


class SeraphimIbkrExecutionClient(InteractiveBrokersExecutionClient):
    """nautilus's IB execution client; open orders reconcile with their fills (see above)."""

    async def generate_mass_status(
        self, lookback_mins: int | None = None
    ) -> ExecutionMassStatus | None:
        mass_status = await super().generate_mass_status(lookback_mins)
        if mass_status is not None:
            moved = apply_open_order_fills(mass_status)
            if moved:
                self._log.info(f"Open orders reconciled with their executions: {moved}")
        return mass_status


class SeraphimIbkrExecClientFactory(InteractiveBrokersLiveExecClientFactory):
    """nautilus's IB execution factory, building :class:`SeraphimIbkrExecutionClient`."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: InteractiveBrokersExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> SeraphimIbkrExecutionClient:
        client = get_cached_ib_client(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            host=config.ibg_host,
            port=config.ibg_port,
            client_id=config.ibg_client_id,
            dockerized_gateway=config.dockerized_gateway,
            fetch_all_open_orders=config.fetch_all_open_orders,
        )
        provider = get_cached_interactive_brokers_instrument_provider(
            client=client, clock=clock, config=config.instrument_provider
        )
        ib_account = config.account_id or os.environ.get("TWS_ACCOUNT")
        if not ib_account:
            raise ValueError("IB execution needs account_id (or TWS_ACCOUNT)")
        # As nautilus's node builder does for its own factory: IB is one account for many
        # venues (NASDAQ, ARCA, ...), so account lookups go to the IB account.
        cache.set_specific_venue(IB_VENUE)
        return SeraphimIbkrExecutionClient(
            loop=loop,
            client=client,
            account_id=AccountId(f"{name or IB_VENUE.value}-{ib_account}"),
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            config=config,
            name=name,
            connection_timeout=config.connection_timeout,
            track_option_exercise_from_position_update=(
                config.track_option_exercise_from_position_update
            ),
        )
