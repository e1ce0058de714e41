"""Where live operations live in Redis (all keys of one trader share ``seraphim:ops:<trader>``)."""

from __future__ import annotations

PREFIX = "seraphim:ops"
CONSUMER_GROUP = "node"
# A command's result is kept this long: a command id sent again within it is answered, not run.
RESULT_TTL_SECS = 7 * 24 * 3600
REPLY_TTL_SECS = 60
# Commands kept in a trader's stream (older ones are trimmed; every one is in the journal).
STREAM_MAXLEN = 10_000


def trader_prefix(trader_id: str) -> str:
    return f"{PREFIX}:{trader_id}"


def control_stream(trader_id: str) -> str:
    """The stream operators append commands to (one per trader, consumed with acknowledgement)."""
    return f"{trader_prefix(trader_id)}:control"


def result_key(trader_id: str, command_id: str) -> str:
    """A command's outcome (JSON); also the de-duplication record."""
    return f"{trader_prefix(trader_id)}:result:{command_id}"


def reply_key(trader_id: str, command_id: str) -> str:
    """A list the sender blocks on (BLPOP) for the answer."""
    return f"{trader_prefix(trader_id)}:reply:{command_id}"


def health_key(trader_id: str) -> str:
    """The node's latest health snapshot (JSON), refreshed with every heartbeat."""
    return f"{trader_prefix(trader_id)}:health"


def equity_key(trader_id: str) -> str:
    """The node's equity history: a capped list of ``[ts_ns, equity]`` (JSON), one a heartbeat."""
    return f"{trader_prefix(trader_id)}:equity"


def delete_trader_keys(client, trader_id: str) -> None:
    """Every operations key of a trader (health, equity history, control stream, results)."""
    for key in client.scan_iter(match=f"{trader_prefix(trader_id)}:*"):
        client.delete(key)


def health_pattern() -> str:
    return f"{PREFIX}:*:health"


def trader_of_health_key(key: str) -> str:
    return key.removeprefix(f"{PREFIX}:").removesuffix(":health")
