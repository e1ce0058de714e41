"""
The operator strategy: manual orders are submitted by this nautilus ``Strategy`` (default id
``OPERATOR-OP``), so they pass the same risk gate as every strategy order and are attributed to
the operator in the cache, the journal and the venue's order tags.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from seraphim.ops.commands import CommandError
from seraphim.ops.commands import ManualOrder

# Its order id tag ("OP") cannot collide with the tags nautilus numbers strategies with.
OPERATOR_STRATEGY_ID = "OPERATOR-OP"


class OperatorStrategyConfig(StrategyConfig, frozen=True):
    # nautilus names a strategy "{strategy_id}-{order_id_tag}".
    strategy_id: str | None = OPERATOR_STRATEGY_ID.split("-", maxsplit=1)[0]
    order_id_tag: str | None = OPERATOR_STRATEGY_ID.split("-")[1]


class OperatorStrategy(Strategy):
    """Trades only when an operator tells it to; never on its own."""

    def __init__(self, config: OperatorStrategyConfig | None = None) -> None:
        super().__init__(config or OperatorStrategyConfig())

    def submit_manual(self, manual: ManualOrder, operator: str) -> Order:
        """Build and submit the order; ``CommandError`` for an instrument this node lacks."""
        try:
            instrument_id = InstrumentId.from_str(manual.instrument_id)
        except ValueError:
            raise CommandError(f"invalid instrument id {manual.instrument_id!r}") from None
        instrument = self.cache.instrument(instrument_id)
        if instrument is None:
            raise CommandError(f"unknown instrument {manual.instrument_id} on this node")
        side = OrderSide.BUY if manual.side == "BUY" else OrderSide.SELL
        quantity = instrument.make_qty(Decimal(manual.quantity))
        if quantity <= 0:
            raise CommandError(
                f"quantity {manual.quantity} rounds to zero at {instrument.id}'s precision"
            )
        tags = [f"operator:{operator}"]
        if manual.type == "LIMIT":
            order = self.order_factory.limit(
                instrument_id,
                side,
                quantity,
                instrument.make_price(Decimal(manual.price)),
                time_in_force=TimeInForce[manual.time_in_force or "GTC"],
                tags=tags,
            )
        else:
            order = self.order_factory.market(
                instrument_id,
                side,
                quantity,
                time_in_force=TimeInForce[manual.time_in_force or "GTC"],
                tags=tags,
            )
        self.submit_order(order)
        return order
