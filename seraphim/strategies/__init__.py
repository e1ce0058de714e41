"""Seraphim strategies: a shared base, a registry by name, and the strategy library."""

# Registers the bundled strategies: the registry is complete once the package is loaded.
import seraphim.strategies.library  # noqa: F401
from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig
from seraphim.strategies.control import StrategyControl
from seraphim.strategies.control import send_control
from seraphim.strategies.registry import all_strategies
from seraphim.strategies.registry import get_strategy
from seraphim.strategies.registry import register_strategy
from seraphim.strategies.working import is_protective

__all__ = [
    "SeraphimStrategy",
    "SeraphimStrategyConfig",
    "StrategyControl",
    "all_strategies",
    "get_strategy",
    "is_protective",
    "register_strategy",
    "send_control",
]
