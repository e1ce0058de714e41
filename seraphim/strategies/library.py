"""The strategy library: importing this module registers every bundled strategy."""

from seraphim.strategies import bollinger  # noqa: F401
from seraphim.strategies import cross_venue_arb  # noqa: F401
from seraphim.strategies import ma_cross  # noqa: F401
from seraphim.strategies import mean_reversion  # noqa: F401
from seraphim.strategies import momentum  # noqa: F401
from seraphim.strategies import pairs  # noqa: F401
from seraphim.strategies import rsi_reversal  # noqa: F401
