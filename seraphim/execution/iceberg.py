"""Iceberg: a limit parent shown ``display_qty`` at a time, natively where the venue can."""

from __future__ import annotations

from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from seraphim.execution.algorithm import Parent
from seraphim.execution.algorithm import SeraphimExecAlgorithm
from seraphim.execution.params import IcebergParams


class IcebergConfig(ExecAlgorithmConfig, frozen=True):
    """``native_venues``: venues whose iceberg order type the adapter maps ``display_qty`` to."""

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("ICEBERG")
    native_venues: tuple[str, ...] = ("KRAKEN",)


class IcebergExecAlgorithm(SeraphimExecAlgorithm):
    """
    Natively: one limit child for the whole parent with ``display_qty`` (Kraken's ``iceberg``
    order type through the adapter). Synthetically: one visible limit child of ``display_qty``
    at the parent's price, the next once it has filled, until the parent is done.
    """

    params_type = IcebergParams

    def __init__(self, config: IcebergConfig | None = None) -> None:
        super().__init__(config or IcebergConfig())

    def validate(self, order: Order, params: IcebergParams) -> None:
        if order.order_type != OrderType.LIMIT:
            raise ValueError(f"ICEBERG works limit orders only, not {order.order_type.name}")
        if params.display_qty >= order.quantity.as_decimal():
            raise ValueError(f"ICEBERG display_qty {params.display_qty} is not below the quantity")

    def begin(self, parent: Parent) -> None:
        params: IcebergParams = parent.params
        native = params.native
        if native is None:
            native = parent.instrument.id.venue.value in self.config.native_venues
        parent.state["native"] = native
        primary = self.cache.order(parent.order_id)
        if native:
            display = parent.instrument.make_qty(params.display_qty)
            self.send_child(
                parent, parent.quantity, True, price=primary.price, display_qty=display, whole=True
            )
        else:
            self._show_next(parent)

    def _show_next(self, parent: Parent) -> None:
        params: IcebergParams = parent.params
        primary = self.cache.order(parent.order_id)
        if self.send_child(parent, params.display_qty, True, price=primary.price) is None:
            self.finish(parent)  # the last part (or a rest below the minimum) is the parent

    def on_child_filled(self, parent: Parent, child: Order) -> None:
        if not parent.state["native"] and not parent.finishing:
            self._show_next(parent)
