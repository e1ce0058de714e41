"""The ``long_only`` switch the single-instrument strategies share."""

from __future__ import annotations

from seraphim.strategies.base import SeraphimStrategyConfig


class DirectionalConfig(SeraphimStrategyConfig, frozen=True):
    """
    Parameters of a strategy that holds one instrument long and, when allowed, short.

    long_only : when False the strategy also takes short positions (needs a margin account).
    """

    long_only: bool = True

    def needs_margin(self) -> bool:
        """Short positions need a margin account (a spot cash account refuses them)."""
        return not self.long_only
