"""
One nautilus ``BacktestEngine`` kept across a runner's trials, as nautilus's "repeated runs"
pattern: ``reset()``, the old strategies cleared, the next trial's added. Everything else in
the kernel must come back to its built state on reset, so an engine is reused only when it holds
components known to do so: Seraphim's ``EquityRecorder``, ``RiskController`` and execution
algorithms (their ``on_reset``), and venues carrying ``VenueReset`` (fee and fill models). Any
other actor, controller or execution algorithm, or a change of anything but the strategies,
builds afresh.
"""

from __future__ import annotations

import msgspec
from nautilus_trader.backtest.config import BacktestRunConfig
from nautilus_trader.backtest.config import FillModelFactory
from nautilus_trader.backtest.config import ImportableFillModelConfig
from nautilus_trader.backtest.config import SimulationModuleConfig
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.modules import SimulationModule
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import StrategyFactory

from seraphim.backtest.analyzer import use_columnar_analyzer
from seraphim.execution import exec_algorithm_configs


class VenueResetConfig(SimulationModuleConfig, frozen=True):
    fill_model: ImportableFillModelConfig | None = None


class VenueReset(SimulationModule):
    """
    A venue module that puts the venue's fee and fill models back as built when the exchange
    resets (nautilus resets neither): the fee model's own ``reset`` (Kraken's rolling 30-day
    volume), and a new fill model from the venue's config. nautilus's ``FillModel`` seeds the
    global ``random`` when built, so a rebuilt one replays a fresh engine's draws.
    """

    def process(self, ts_now: int) -> None:
        pass

    def log_diagnostics(self, logger) -> None:
        pass

    def reset(self) -> None:
        reset_fees = getattr(self.exchange.fee_model, "reset", None)
        if reset_fees is not None:
            reset_fees()
        if self.config.fill_model is not None:
            self.exchange.set_fill_model(FillModelFactory.create(self.config.fill_model))


RESETTABLE_ACTORS = {"seraphim.backtest.recorder:EquityRecorder"}
RESETTABLE_CONTROLLERS = {"seraphim.risk.controller:RiskController"}
RESETTABLE_EXEC_ALGORITHMS = {c.exec_algorithm_path for c in exec_algorithm_configs()}


def with_venue_reset(run_config: BacktestRunConfig) -> BacktestRunConfig:
    """``run_config`` with a ``VenueReset`` module on every venue."""
    venues = [
        msgspec.structs.replace(
            venue,
            modules=[
                *(venue.modules or []),
                ImportableActorConfig(
                    actor_path=f"{__name__}:VenueReset",
                    config_path=f"{__name__}:VenueResetConfig",
                    config={"fill_model": msgspec.to_builtins(venue.fill_model)},
                ),
            ],
        )
        for venue in run_config.venues
    ]
    return msgspec.structs.replace(run_config, venues=venues)


class ReusedEngine:
    """The engine for a run config: the previous one reset when only strategies changed."""

    def __init__(self) -> None:
        self._node: BacktestNode | None = None
        self._run_id = ""
        self._key: BacktestRunConfig | None = None
        self.window: tuple | None = None  # what the caller loaded into the engine, if any
        self.builds = 0  # engines built so far

    def engine_for(self, run_config: BacktestRunConfig) -> BacktestEngine:
        key = _without_strategies(run_config)
        if self._node is not None and key == self._key:
            engine = self._node.get_engine(self._run_id)
            engine.reset()
            clear_strategies(engine)
            engine.add_strategies(
                [StrategyFactory.create(c) for c in run_config.engine.strategies or []]
            )
            return engine
        self.discard()
        node = BacktestNode(configs=[run_config])
        node.build()  # seeds the fill model's RNG, as a fresh run_backtest does
        self.builds += 1
        self._node, self._run_id = node, run_config.id
        self._key = key if _resettable(run_config) else None
        engine = node.get_engine(run_config.id)
        use_columnar_analyzer(engine.kernel.portfolio)  # as run_backtest's engine
        return engine

    def discard(self) -> None:
        """Dispose of the engine (after a failed run, or when done)."""
        if self._node is not None:
            self._node.dispose()
        self._node, self._key, self.window = None, None, None


def clear_strategies(engine: BacktestEngine) -> None:
    """
    ``engine.clear_strategies()`` without its leak: nautilus 1.231 disposes the strategies but
    leaves their handlers on the message bus (nautilus issue #3967), so every later run would
    still hand each bar and event to every strategy that ever ran, and a long sweep would slow
    down trial after trial.
    """
    old = {id(strategy) for strategy in engine.trader.strategies()}
    bus = engine.kernel.msgbus
    for subscription in bus.subscriptions():
        if id(getattr(subscription.handler, "__self__", None)) in old:
            bus.unsubscribe(subscription.topic, subscription.handler)
    engine.clear_strategies()


def _without_strategies(run_config: BacktestRunConfig) -> BacktestRunConfig:
    # Data is loaded by the caller (bars read once per runner), so data configs do not count.
    engine = msgspec.structs.replace(run_config.engine, strategies=[])
    return msgspec.structs.replace(run_config, engine=engine, data=[], start=None, end=None)


def _resettable(run_config: BacktestRunConfig) -> bool:
    engine = run_config.engine
    controller = engine.controller
    return (
        all(a.actor_path in RESETTABLE_ACTORS for a in engine.actors or [])
        and all(
            a.exec_algorithm_path in RESETTABLE_EXEC_ALGORITHMS
            for a in engine.exec_algorithms or []
        )
        and (controller is None or controller.controller_path in RESETTABLE_CONTROLLERS)
        and all(
            m.actor_path == f"{__name__}:VenueReset"
            for venue in run_config.venues
            for m in venue.modules or []
        )
        and all(venue.modules for venue in run_config.venues)
    )
