"""
One backtest per parameter set, fast: the bars of a spec are read from the catalog once and
handed to every trial's engine, built from the spec exactly as ``seraphim.backtest.runner``
builds it (same strategies, risk controller, equity recorder, fee and fill models), so a trial's
metrics are those of ``run_backtest``. Between trials the engine is reset and given the next
trial's strategies rather than rebuilt (``seraphim.research.reuse``).
"""

from __future__ import annotations

import bisect
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import msgspec
import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.model.data import Bar

from seraphim.backtest.config import BacktestSpec
from seraphim.backtest.config import build_run_config
from seraphim.backtest.fills import fills_frame
from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.backtest.metrics import curves_from_samples
from seraphim.backtest.metrics import round_trips
from seraphim.backtest.recorder import EquityRecorder
from seraphim.backtest.runner import check_catalog_has_data
from seraphim.backtest.runner import equity_recorder
from seraphim.backtest.runner import final_curves
from seraphim.backtest.runner import performance_metrics
from seraphim.research.params import Params
from seraphim.research.params import strategy_params
from seraphim.research.reuse import ReusedEngine
from seraphim.research.reuse import with_venue_reset


@dataclass
class TrialResult:
    """A trial's parameters and outcome; ``status`` is ok, skipped, pruned or error."""

    number: int
    params: Params
    status: str = "ok"
    reason: str = ""
    metrics: dict = field(default_factory=dict)
    # Only when asked for (walk-forward, reports, bias checks):
    curves: Curves | None = None
    trade_pnls: list[float] = field(default_factory=list)  # net, per round trip
    orders: list[tuple] = field(default_factory=list)  # (ts_init, strategy, instrument, side)
    fills: pd.DataFrame | None = None
    seconds: float = 0.0


def spec_with(
    spec: BacktestSpec,
    params: Params,
    start: str | None = None,
    end: str | None = None,
) -> BacktestSpec:
    """``spec`` with ``params`` over its strategies' own and, when given, another window."""
    overrides = strategy_params(params, len(spec.strategies))
    strategies = [
        msgspec.structs.replace(entry, params={**entry.params, **extra})
        for entry, extra in zip(spec.strategies, overrides, strict=True)
    ]
    return msgspec.structs.replace(
        spec,
        strategies=strategies,
        start=start if start is not None else spec.start,
        end=end if end is not None else spec.end,
    )


