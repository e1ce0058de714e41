"""
Before a node starts, every external dependency it needs answers within a bounded time, or the
run ends at once with one line naming the dependency: the venue's REST API and WebSockets,
Redis (``--state redis``), PostgreSQL (``--journal``) and the IB gateway.

nautilus would otherwise wait inside native code (Redis: up to 100 reconnect attempts with
backoff, holding the GIL, so no signal is handled) or keep "running" with clients that never
connected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from seraphim.adapters.kraken.common.constants import KRAKEN
from seraphim.node.config import NodeConfigError


class DependencyError(RuntimeError):
    """A dependency the node needs is unreachable; the message names it and the reason."""


def check_dependencies(node_config: Any) -> None:
    """
    Every dependency of ``node_config`` (a ``TradingNodeConfig``) answers, else raise
    ``DependencyError``; a venue that answers but refuses the file's settings (an unknown pair,
    a rejected key) raises ``NodeConfigError``.
    """
    if KRAKEN in node_config.data_clients:  # an IB-only node has no Kraken to check
        from seraphim.adapters.kraken.common.errors import KrakenError
        from seraphim.adapters.kraken.node import KrakenUnreachableError
        from seraphim.adapters.kraken.node import kraken_preflight

        data, execution = node_config.data_clients[KRAKEN], node_config.exec_clients.get(KRAKEN)
        try:
            asyncio.run(kraken_preflight(data, execution))
        except KrakenUnreachableError as e:
            raise DependencyError(str(e)) from None
        except KrakenError as e:  # it answers but refuses: an unknown pair, a key it rejects
            raise NodeConfigError(str(e)) from None
    if "INTERACTIVE_BROKERS" in node_config.data_clients:  # nautilus would retry forever
        from seraphim.adapters.ibkr.node import IbkrGatewayError
        from seraphim.adapters.ibkr.node import ibkr_preflight

        try:
            ibkr_preflight(node_config.data_clients["INTERACTIVE_BROKERS"])
        except IbkrGatewayError as e:
            raise DependencyError(str(e)) from None
    database = node_config.cache.database if node_config.cache else None
    if database is not None:
        check_redis(database)
    journal_paths = {a.actor_path for a in node_config.actors}
    if "seraphim.journal.actor:JournalActor" in journal_paths:
        check_journal()


def check_redis(database: Any) -> None:
    """Redis (nautilus's ``DatabaseConfig``) answers PING within seraphim.state's timeout."""
    from seraphim.state.settings import RedisSettings
    from seraphim.state.settings import RedisUnavailable
    from seraphim.state.settings import connect_redis

    settings = RedisSettings(
        host=database.host or "127.0.0.1",
        port=database.port or 6379,
        username=database.username,
        password=database.password,
        ssl=database.ssl,
    )
    try:
        connect_redis(settings).close()
    except RedisUnavailable as e:
        raise DependencyError(f"{e} (--state redis)") from None


def check_journal() -> None:
    """The PostgreSQL journal (``--journal``) answers and its schema is migrated."""
    from seraphim.journal.migrate import require_current
    from seraphim.journal.settings import JournalError
    from seraphim.journal.settings import connect
    from seraphim.journal.settings import journal_schema

    try:
        conn = connect(autocommit=True)
        try:
            require_current(conn, journal_schema())
        finally:
            conn.close()
    except JournalError as e:
        raise DependencyError(f"journal (--journal): {e}") from None
