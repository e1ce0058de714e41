"""
The assembly floor: one place turns strategy entries, bar types, account types and risk settings
into the nautilus configs every runner hands its kernel (``ImportableStrategyConfig``s and the
risk ``ImportableControllerConfig``). Backtests, nodes and sweeps call :func:`assemble`; none of
them reads another's configuration module.

The sections it takes (``data``, ``strategies``, ``risk``, ``portfolio`` and the venues' account
types) are the ones a backtest file holds, so a node file can point at a backtest file
(:func:`load_sections`) and run the very same strategy objects. A ``portfolio`` section adds the
allocator actor (``seraphim.allocation``) and sizes every strategy from its allocated capital.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.model.data import BarType
from nautilus_trader.trading.config import ImportableControllerConfig

from seraphim.allocation.config import PortfolioSpec
from seraphim.config_files import read_config_file
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.strategies.registry import get_strategy


class AssemblyError(ValueError):
    """Strategy or risk settings that cannot be assembled; the message names the problem."""


class StrategyEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One strategy by registered name (or ``module:name``) with its parameters."""

    name: str
    params: dict[str, Any] = {}
    risk: RiskLimits | None = None  # limits on this strategy's own book


class DataEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    bar_type: str


class VenueAccount(msgspec.Struct, frozen=True):
    """What the floor needs of a venue: its name and account type (CASH or MARGIN)."""

    name: str
    account_type: str = "CASH"


class Sections(msgspec.Struct, frozen=True):
    """The parts of a backtest file the floor reads (others are the runner's business)."""

    data: list[DataEntry] = []
    strategies: list[StrategyEntry] = []
    risk: RiskConfig = RiskConfig()
    venues: list[VenueAccount] = []
    portfolio: PortfolioSpec | None = None


@dataclass(frozen=True)
class Assembly:
    """What a runner adds to its kernel config."""

    strategies: list[ImportableStrategyConfig]
    controller: ImportableControllerConfig
    risk: RiskConfig  # with each entry's own limits under its strategy id
    bar_types: list[BarType]  # the data, with every strategy leg's bars added
    actors: list[ImportableActorConfig] = field(default_factory=list)  # the portfolio allocator


def load_sections(path: str | Path) -> Sections:
    """The data, strategies, risk, venues and portfolio of a backtest file (YAML or JSON)."""
    raw = read_config_file(path, error=AssemblyError, what="backtest config")
    if not isinstance(raw, dict):
        raise AssemblyError(f"{path}: expected a mapping at the top level")
    wanted = {key: raw[key] for key in Sections.__struct_fields__ if key in raw}
    try:
        return msgspec.convert(wanted, Sections, strict=False)
    except msgspec.ValidationError as e:
        raise AssemblyError(f"{path}: {e}") from None


def parse_bar_types(data: list[DataEntry], source: str) -> list[BarType]:
    bar_types = []
    for entry in data:
        try:
            bar_types.append(BarType.from_str(entry.bar_type))
        except ValueError as e:
            raise AssemblyError(f"{source}: bad bar_type {entry.bar_type!r}: {e}") from None
    return bar_types


def with_second_legs(
    entries: list[StrategyEntry],
    bar_types: list[BarType],
    source: str,
) -> tuple[list[StrategyEntry], list[BarType]]:
    """
    Multi-instrument strategies (pairs, cross_venue_arb) name their other legs in parameters
    ``instrument_<x>`` / ``bar_type_<x>``. A missing ``bar_type_<x>`` defaults to the strategy's
    bar spec on that instrument, and every leg's bars join the data when not there, so
    ``--strategy pairs --instrument BTC/USD.KRAKEN --param instrument_b=ETH/USD.KRAKEN`` runs.
    """
    first = bar_types[0]
    data = [str(b) for b in bar_types]
    out = []
    for entry in entries:
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
            raise AssemblyError(f"{source}: strategy {entry.name!r}: {e}") from None
        out.append(msgspec.structs.replace(entry, params=params))
    return out, [BarType.from_str(b) for b in data]


def strategy_id(entry: StrategyEntry, index: int) -> str:
    """The nautilus strategy id an entry runs as (``<Class>-<order_id_tag>``)."""
    if "strategy_id" in entry.params:
        return str(entry.params["strategy_id"])
    tag = entry.params.get("order_id_tag", f"{index:03d}")
    return f"{_registered(entry).strategy_cls.__name__}-{tag}"


def risk_with_strategy_limits(risk: RiskConfig, entries: list[StrategyEntry]) -> RiskConfig:
    """``risk`` with each entry's own ``risk`` limits added under its strategy id."""
    per_strategy = dict(risk.strategies)
    for index, entry in enumerate(entries):
        if entry.risk is not None:
            per_strategy[strategy_id(entry, index)] = entry.risk
    combined = msgspec.structs.replace(risk, strategies=per_strategy)
    try:
        combined.validate()
    except ValueError as e:
        raise AssemblyError(f"risk: {e}") from None
    return combined


