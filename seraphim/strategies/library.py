"""
The strategy library: importing this module registers every bundled strategy. The package
imports it, so the registry is complete whenever anything of ``seraphim.strategies`` is in use.
"""

import seraphim.strategies.bollinger
import seraphim.strategies.cross_venue_arb
import seraphim.strategies.ma_cross
import seraphim.strategies.mean_reversion
import seraphim.strategies.momentum
import seraphim.strategies.pairs
import seraphim.strategies.rsi_reversal  # noqa: F401
