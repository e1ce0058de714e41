"""
Configuration of the Kraken Spot data and execution clients.

Credentials are never part of a config: the configs name the environment variables that hold
them (``KRAKEN_API_KEY`` / ``KRAKEN_API_SECRET`` by default). The base URLs point the same
adapter at Kraken or at the local exchange (``seraphim sim kraken``).
"""

from __future__ import annotations

from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.config import NonNegativeInt
from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt

from seraphim.adapters.kraken.common.credentials import DEFAULT_KEY_ENV
from seraphim.adapters.kraken.common.credentials import DEFAULT_SECRET_ENV
from seraphim.adapters.kraken.http.client import DEFAULT_REST_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PRIVATE_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PUBLIC_URL

# The local exchange's default address (``seraphim sim kraken`` listens on 127.0.0.1:8090).
SIM_REST_URL = "http://127.0.0.1:8090"
SIM_WS_PUBLIC_URL = "ws://127.0.0.1:8090/v2"
SIM_WS_PRIVATE_URL = "ws://127.0.0.1:8091/v2"  # its own listener, as ws-auth.kraken.com


class KrakenDataClientConfig(LiveDataClientConfig, frozen=True):
    """
    Configuration for ``KrakenDataClient``.

    Parameters
    ----------
    base_url_http : str
        REST base (Kraken: ``https://api.kraken.com``).
    base_url_ws : str
        Public WebSocket v2 URL (Kraken: ``wss://ws.kraken.com/v2``).
    api_key : str, optional
        API key (not secret); default ``$api_key_env``. Public data needs no key.
    api_key_env, api_secret_env : str
        Environment variables holding the key and the secret.
    pairs : list[str], optional
        Pairs to load (any spelling: ``BTC/USD``, ``XBTUSD``); default all.
    tier : str
        Rate-limit tier: starter, intermediate or pro.
    book_depth : int
        Default book depth when a subscription names none (10, 25, 100, 500 or 1000).
    quotes_from : str
        ``ticker`` (the ticker channel on every best bid/offer change) or ``book`` (top of a
        depth-10 book).
    bars_timestamp_on_close : bool
        Stamp bars at their close (nautilus's convention).
    bar_close_grace_secs : float
        Emit a candle this long after its interval ended even when no later trade arrives.
    update_instruments_interval_mins : int, optional
        Reload AssetPairs periodically.
    max_trade_pages : int
        Pages of ``Trades`` (1,000 each) fetched to aggregate bars older than OHLC's 720 rows.
    http_timeout_secs, max_retries, retry_delay_initial_secs, retry_delay_max_secs : float/int
        REST timeout and backoff.
    public_rate_per_sec : float
        Public REST calls per second (0: unpaced, for the local exchange).

    """

    base_url_http: str = DEFAULT_REST_URL
    base_url_ws: str = DEFAULT_WS_PUBLIC_URL
    api_key: str | None = None
    api_key_env: str = DEFAULT_KEY_ENV
    api_secret_env: str = DEFAULT_SECRET_ENV
    pairs: list[str] | None = None
    tier: str = "starter"
    book_depth: PositiveInt = 10
    quotes_from: str = "ticker"
    bars_timestamp_on_close: bool = True
    bar_close_grace_secs: PositiveFloat = 2.0
    update_instruments_interval_mins: PositiveInt | None = 60
    max_trade_pages: PositiveInt = 50
    http_timeout_secs: PositiveFloat = 10.0
    max_retries: NonNegativeInt = 3
    retry_delay_initial_secs: PositiveFloat = 0.5
    retry_delay_max_secs: PositiveFloat = 8.0
    public_rate_per_sec: float = 1.0
    ws_idle_timeout_secs: PositiveFloat = 15.0


class KrakenExecClientConfig(LiveExecClientConfig, frozen=True):
    """
    Configuration for ``KrakenExecutionClient``.

    Parameters
    ----------
    base_url_http : str
        REST base (Kraken: ``https://api.kraken.com``).
    base_url_ws_private : str
        Private WebSocket v2 URL (Kraken: ``wss://ws-auth.kraken.com/v2``).
    api_key : str, optional
        API key (not secret); default ``$api_key_env``.
    api_key_env, api_secret_env : str
        Environment variables holding the key and the secret (required).
    pairs : list[str], optional
        Pairs to load; default all.
    tier : str
        Rate-limit tier: starter, intermediate or pro.
    use_ws_trading : bool
        Send orders over the private WebSocket (add_order); REST is the fallback when the
        socket is down. False: REST only.
    ws_request_timeout_secs : float
        How long to wait for a WebSocket trading answer before the outcome counts as unknown
        (then the order is looked up at the venue, never resent).
    ack_recovery_delays_secs : list[float]
        Waits between venue look-ups of an order whose acknowledgement was lost.
    reconcile_interval_secs : float, optional
        Periodic check of open orders against the venue (missed cancels or fills).
    spot_position_source : str
        What ``generate_position_status_reports`` reports: ``fills`` (net of the account's
        trades in the reconciliation window: the node's own position), ``balances`` (every base
        asset balance as a long position) or ``none``.
    fill_lookback_mins : int
        Window of trades used for fill reports and ``fills`` position reports when nautilus
        gives no start.
    max_history_pages : int
        Pages (50 each) of ClosedOrders / TradesHistory read during reconciliation.
    settle_timeout_secs : float
        On disconnect, how long orders in flight may take to settle (their answer, or a look-up
        at the venue) before the connection closes; keep it below the node's
        ``timeout_disconnection``.

    """

    base_url_http: str = DEFAULT_REST_URL
    base_url_ws_private: str = DEFAULT_WS_PRIVATE_URL
    api_key: str | None = None
    api_key_env: str = DEFAULT_KEY_ENV
    api_secret_env: str = DEFAULT_SECRET_ENV
    pairs: list[str] | None = None
    tier: str = "starter"
    use_ws_trading: bool = True
    ws_request_timeout_secs: PositiveFloat = 5.0
    ack_recovery_delays_secs: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    reconcile_interval_secs: PositiveFloat | None = 30.0
    spot_position_source: str = "fills"
    fill_lookback_mins: PositiveInt = 1440
    max_history_pages: PositiveInt = 20
    settle_timeout_secs: PositiveFloat = 5.0
    http_timeout_secs: PositiveFloat = 10.0
    max_retries: NonNegativeInt = 3
    retry_delay_initial_secs: PositiveFloat = 0.5
    retry_delay_max_secs: PositiveFloat = 8.0
    public_rate_per_sec: float = 1.0
    ws_idle_timeout_secs: PositiveFloat = 15.0
