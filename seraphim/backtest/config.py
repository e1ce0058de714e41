"""
Backtest configuration files (YAML or JSON) and their translation into nautilus's own
``BacktestRunConfig``: Seraphim adds strategies by registered name, Kraken fee tiers, output
settings and defaults, and leaves the running to nautilus's ``BacktestNode``.

Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import yaml
from nautilus_trader.backtest.config import BacktestDataConfig
from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.config import BacktestRunConfig
from nautilus_trader.backtest.config import BacktestVenueConfig
from nautilus_trader.backtest.config import ImportableFeeModelConfig
from nautilus_trader.backtest.config import ImportableFillModelConfig
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.model.data import BarType
from nautilus_trader.persistence.config import DataCatalogConfig
from nautilus_trader.trading.config import ImportableControllerConfig

from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.strategies.registry import get_strategy


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


class DataSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    bar_type: str


class StrategySpecEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    params: dict[str, Any] = {}
    risk: RiskLimits | None = None  # limits on this strategy's own book


class BacktestSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A Seraphim backtest file, e.g. ``configs/demo.yaml``."""

    data: list[DataSpec]
    strategies: list[StrategySpecEntry]
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
    # Answer strategies' warm-up requests (request_bars on start) from the catalog, so a run
    # that starts mid-history begins with warm indicators, as a live node does.
    warmup_from_catalog: bool = False

    def bar_types(self) -> list[BarType]:
        return [BarType.from_str(d.bar_type) for d in self.data]


def load_spec(path: str | Path) -> BacktestSpec:
    """Read a YAML or JSON backtest file; relative paths resolve against its folder."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"backtest config not found: {path}")
    text = path.read_text()
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {e}") from None
    spec = parse_spec(raw, source=str(path))
    base = path.resolve().parent
    return msgspec.structs.replace(
        spec,
        catalog=str((base / spec.catalog).resolve()),
        output=str((base / spec.output).resolve()),
    )


def parse_spec(raw: Any, source: str = "config") -> BacktestSpec:
    try:
        spec = msgspec.convert(raw, BacktestSpec, strict=False)
    except msgspec.ValidationError as e:
        raise ConfigError(f"{source}: {e}") from None
    for entry in spec.data:
        try:
            BarType.from_str(entry.bar_type)
        except ValueError as e:
            raise ConfigError(f"{source}: bad bar_type {entry.bar_type!r}: {e}") from None
    if not spec.data:
        raise ConfigError(f"{source}: `data` names no bar types")
    if not spec.strategies:
        raise ConfigError(f"{source}: `strategies` is empty")
    spec = _with_second_legs(spec, source)
    try:
        risk_config(spec).validate()
    except ValueError as e:
        raise ConfigError(f"{source}: risk: {e}") from None
    venues = {v.name for v in spec.venues}
    for bar_type in spec.bar_types():
        if bar_type.instrument_id.venue.value not in venues:
            raise ConfigError(
                f"{source}: {bar_type} trades on {bar_type.instrument_id.venue}, "
                f"which has no entry in `venues` ({', '.join(sorted(venues))})",
            )
    return spec


def _with_second_legs(spec: BacktestSpec, source: str) -> BacktestSpec:
    """
    Multi-instrument strategies (pairs, cross_venue_arb) name their other legs in parameters
    ``instrument_<x>`` / ``bar_type_<x>``. A missing ``bar_type_<x>`` defaults to the strategy's
    bar spec on that instrument, and every leg's bars are added to ``data`` when not there, so
    ``--strategy pairs --instrument BTC/USD.KRAKEN --param instrument_b=ETH/USD.KRAKEN`` runs.
    """
    first = spec.bar_types()[0]
    data = [d.bar_type for d in spec.data]
    entries = []
    for entry in spec.strategies:
        params = dict(entry.params)
        try:
            own = BarType.from_str(str(params.get("bar_type", first)))
            for key, value in list(params.items()):
                leg = key.removeprefix("instrument_")
                if key.startswith("instrument_") and key != "instrument_id":
                    params.setdefault(
                        f"bar_type_{leg}",
                        f"{value}-{own.spec}-{own.aggregation_source.name}",
                    )
            for key, value in params.items():
                if key.startswith("bar_type") and str(value) not in data:
                    data.append(str(BarType.from_str(str(value))))
        except ValueError as e:
            raise ConfigError(f"{source}: strategy {entry.name!r}: {e}") from None
        entries.append(msgspec.structs.replace(entry, params=params))
    return msgspec.structs.replace(
        spec, strategies=entries, data=[DataSpec(bar_type=b) for b in data]
    )


def strategy_id(spec: BacktestSpec, index: int) -> str:
    """The nautilus strategy id a spec entry runs as (``<Class>-<order_id_tag>``)."""
    entry = spec.strategies[index]
    if "strategy_id" in entry.params:
        return str(entry.params["strategy_id"])
    tag = entry.params.get("order_id_tag", f"{index:03d}")
    try:
        registered = get_strategy(entry.name)
    except KeyError as e:
        raise ConfigError(str(e.args[0])) from None
    return f"{registered.strategy_cls.__name__}-{tag}"


def risk_config(spec: BacktestSpec) -> RiskConfig:
    """The spec's risk section with each strategy entry's own ``risk`` limits added by id."""
    per_strategy = dict(spec.risk.strategies)
    for index, entry in enumerate(spec.strategies):
        if entry.risk is not None:
            per_strategy[strategy_id(spec, index)] = entry.risk
    return msgspec.structs.replace(spec.risk, strategies=per_strategy)


def risk_controller_config(risk: RiskConfig) -> ImportableControllerConfig:
    """The kernel controller that installs Seraphim's risk layer (backtest and live alike)."""
    return ImportableControllerConfig(
        controller_path="seraphim.risk.controller:RiskController",
        config_path="seraphim.risk.config:RiskControllerConfig",
        config={"risk": msgspec.json.decode(risk.json())},
    )


