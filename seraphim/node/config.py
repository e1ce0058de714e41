"""
Node configuration files (``node_configs/*.yaml``) and their translation into nautilus's
``TradingNodeConfig``.

A node file names the venue connection (Kraken, or the local exchange), the execution mode
(``kraken``: real orders; ``sandbox``: nautilus's paper fills on live data; ``none``: data only)
and the strategies, in the same shape as a backtest file, or by pointing at a backtest file
(``backtest: ../configs/demo.yaml``) so the very same strategy classes and parameters run.
Credentials are never in the file: it names the environment variables holding them.
Relative paths are relative to the file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LiveDataEngineConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.model.identifiers import TraderId

from seraphim.adapters.ibkr.node import ACCOUNT_TYPE as IB_ACCOUNT_TYPE
from seraphim.adapters.kraken.common.constants import KRAKEN
from seraphim.adapters.kraken.node import ACCOUNT_TYPE as KRAKEN_ACCOUNT_TYPE
from seraphim.adapters.kraken.node import KrakenSectionError
from seraphim.adapters.kraken.node import KrakenSpec
from seraphim.adapters.kraken.node import kraken_node_clients
from seraphim.adapters.kraken.node import refuse_secrets
from seraphim.allocation.config import PortfolioSpec
from seraphim.assembly import Assembly
from seraphim.assembly import AssemblyError
from seraphim.assembly import DataEntry
from seraphim.assembly import Sections
from seraphim.assembly import StrategyEntry
from seraphim.assembly import VenueAccount
from seraphim.assembly import assemble
from seraphim.assembly import load_sections
from seraphim.assembly import parse_bar_types
from seraphim.assembly import risk_controller_config
from seraphim.config_files import read_config_file
from seraphim.execution import exec_algorithm_configs
from seraphim.risk.config import RiskConfig

EXECUTION_MODES = ("kraken", "sandbox", "none")


class NodeConfigError(ValueError):
    """A node file that cannot run; the message names the field and the problem."""


class SandboxSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """nautilus's sandbox (paper) execution on live data."""

    starting_balances: list[str] = msgspec.field(default_factory=lambda: ["100000 USD"])
    account_type: str = "CASH"
    bar_execution: bool = True
    trade_execution: bool = True


class ImportableEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A strategy that is not in Seraphim's registry, by import path."""

    strategy_path: str
    config_path: str
    config: dict[str, Any] = {}


class NodeSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A Seraphim node file, e.g. ``node_configs/kraken_sim.yaml``."""

    name: str = "node"
    trader_id: str = "SERAPHIM-001"
    environment: str = "live"  # sim | live | paper (informational)
    kraken: KrakenSpec | None = KrakenSpec()  # null: no Kraken clients (e.g. an IB-only node)
    ibkr: dict[str, Any] | None = None  # Interactive Brokers, see seraphim.adapters.ibkr.config
    execution: str = "kraken"
    sandbox: SandboxSpec = SandboxSpec()
    backtest: str | None = None  # take data and strategies from this backtest file
    data: list[DataEntry] = []
    strategies: list[StrategyEntry] = []
    risk: RiskConfig = RiskConfig()  # for the strategies above (a backtest file brings its own)
    portfolio: PortfolioSpec | None = None  # capital allocation across the strategies above
    importable_strategies: list[ImportableEntry] = []
    claim_external_orders: bool = True
    reconciliation: bool = True
    reconciliation_lookback_mins: int | None = None
    inflight_check_interval_ms: int = 2_000
    inflight_check_threshold_ms: int = 5_000
    log_level: str = "INFO"
    log_file: str | None = None
    timeout_connection: float = 30.0
    timeout_reconciliation: float = 20.0
    timeout_disconnection: float = 10.0
    timeout_post_stop: float = 3.0


def load_node_spec(path: str | Path) -> tuple[NodeSpec, Path]:
    """Read a YAML or JSON node file; returns the spec and its folder."""
    raw = read_config_file(path, error=NodeConfigError, what="node config")
    return parse_node_spec(raw, str(path)), Path(path).resolve().parent


def parse_node_spec(raw: Any, source: str = "node config") -> NodeSpec:
    """Validate a node file's contents."""
    if not isinstance(raw, dict):
        raise NodeConfigError(f"{source}: expected a mapping at the top level")
    try:
        refuse_secrets(raw)
        refuse_secrets(raw.get("kraken"))
    except KrakenSectionError as e:
        raise NodeConfigError(f"{source}: {e}") from None
    try:
        spec = msgspec.convert(raw, NodeSpec, strict=False)
    except msgspec.ValidationError as e:
        raise NodeConfigError(f"{source}: {e}") from None
    if spec.execution not in EXECUTION_MODES:
        raise NodeConfigError(
            f"{source}: execution must be one of {', '.join(EXECUTION_MODES)}, "
            f"was {spec.execution!r}"
        )
    return spec


