"""TWAP: a parent split into equal children at (optionally jittered) equal intervals."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.model.identifiers import ExecAlgorithmId

from seraphim.execution.algorithm import Parent
from seraphim.execution.algorithm import SeraphimExecAlgorithm
from seraphim.execution.params import TwapParams
from seraphim.execution.schedule import Slice
from seraphim.execution.schedule import twap_schedule


class TwapConfig(ExecAlgorithmConfig, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("TWAP")


def twap_slices(parent: Parent, params: TwapParams) -> list[Slice]:
    """The parent's child schedule (the same in a backtest and a live node)."""
    instrument = parent.instrument
    minimum = instrument.min_quantity.as_decimal() if instrument.min_quantity else Decimal(0)
    return twap_schedule(
        parent.quantity,
        int(params.duration_secs * 1e9),
        params.slices,
        params.jitter,
        params.seed,
        instrument.size_increment.as_decimal(),
        minimum,
    )


class TwapExecAlgorithm(SeraphimExecAlgorithm):
    """
    Time-weighted execution: ``slices`` equal children over ``duration_secs``, the first at
    once, the others at equal intervals moved by a seeded random ``jitter``; ``market`` or
    ``limit`` children (see ``seraphim.execution.params.TwapParams``).
    """

    params_type = TwapParams

    def __init__(self, config: TwapConfig | None = None) -> None:
        super().__init__(config or TwapConfig())

    def begin(self, parent: Parent) -> None:
        params: TwapParams = parent.params
        self.follow(parent, twap_slices(parent, params), params.child, params.limit_offset_ticks)
