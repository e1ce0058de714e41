"""The hook ``seraphim node run`` calls for a node file with an ``ibkr:`` section."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from seraphim.adapters.ibkr.config import IbkrClients
from seraphim.adapters.ibkr.config import ibkr_clients

ACCOUNT_TYPE = "MARGIN"  # IB accounts (stocks, options) trade on margin


class IbkrGatewayError(RuntimeError):
    """No IB Gateway/TWS answers at the configured address; the message says what to check."""


def clear_ibkr_caches() -> None:
    """Forget IB clients and providers an earlier node of this process created.

    nautilus's IB factories cache them per (host, port, client id) at module level; they
    belong to the earlier node's event loop.
    """
    # nautilus 1.231 has no public way to drop them (nor to pass the factories a client).
    from nautilus_trader.adapters.interactive_brokers import factories

    factories.IB_CLIENTS.clear()
    factories.IB_INSTRUMENT_PROVIDERS.clear()
    factories.GATEWAYS.clear()


def ibkr_node_clients(
    section: Mapping[str, Any] | None,
    strategy_instrument_ids: Iterable[str] = (),
    *,
    other_venues: Iterable[str] = ("KRAKEN",),
    environ: Mapping[str, str] | None = None,
) -> IbkrClients:
    """IB client configs and factories for a node: the section's instruments plus the IB
    instruments the strategies trade (ids on ``other_venues`` belong to other adapters)."""
    skip = set(other_venues)
    ids = [i for i in strategy_instrument_ids if str(i).rsplit(".", 1)[-1] not in skip]
    clear_ibkr_caches()
    return ibkr_clients(section, ids, environ=environ)


def ibkr_preflight(data_config: Any, timeout: float = 5.0) -> int:
    """
    Fail fast, before nautilus starts (its IB client retries a missing gateway forever):
    something listens at the configured host and port and answers the TWS API handshake.
    Returns the server version. Claims no client id (the handshake stops before startApi).
    """
    import socket

    host, port = data_config.ibg_host, data_config.ibg_port
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise IbkrGatewayError(
            f"no IB Gateway/TWS at {host}:{port} ({e.strerror or e}); start it (or "
            f"`seraphim sim ibkr --port {port}`), or set SERAPHIM_IBKR_PORT"
        ) from None
    try:
        sock.settimeout(timeout)
        sock.sendall(b"API\0" + _frame(b"v100..187"))
        size = int.from_bytes(_recv(sock, 4), "big")
        return int(_recv(sock, size).split(b"\0")[0])
    except (OSError, ValueError) as e:
        raise IbkrGatewayError(
            f"the IB gateway at {host}:{port} does not answer the TWS API ({e}): is the API "
            "enabled (Configure > Settings > API), is this address a trusted IP, and is the "
            "gateway logged in?"
        ) from None
    finally:
        sock.close()


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _recv(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed during the handshake")
        data += chunk
    return data