def node_sections(spec: NodeSpec, base: Path) -> Sections:
    """The strategies, data and risk a node runs: its backtest file's, or its own."""
    if spec.backtest:
        return load_sections((base / spec.backtest).resolve())
    venues = {d.bar_type.split("-")[0].rsplit(".", 1)[-1] for d in spec.data} | {KRAKEN}
    return Sections(
        data=spec.data,
        strategies=spec.strategies,
        risk=spec.risk,
        portfolio=spec.portfolio,
        # Each venue's account type: Kraken's, or IB's for the venues IB routes to.
        venues=[
            VenueAccount(v, KRAKEN_ACCOUNT_TYPE if v == KRAKEN else IB_ACCOUNT_TYPE)
            for v in sorted(venues)
        ],
    )


def node_assembly(spec: NodeSpec, base: Path) -> Assembly | None:
    """The Seraphim strategies and risk controller from the assembly floor (None: none)."""
    try:
        sections = node_sections(spec, base)
        if not sections.strategies:
            return None
        source = spec.backtest or f"{spec.name} strategies"
        return assemble(
            sections.strategies,
            parse_bar_types(sections.data, source),
            {v.name: v.account_type.upper() for v in sections.venues},
            sections.risk,
            source,
            sections.portfolio,
        )
    except AssemblyError as e:
        raise NodeConfigError(str(e)) from None


def strategy_configs_for(
    spec: NodeSpec, assembly: Assembly | None
) -> list[ImportableStrategyConfig]:
    """The strategies, built exactly as a backtest builds them (same classes and parameters)."""
    extra = [
        ImportableStrategyConfig(
            strategy_path=e.strategy_path, config_path=e.config_path, config=dict(e.config)
        )
        for e in spec.importable_strategies
    ]
    configs = (assembly.strategies if assembly is not None else []) + extra
    if not spec.claim_external_orders:
        return configs
    # nautilus lets one strategy claim an instrument's external orders: the first one trading
    # it does (several strategies on one instrument would stop the node from building).
    claimed = {str(i) for entry in configs for i in entry.config.get("external_order_claims") or []}
    out = []
    for entry in configs:
        params = dict(entry.config)
        instrument = params.get("instrument_id")
        if instrument is not None and "external_order_claims" not in params:
            params["external_order_claims"] = [] if str(instrument) in claimed else [instrument]
            claimed.add(str(instrument))
        out.append(
            ImportableStrategyConfig(
                strategy_path=entry.strategy_path, config_path=entry.config_path, config=params
            )
        )
    return out


def instrument_ids_for(strategies: list[ImportableStrategyConfig]) -> list[str]:
    """The instruments the strategies trade."""
    return sorted(
        {str(s.config["instrument_id"]) for s in strategies if "instrument_id" in s.config}
    )