class TrialRunner:
    """Runs trials of one spec in this process; the spec's bars are loaded once."""

    def __init__(self, spec: BacktestSpec) -> None:
        check_catalog_has_data(spec)
        self.spec = msgspec.structs.replace(spec, chunk_size=None)
        run_config = build_run_config(self.spec)
        self._bars: list[Bar] = []
        for data_config in run_config.data:
            result = BacktestNode.load_data_config(data_config, run_config.start, run_config.end)
            self._bars.extend(result.data)
        self._bars.sort(key=lambda bar: bar.ts_init)
        self._stamps = [bar.ts_init for bar in self._bars]
        self._engines = ReusedEngine()

    def run(
        self,
        number: int,
        params: Params,
        start: str | None = None,
        end: str | None = None,
        keep_detail: bool = False,
        checkpoint: Checkpoint | None = None,
    ) -> TrialResult:
        """
        One backtest; a failure (bad parameters, a strategy error) is a result, not a raise.
        With ``checkpoint``, the window runs in ``CHECKPOINTS`` parts and the checkpoint hears
        the metrics so far after each; when it answers True the trial stops (``pruned``).
        """
        began = time.perf_counter()
        result = TrialResult(number, dict(params))
        try:
            metrics, curves, fills, orders = self._backtest(
                spec_with(self.spec, params, start, end), checkpoint, keep_detail
            )
        except _Stopped as e:
            result.status, result.reason = "pruned", f"stopped after part {e.args[0]}"
        except Exception as e:
            result.status, result.reason = "error", _one_line(e)
        else:
            result.metrics = metrics
            if keep_detail:
                result.curves, result.orders, result.fills = curves, orders, fills
                result.trade_pnls = [float(p) for p in round_trips(fills)["pnl"]]
        result.seconds = time.perf_counter() - began
        return result

    @staticmethod
    def synthetic(spec: BacktestSpec) -> list[str]:
        """The spec's bar types whose data is synthetic (reports label them)."""
        return check_catalog_has_data(spec).synthetic

    def _window(self, spec: BacktestSpec) -> list[Bar]:
        lo = 0 if spec.start is None else bisect.bisect_left(self._stamps, _ns(spec.start))
        hi = (
            len(self._bars)
            if spec.end is None
            else bisect.bisect_right(self._stamps, _ns(spec.end))
        )
        return self._bars[lo:hi]

    def _backtest(
        self, spec: BacktestSpec, checkpoint: Checkpoint | None = None, detail: bool = False
    ) -> tuple[dict, Curves, pd.DataFrame, list[tuple]]:
        """The run's metrics; with ``detail`` also nautilus's fills report and the orders."""
        run_config = build_run_config(spec)
        # nautilus's own portfolio statistics are not part of a trial's metrics: skip them.
        engine_config = msgspec.structs.replace(run_config.engine, run_analysis=False)
        run_config = with_venue_reset(msgspec.structs.replace(run_config, engine=engine_config))
        try:
            engine = self._engines.engine_for(run_config)
            recorder = equity_recorder(engine)
            if checkpoint is None:
                self._load(engine, spec)
                engine.run(start=spec.start, end=spec.end, run_config_id=run_config.id)
            else:
                # nautilus's streaming mode, as BacktestNode streams chunks from a catalog
                bars = self._window(spec)
                engine.clear_data()
                self._engines.window = None
                size = -(-len(bars) // CHECKPOINTS)
                for part, lo in enumerate(range(0, len(bars), size), start=1):
                    engine.add_data(bars[lo : lo + size], sort=True)
                    engine.run(spec.start, spec.end, run_config.id, streaming=True)
                    engine.clear_data()
                    if lo + size < len(bars) and checkpoint(part, _curve_metrics(recorder)):
                        engine.end()
                        raise _Stopped(part)
                engine.end()
            curves = final_curves(recorder)
            cached = engine.cache.orders()
            fills = engine.trader.generate_fills_report() if detail else fills_frame(cached)
            orders = (
                sorted(
                    (o.ts_init, o.strategy_id.value, o.instrument_id.value, o.side_string())
                    for o in cached
                )
                if detail
                else []
            )
        except _Stopped:
            raise
        except BaseException:
            self._engines.discard()  # a run that failed half-way leaves no engine to reuse
            raise
        return performance_metrics(curves, fills, len(cached)), curves, fills, orders

    def _load(self, engine: BacktestEngine, spec: BacktestSpec) -> None:
        """The window's bars into the engine, unless the previous trial left them there."""
        window = (spec.start, spec.end)
        if self._engines.window == window:
            return
        engine.clear_data()
        engine.add_data(self._window(spec), sort=False)
        engine.sort_data()
        self._engines.window = window

    @property
    def engine_builds(self) -> int:
        """How many nautilus engines this runner has built (the rest of its trials reused one)."""
        return self._engines.builds

    def close(self) -> None:
        """Dispose of the kept engine."""
        self._engines.discard()

    def __enter__(self) -> TrialRunner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


CHECKPOINTS = 4  # parts of a window a checkpointed (prunable) trial reports after

Checkpoint = Callable[[int, dict], bool]


class _Stopped(Exception):
    """A checkpoint stopped the trial (Optuna pruned it)."""


def _curve_metrics(recorder: EquityRecorder) -> dict:
    return curve_metrics(curves_from_samples(recorder.equity)) if recorder.equity else {}


def _ns(when: str) -> int:
    stamp = pd.Timestamp(when)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {text[0] if text else ''}{where}"