def risk_controller_config(risk: RiskConfig) -> ImportableControllerConfig:
    """The kernel controller that installs Seraphim's risk layer (backtest and live alike)."""
    return ImportableControllerConfig(
        controller_path="seraphim.risk.controller:RiskController",
        config_path="seraphim.risk.config:RiskControllerConfig",
        config={"risk": msgspec.json.decode(risk.json())},
    )


def strategy_configs(
    entries: list[StrategyEntry],
    default_bar_type: BarType,
    account_types: dict[str, str],
) -> list[ImportableStrategyConfig]:
    """Strategies with their parameters; instrument and bars default to ``default_bar_type``."""
    configs = []
    for index, entry in enumerate(entries):
        registered = _registered(entry)
        params = {
            "instrument_id": str(default_bar_type.instrument_id),
            "bar_type": str(default_bar_type),
            "order_id_tag": f"{index:03d}",
            **entry.params,
        }
        known = {name for name, _, _ in registered.parameters()} | {"order_id_tag", "strategy_id"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise AssemblyError(
                f"strategy {entry.name!r}: unknown parameter(s) {', '.join(unknown)} "
                f"(see `seraphim strategies list`)",
            )
        try:
            parsed = registered.config_cls.parse(msgspec.json.encode(params))
        except Exception as e:
            raise AssemblyError(f"strategy {entry.name!r}: {e}") from None
        venue = parsed.instrument_id.venue.value
        account = account_types.get(venue)
        needs_margin = getattr(parsed, "needs_margin", None)  # Seraphim configs have it
        if needs_margin is not None and needs_margin() and account != "MARGIN":
            raise AssemblyError(
                f"strategy {entry.name!r} goes short with these parameters, which needs a MARGIN "
                f"account at {venue} (it is {account}; spot cash cannot short)",
            )
        configs.append(
            ImportableStrategyConfig(
                strategy_path=registered.strategy_path,
                config_path=registered.config_path,
                config=params,
            ),
        )
    return configs


_EQUITY_SIZINGS = ("equity_fraction", "atr_risk", "kelly_scale")


def with_portfolio_sizing(entries: list[StrategyEntry], source: str) -> list[StrategyEntry]:
    """
    Under a portfolio a strategy sizes from its allocated capital, so it needs a sizing that
    uses equity: ``trade_size`` is refused; none given means ``equity_fraction: 1.0``.
    """
    out = []
    for entry in entries:
        if "trade_size" in entry.params:
            raise AssemblyError(
                f"{source}: strategy {entry.name!r}: under `portfolio` strategies size from their "
                f"allocated capital; use equity_fraction, atr_risk or kelly_scale, not trade_size",
            )
        if any(name in entry.params for name in _EQUITY_SIZINGS):
            out.append(entry)
        else:
            params = {**entry.params, "equity_fraction": 1.0}
            out.append(msgspec.structs.replace(entry, params=params))
    return out


def portfolio_actor_config(
    portfolio: PortfolioSpec,
    strategy_ids: list[str],
    venues: list[str],
    source: str = "config",
) -> ImportableActorConfig:
    """The kernel actor that allocates capital among ``strategy_ids`` (backtest and live)."""
    try:
        portfolio.validate(strategy_ids)
    except ValueError as e:
        raise AssemblyError(f"{source}: {e}") from None
    return ImportableActorConfig(
        actor_path="seraphim.allocation.actor:PortfolioAllocator",
        config_path="seraphim.allocation.config:PortfolioAllocatorConfig",
        config={
            "portfolio": msgspec.to_builtins(portfolio),
            "strategy_ids": strategy_ids,
            "venues": venues,
        },
    )


def assemble(
    entries: list[StrategyEntry],
    bar_types: list[BarType],
    account_types: dict[str, str],
    risk: RiskConfig,
    source: str = "config",
    portfolio: PortfolioSpec | None = None,
) -> Assembly:
    """Strategy configs, the risk controller, the allocator and the bar types, built once."""
    if not bar_types:
        raise AssemblyError(f"{source}: `data` names no bar types")
    if not entries:
        raise AssemblyError(f"{source}: `strategies` is empty")
    entries, bar_types = with_second_legs(entries, bar_types, source)
    actors = []
    if portfolio is not None:
        entries = with_portfolio_sizing(entries, source)
        ids = [strategy_id(entry, index) for index, entry in enumerate(entries)]
        actors.append(portfolio_actor_config(portfolio, ids, sorted(account_types), source))
    combined = risk_with_strategy_limits(risk, entries)
    return Assembly(
        strategies=strategy_configs(entries, bar_types[0], account_types),
        controller=risk_controller_config(combined),
        risk=combined,
        bar_types=bar_types,
        actors=actors,
    )


def _registered(entry: StrategyEntry):
    try:
        return get_strategy(entry.name)
    except KeyError as e:
        raise AssemblyError(str(e.args[0])) from None