def build_node_config(spec: NodeSpec, base: Path, *, log_level: str | None = None):
    """
    The nautilus ``TradingNodeConfig`` plus the (name -> factory) pairs to register.

    Returns ``(config, data_factories, exec_factories)``.
    """
    assembly = node_assembly(spec, base)
    strategies = strategy_configs_for(spec, assembly)
    instrument_ids = instrument_ids_for(strategies)
    venues: list[Any] = []  # each venue's client configs and factories (KrakenClients, ...)
    if spec.kraken is not None:
        venues.append(
            kraken_node_clients(
                spec.kraken,
                instrument_ids,
                trading=spec.execution == "kraken",
                settle_timeout_secs=max(1.0, spec.timeout_disconnection - 1.0),
            )
        )
    if spec.ibkr is not None:  # nautilus's IB adapter (seraphim/adapters/ibkr)
        from seraphim.adapters.ibkr.config import IbkrConfigError
        from seraphim.adapters.ibkr.node import ibkr_node_clients

        try:
            venues.append(ibkr_node_clients(spec.ibkr, instrument_ids))
        except IbkrConfigError as e:
            raise NodeConfigError(f"{spec.name}: {e}") from None
    data_clients = {k: v for venue in venues for k, v in venue.data_clients.items()}
    data_factories = {k: v for venue in venues for k, v in venue.data_factories.items()}
    exec_clients = {k: v for venue in venues for k, v in venue.exec_clients.items()}
    exec_factories = {k: v for venue in venues for k, v in venue.exec_factories.items()}
    reconcile = bool(exec_clients)  # only real venue orders are reconciled
    if spec.kraken is not None and spec.execution == "sandbox":
        exec_clients[KRAKEN], exec_factories[KRAKEN] = sandbox_client(spec.sandbox)
    level = (log_level or spec.log_level).upper()
    logging_config = LoggingConfig(
        log_level=level,
        log_level_file=level if spec.log_file else None,
        log_directory=str((base / spec.log_file).parent) if spec.log_file else None,
        log_file_name=Path(spec.log_file).stem if spec.log_file else None,
        log_colors=False,
        bypass_logging=level == "OFF",
    )
    # An unexpected engine error stops the node gracefully (strategies' on_stop, in-flight
    # orders settle, clients disconnect) instead of nautilus's default immediate os._exit.
    config = TradingNodeConfig(
        trader_id=TraderId(spec.trader_id),
        logging=logging_config,
        data_engine=LiveDataEngineConfig(graceful_shutdown_on_exception=True),
        risk_engine=LiveRiskEngineConfig(graceful_shutdown_on_exception=True),
        exec_engine=LiveExecEngineConfig(
            graceful_shutdown_on_exception=True,
            reconciliation=spec.reconciliation and reconcile,
            reconciliation_lookback_mins=spec.reconciliation_lookback_mins,
            inflight_check_interval_ms=spec.inflight_check_interval_ms,
            inflight_check_threshold_ms=spec.inflight_check_threshold_ms,
        ),
        data_clients=data_clients,
        exec_clients=exec_clients,
        strategies=strategies,
        actors=assembly.actors if assembly else [],
        exec_algorithms=exec_algorithm_configs(),
        # Seraphim's risk layer guards every node, whatever its strategies.
        controller=assembly.controller if assembly else risk_controller_config(spec.risk),
        timeout_connection=spec.timeout_connection,
        timeout_reconciliation=spec.timeout_reconciliation,
        timeout_disconnection=spec.timeout_disconnection,
        timeout_post_stop=spec.timeout_post_stop,
    )
    return config, data_factories, exec_factories


def sandbox_client(sandbox: SandboxSpec) -> tuple[Any, type]:
    """nautilus's paper execution for the Kraken venue, on the Kraken data client's prices."""
    from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
    from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory

    config = SandboxExecutionClientConfig(
        venue=KRAKEN,
        starting_balances=list(sandbox.starting_balances),
        account_type=sandbox.account_type,
        oms_type="NETTING",
        bar_execution=sandbox.bar_execution,
        trade_execution=sandbox.trade_execution,
    )
    return config, SandboxLiveExecClientFactory
