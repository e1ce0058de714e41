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
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveDataEngineConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.model.identifiers import TraderId

from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.constants import KRAKEN
from seraphim.adapters.kraken.credentials import DEFAULT_KEY_ENV
from seraphim.adapters.kraken.credentials import DEFAULT_SECRET_ENV
from seraphim.adapters.kraken.http.client import DEFAULT_REST_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PRIVATE_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PUBLIC_URL
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
from seraphim.risk.config import RiskConfig

EXECUTION_MODES = ("kraken", "sandbox", "none")


class NodeConfigError(ValueError):
    """A node file that cannot run; the message names the field and the problem."""


class KrakenSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Where the Kraken adapter connects and how it behaves."""

    rest_url: str = DEFAULT_REST_URL
    ws_public_url: str = DEFAULT_WS_PUBLIC_URL
    ws_private_url: str = DEFAULT_WS_PRIVATE_URL
    api_key_env: str = DEFAULT_KEY_ENV
    api_secret_env: str = DEFAULT_SECRET_ENV
    tier: str = "starter"
    pairs: list[str] | None = None
    public_rate_per_sec: float = 1.0
    use_ws_trading: bool = True
    book_depth: int = 10
    quotes_from: str = "ticker"
    reconcile_interval_secs: float | None = 30.0
    spot_position_source: str = "fills"
    ws_request_timeout_secs: float = 5.0
    http_timeout_secs: float = 10.0
    max_retries: int = 3


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
    for forbidden in ("api_secret", "secret", "api_key_secret"):
        if forbidden in raw or forbidden in (raw.get("kraken") or {}):
            raise NodeConfigError(
                f"{source}: secrets never go in a config file; set "
                f"{DEFAULT_SECRET_ENV} in the environment instead"
            )
    try:
        spec = msgspec.convert(raw, NodeSpec, strict=False)
    except msgspec.ValidationError as e:
        raise NodeConfigError(f"{source}: {e}") from None
    if spec.execution not in EXECUTION_MODES:
        raise NodeConfigError(
            f"{source}: execution must be one of {', '.join(EXECUTION_MODES)}, "
            f"was {spec.execution!r}"
        )
    if spec.kraken is None:
        return spec
    if spec.kraken.spot_position_source not in ("fills", "balances", "none"):
        raise NodeConfigError(f"{source}: kraken.spot_position_source must be fills|balances|none")
    if spec.kraken.quotes_from not in ("ticker", "book"):
        raise NodeConfigError(f"{source}: kraken.quotes_from must be ticker or book")
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
        # Kraken spot accounts are CASH; IB accounts (stocks, options) are MARGIN.
        venues=[VenueAccount(v, "CASH" if v == KRAKEN else "MARGIN") for v in sorted(venues)],
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
    out = []
    for entry in configs:
        params = dict(entry.config)
        if "instrument_id" in params:
            params.setdefault("external_order_claims", [params["instrument_id"]])
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
    from seraphim.adapters.kraken.factories import KrakenLiveDataClientFactory
    from seraphim.adapters.kraken.factories import KrakenLiveExecClientFactory

    assembly = node_assembly(spec, base)
    strategies = strategy_configs_for(spec, assembly)
    k = spec.kraken or KrakenSpec()
    pairs = k.pairs
    if pairs is None:
        ids = [i for i in instrument_ids_for(strategies) if i.endswith(f".{KRAKEN}")]
        pairs = [i.removesuffix(f".{KRAKEN}") for i in ids] or None
    provider = InstrumentProviderConfig(load_all=True)
    data_config = KrakenDataClientConfig(
        base_url_http=k.rest_url,
        base_url_ws=k.ws_public_url,
        api_key_env=k.api_key_env,
        api_secret_env=k.api_secret_env,
        pairs=pairs,
        tier=k.tier,
        book_depth=k.book_depth,
        quotes_from=k.quotes_from,
        public_rate_per_sec=k.public_rate_per_sec,
        http_timeout_secs=k.http_timeout_secs,
        max_retries=k.max_retries,
        instrument_provider=provider,
    )
    data_clients: dict[str, Any] = {KRAKEN: data_config} if spec.kraken else {}
    data_factories: dict[str, Any] = {KRAKEN: KrakenLiveDataClientFactory} if spec.kraken else {}
    exec_clients: dict[str, Any] = {}
    exec_factories: dict[str, Any] = {}
    reconcile = spec.kraken is not None and spec.execution == "kraken"  # real venue orders
    if spec.ibkr is not None:  # nautilus's IB adapter (seraphim/adapters/ibkr)
        from seraphim.adapters.ibkr.config import IbkrConfigError
        from seraphim.adapters.ibkr.node import ibkr_node_clients

        try:
            ib = ibkr_node_clients(spec.ibkr, instrument_ids_for(strategies))
        except IbkrConfigError as e:
            raise NodeConfigError(f"{spec.name}: {e}") from None
        data_clients.update(ib.data_clients)
        data_factories.update(ib.data_factories)
        exec_clients.update(ib.exec_clients)
        exec_factories.update(ib.exec_factories)
        reconcile = reconcile or bool(ib.exec_clients)
    if spec.kraken is None:
        pass
    elif spec.execution == "kraken":
        exec_clients[KRAKEN] = KrakenExecClientConfig(
            base_url_http=k.rest_url,
            base_url_ws_private=k.ws_private_url,
            api_key_env=k.api_key_env,
            api_secret_env=k.api_secret_env,
            pairs=pairs,
            tier=k.tier,
            use_ws_trading=k.use_ws_trading,
            reconcile_interval_secs=k.reconcile_interval_secs,
            spot_position_source=k.spot_position_source,
            ws_request_timeout_secs=k.ws_request_timeout_secs,
            public_rate_per_sec=k.public_rate_per_sec,
            http_timeout_secs=k.http_timeout_secs,
            max_retries=k.max_retries,
            settle_timeout_secs=max(1.0, spec.timeout_disconnection - 1.0),
            instrument_provider=provider,
        )
        exec_factories[KRAKEN] = KrakenLiveExecClientFactory
    elif spec.execution == "sandbox":
        from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
        from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory

        exec_clients[KRAKEN] = SandboxExecutionClientConfig(
            venue=KRAKEN,
            starting_balances=list(spec.sandbox.starting_balances),
            account_type=spec.sandbox.account_type,
            oms_type="NETTING",
            bar_execution=spec.sandbox.bar_execution,
            trade_execution=spec.sandbox.trade_execution,
        )
        exec_factories[KRAKEN] = SandboxLiveExecClientFactory
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
        # Seraphim's risk layer guards every node, whatever its strategies.
        controller=assembly.controller if assembly else risk_controller_config(spec.risk),
        timeout_connection=spec.timeout_connection,
        timeout_reconciliation=spec.timeout_reconciliation,
        timeout_disconnection=spec.timeout_disconnection,
        timeout_post_stop=spec.timeout_post_stop,
    )
    return config, data_factories, exec_factories