def strategy_configs(spec: BacktestSpec) -> list[ImportableStrategyConfig]:
    """Registered strategies with their parameters; instrument and bars default to data[0]."""
    first = spec.bar_types()[0]
    accounts = {v.name: v.account_type.upper() for v in spec.venues}
    configs = []
    for index, entry in enumerate(spec.strategies):
        try:
            registered = get_strategy(entry.name)
        except KeyError as e:
            raise ConfigError(str(e.args[0])) from None
        params = {
            "instrument_id": str(first.instrument_id),
            "bar_type": str(first),
            "order_id_tag": f"{index:03d}",
            **entry.params,
        }
        known = {name for name, _, _ in registered.parameters()} | {"order_id_tag", "strategy_id"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"strategy {entry.name!r}: unknown parameter(s) {', '.join(unknown)} "
                f"(see `seraphim strategies list`)",
            )
        try:
            parsed = registered.config_cls.parse(msgspec.json.encode(params))
        except Exception as e:
            raise ConfigError(f"strategy {entry.name!r}: {e}") from None
        venue = accounts.get(parsed.instrument_id.venue.value)
        if getattr(parsed, "needs_margin", lambda: False)() and venue != "MARGIN":
            raise ConfigError(
                f"strategy {entry.name!r} goes short with these parameters, which needs a MARGIN "
                f"account at {parsed.instrument_id.venue} (it is {venue}; spot cash cannot short)",
            )
        configs.append(
            ImportableStrategyConfig(
                strategy_path=registered.strategy_path,
                config_path=registered.config_path,
                config=params,
            ),
        )
    return configs


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
    engine = BacktestEngineConfig(
        trader_id=spec.trader_id,
        strategies=strategy_configs(spec),
        actors=[recorder],
        logging=LoggingConfig(log_level=spec.log_level, bypass_logging=spec.log_level == "OFF"),
        risk_engine=RiskEngineConfig(bypass=spec.bypass_risk_engine),
        controller=risk_controller_config(risk_config(spec)),
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
