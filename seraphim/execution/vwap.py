"""VWAP: children at equal intervals, each sized by the volume profile for its time of day."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from seraphim.execution.algorithm import Parent
from seraphim.execution.algorithm import SeraphimExecAlgorithm
from seraphim.execution.params import VwapParams
from seraphim.execution.schedule import Slice
from seraphim.execution.schedule import volume_profile
from seraphim.execution.schedule import vwap_schedule


class VwapConfig(ExecAlgorithmConfig, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("VWAP")


class VwapExecAlgorithm(SeraphimExecAlgorithm):
    """
    Volume-weighted execution: ``slices`` children over ``duration_secs``, each a share of the
    parent equal to the profile's share of volume in the time it covers; the profile is given
    (e.g. estimated from the catalog) or estimated from the bars the node has seen.
    """

    params_type = VwapParams

    def __init__(self, config: VwapConfig | None = None) -> None:
        super().__init__(config or VwapConfig())

    def validate(self, order: Order, params: VwapParams) -> None:
        if params.profile is None and not self._seen_bars(params):
            raise ValueError(f"VWAP: no {params.bar_type} bars seen to estimate a profile from")

    def _seen_bars(self, params: VwapParams) -> list[tuple[int, float]]:
        bars = self.cache.bars(BarType.from_str(params.bar_type))
        return [(bar.ts_event, bar.volume.as_double()) for bar in bars]

    def slices(self, parent: Parent) -> list[Slice]:
        params: VwapParams = parent.params
        bucket_ns = params.profile_bucket_secs * 10**9
        profile = params.profile or volume_profile(
            self._seen_bars(params), 86_400 // params.profile_bucket_secs, bucket_ns
        )
        instrument = parent.instrument
        minimum = instrument.min_quantity.as_decimal() if instrument.min_quantity else Decimal(0)
        return vwap_schedule(
            parent.quantity,
            parent.arrival_ns,
            int(params.duration_secs * 1e9),
            params.slices,
            profile,
            bucket_ns,
            instrument.size_increment.as_decimal(),
            minimum,
        )

    def begin(self, parent: Parent) -> None:
        params: VwapParams = parent.params
        self.follow(parent, self.slices(parent), params.child, params.limit_offset_ticks)
