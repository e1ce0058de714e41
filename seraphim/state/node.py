"""
The node runner's two switches for live state: where the node keeps its state
(``--state memory|redis`` or ``$SERAPHIM_STATE``) and whether it journals to PostgreSQL
(``--journal`` or ``$SERAPHIM_JOURNAL=1``).
"""

from __future__ import annotations

import os

import msgspec

from seraphim.state.settings import StateConfigError
from seraphim.state.settings import with_state_backend

JOURNAL_ENV = "SERAPHIM_JOURNAL"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def journal_enabled(option: bool | None = None) -> bool:
    """The option if given, else ``$SERAPHIM_JOURNAL`` (1/true/yes/on), else off."""
    if option is not None:
        return option
    value = os.environ.get(JOURNAL_ENV, "").strip().lower()
    if value not in _TRUE | _FALSE:
        raise StateConfigError(f"${JOURNAL_ENV} must be 1 or 0 (was {value!r})")
    return value in _TRUE


def with_node_options(node_config, state: str | None = None, journal: bool | None = None):
    """``node_config`` (a ``TradingNodeConfig``) with the state backend and journal applied."""
    config = with_state_backend(node_config, state)
    if journal_enabled(journal):
        from seraphim.journal.actor import journal_actor_config

        paths = {a.actor_path for a in config.actors}
        if "seraphim.journal.actor:JournalActor" not in paths:
            config = msgspec.structs.replace(
                config, actors=[*config.actors, journal_actor_config()]
            )
    return config
