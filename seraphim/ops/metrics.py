"""
The node's Prometheus metrics (prometheus-client, a registry of its own) served on
``127.0.0.1:<metrics_port>/metrics`` by prometheus-client's server thread.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import start_http_server

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.heartbeat = Gauge(
            "seraphim_heartbeat_timestamp_seconds",
            "Last heartbeat (UNIX time)",
            ["trader"],
            registry=r,
        )
        self.staleness = Gauge(
            "seraphim_data_staleness_seconds",
            "Seconds since an instrument's last data",
            ["trader", "venue", "instrument"],
            registry=r,
        )
        self.connected = Gauge(
            "seraphim_venue_connected",
            "1 when the venue client is connected",
            ["trader", "venue", "client"],
            registry=r,
        )
        self.reconnects = Gauge(
            "seraphim_venue_reconnects",
            "Reconnections the venue client reports",
            ["trader", "venue", "client"],
            registry=r,
        )
        self.orders = Counter(
            "seraphim_order_events",
            "Order events by type",
            ["trader", "strategy", "instrument", "event"],
            registry=r,
        )
        self.ack_latency = Histogram(
            "seraphim_submit_ack_latency_seconds",
            "Order submitted to accepted by the venue",
            ["trader", "strategy", "venue"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.loop_lag = Gauge(
            "seraphim_event_loop_lag_seconds",
            "How late the event loop runs a callback",
            ["trader"],
            registry=r,
        )
        self.equity = Gauge(
            "seraphim_equity",
            "Account equity in USD at the last prices",
            ["trader", "venue"],
            registry=r,
        )
        self.drawdown = Gauge(
            "seraphim_drawdown_ratio",
            "Fall from the equity peak (0.05 = 5 %)",
            ["trader"],
            registry=r,
        )
        self.daily_pnl = Gauge(
            "seraphim_daily_pnl",
            "Equity change (USD) since the UTC day began",
            ["trader"],
            registry=r,
        )
        self.trading_state = Gauge(
            "seraphim_trading_state", "nautilus TradingState: 1 ACTIVE, 2 HALTED, 3 REDUCING",
            ["trader"], registry=r,
        )  # fmt: skip
        self.alerts_active = Gauge(
            "seraphim_alerts_active", "Alerts raised and not resolved", ["trader"], registry=r
        )
        self._server = None

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Start serving; returns the bound port (``port=0`` picks a free one)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        return server.server_port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
