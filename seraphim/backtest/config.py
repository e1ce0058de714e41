"""
Backtest configuration files (YAML or JSON) and their translation into nautilus's own
``BacktestRunConfig``: Seraphim adds strategies by registered name, Kraken fee tiers, output
settings and defaults, and leaves the running to nautilus's ``BacktestNode``.

Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.backtest.config import BacktestDataConfig
from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.config import BacktestRunConfig
from nautilus_trader.backtest.config import BacktestVenueConfig
from nautilus_trader.backtest.config import ImportableFeeModelConfig
from nautilus_trader.backtest.config import ImportableFillModelConfig
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.model.data import BarType
from nautilus_trader.persistence.config import DataCatalogConfig

from seraphim.allocation.config import PortfolioSpec
from seraphim.assembly import Assembly
from seraphim.assembly import AssemblyError
from seraphim.assembly import DataEntry
from seraphim.assembly import StrategyEntry
from seraphim.assembly import assemble
from seraphim.assembly import parse_bar_types
from seraphim.config_files import read_config_file
from seraphim.execution import exec_algorithm_configs
from seraphim.risk.config import RiskConfig


class ConfigError(ValueError):
    """A backtest configuration that cannot run; the message names the field and problem."""


class FillModelSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """nautilus FillModel: probability of limit fills and of one tick of slippage."""

    prob_fill_on_limit: float = 1.0
    prob_slippage: float = 0.0
    random_seed: int | None = 42


class FeeSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Kraken fees: a tier from 30-day volume (USD), optionally rolling, or fixed rates."""

    volume_30d: float = 0.0
    rolling: bool = True
    maker: float | None = None
    taker: float | None = None


class VenueSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str = "KRAKEN"
    account_type: str = "CASH"
    oms_type: str = "NETTING"
    starting_balances: list[str] = msgspec.field(default_factory=lambda: ["100000 USD"])
    base_currency: str | None = None
    default_leverage: float = 1.0
    fees: FeeSpec = FeeSpec()
    fill_model: FillModelSpec = FillModelSpec()


class BacktestSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A Seraphim backtest file, e.g. ``configs/demo.yaml``."""

    data: list[DataEntry]
    strategies: list[StrategyEntry]
    catalog: str = "catalog"
    output: str = "output/backtest"
    name: str = "backtest"
    venues: list[VenueSpec] = msgspec.field(default_factory=lambda: [VenueSpec()])
    start: str | None = None
    end: str | None = None
    chunk_size: int | None = 100_000
    report_currency: str = "USD"
    log_level: str = "ERROR"
    trader_id: str = "BACKTESTER-001"
    bypass_risk_engine: bool = False
    risk: RiskConfig = RiskConfig()  # Seraphim's pre-trade rules and portfolio guard
    portfolio: PortfolioSpec | None = None  # capital allocation across the strategies
    # Answer strategies' warm-up requests (request_bars on start) from the catalog, so a run
    # that starts mid-history begins with warm indicators, as a live node does.
    warmup_from_catalog: bool = False

    def bar_types(self) -> list[BarType]:
        return [BarType.from_str(d.bar_type) for d in self.data]

    def account_types(self) -> dict[str, str]:
        return {v.name: v.account_type.upper() for v in self.venues}

    def assembly(self, source: str = "config") -> Assembly:
        """The strategies and risk controller, from the assembly floor."""
        try:
            return assemble(
                self.strategies,
                self.bar_types(),
                self.account_types(),
                self.risk,
                source,
                self.portfolio,
            )
        except AssemblyError as e:
            raise ConfigError(str(e)) from None


def load_spec(path: str | Path) -> BacktestSpec:
    """Read a YAML or JSON backtest file; relative paths resolve against its folder."""
    raw = read_config_file(path, error=ConfigError, what="backtest config")
    spec = parse_spec(raw, source=str(path))
    base = Path(path).resolve().parent
    return msgspec.structs.replace(
        spec,
        catalog=str((base / spec.catalog).resolve()),
        output=str((base / spec.output).resolve()),
    )


def parse_spec(raw: Any, source: str = "config") -> BacktestSpec:
    """Validate a backtest file's contents; every strategy leg's bars join ``data``."""
    try:
        spec = msgspec.convert(raw, BacktestSpec, strict=False)
        bar_types = parse_bar_types(spec.data, source)
        assembly = spec.assembly(source)
    except msgspec.ValidationError as e:
        raise ConfigError(f"{source}: {e}") from None
    except AssemblyError as e:
        raise ConfigError(str(e)) from None
    if len(assembly.bar_types) > len(bar_types):
        spec = msgspec.structs.replace(
            spec, data=[DataEntry(bar_type=str(b)) for b in assembly.bar_types]
        )
    venues = {v.name for v in spec.venues}
    for bar_type in spec.bar_types():
        if bar_type.instrument_id.venue.value not in venues:
            raise ConfigError(
                f"{source}: {bar_type} trades on {bar_type.instrument_id.venue}, "
                f"which has no entry in `venues` ({', '.join(sorted(venues))})",
            )
    return spec


def _venue_config(venue: VenueSpec) -> BacktestVenueConfig:
    return BacktestVenueConfig(
        name=venue.name,
        oms_type=venue.oms_type,
        account_type=venue.account_type,
        starting_balances=venue.starting_balances,
        base_currency=venue.base_currency,
        default_leverage=venue.default_leverage,
        fill_model=ImportableFillModelConfig(
            fill_model_path="nautilus_trader.backtest.models:FillModel",
            config_path="nautilus_trader.backtest.config:FillModelConfig",
            config=msgspec.to_builtins(venue.fill_model),
        ),
        fee_model=ImportableFeeModelConfig(
            fee_model_path="seraphim.backtest.fees:KrakenFeeModel",
            config_path="seraphim.backtest.fees:KrakenFeeModelConfig",
            config=msgspec.to_builtins(venue.fees),
        ),
    )


def build_run_config(spec: BacktestSpec) -> BacktestRunConfig:
    """The nautilus ``BacktestRunConfig`` for a spec (streaming from the catalog in chunks)."""
    recorder = ImportableActorConfig(
        actor_path="seraphim.backtest.recorder:EquityRecorder",
        config_path="seraphim.backtest.recorder:EquityRecorderConfig",
        config={
            "bar_types": [str(b) for b in spec.bar_types()],
            "venues": [v.name for v in spec.venues],
            "currency": spec.report_currency,
        },
    )
    assembly = spec.assembly()
    engine = BacktestEngineConfig(
        trader_id=spec.trader_id,
        strategies=assembly.strategies,
        exec_algorithms=exec_algorithm_configs(),
        actors=[recorder, *assembly.actors],
        logging=LoggingConfig(log_level=spec.log_level, bypass_logging=spec.log_level == "OFF"),
        risk_engine=RiskEngineConfig(bypass=spec.bypass_risk_engine),
        controller=assembly.controller,
        catalogs=[DataCatalogConfig(path=spec.catalog)] if spec.warmup_from_catalog else None,
    )
    data = [
        BacktestDataConfig(
            catalog_path=spec.catalog,
            data_cls="nautilus_trader.model.data:Bar",
            instrument_id=bar_type.instrument_id,
            bar_types=[str(bar_type)],
            start_time=spec.start,
            end_time=spec.end,
        )
        for bar_type in spec.bar_types()
    ]
    return BacktestRunConfig(
        venues=[_venue_config(v) for v in spec.venues],
        data=data,
        engine=engine,
        chunk_size=spec.chunk_size,
        raise_exception=True,
        dispose_on_completion=False,
        start=spec.start,
        end=spec.end,
    )
