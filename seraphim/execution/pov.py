"""POV: children that follow the market's traded volume at a participation rate, with a cap."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import ExecAlgorithmId

from seraphim.execution.algorithm import Parent
from seraphim.execution.algorithm import SeraphimExecAlgorithm
from seraphim.execution.params import PovParams


class PovConfig(ExecAlgorithmConfig, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("POV")


class PovExecAlgorithm(SeraphimExecAlgorithm):
    """
    Percentage of volume: after each bar of ``bar_type``, a market child of ``participation``
    times that bar's volume (at most ``max_child``, at most what is left). The parent ends when
    filled, or at ``duration_secs`` with the rest cancelled (never chased at market).
    """

    params_type = PovParams

    def __init__(self, config: PovConfig | None = None) -> None:
        super().__init__(config or PovConfig())
        self._by_bar_type: dict[BarType, list[Parent]] = {}

    def on_reset(self) -> None:
        super().on_reset()
        self._by_bar_type.clear()

    def begin(self, parent: Parent) -> None:
        params: PovParams = parent.params
        bar_type = BarType.from_str(params.bar_type)
        if bar_type not in self._by_bar_type:
            self._by_bar_type[bar_type] = []
            self.subscribe_bars(bar_type)
        self._by_bar_type[bar_type].append(parent)
        if params.duration_secs is not None:
            end = parent.arrival_ns + int(params.duration_secs * 1e9)
            self.at(parent, end, "end", lambda p: self.finish(p, sweep=False))

    def on_bar(self, bar: Bar) -> None:
        parents = self._by_bar_type.get(bar.bar_type, [])
        for parent in list(parents):
            if parent.finishing:
                parents.remove(parent)
                continue
            params: PovParams = parent.params
            want = Decimal(str(params.participation)) * bar.volume.as_decimal()
            if params.max_child is not None:
                want = min(want, params.max_child)
            self.send_child(parent, want)
            if self.remaining(parent) <= 0 or self._below_minimum(parent):
                parents.remove(parent)
                self.finish(parent)

    def _below_minimum(self, parent: Parent) -> bool:
        minimum = parent.instrument.min_quantity
        return minimum is not None and self.remaining(parent) < minimum.as_decimal()
