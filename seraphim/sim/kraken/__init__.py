"""
A local Kraken Spot exchange on 127.0.0.1 speaking Kraken's REST and WebSocket v2 protocols.

Start it in-process with :class:`KrakenSimServer` or from the command line with
``seraphim sim kraken``.
"""

from seraphim.sim.kraken.config import AccountConfig
from seraphim.sim.kraken.config import SimConfig
from seraphim.sim.kraken.server import KrakenSimServer

__all__ = ["AccountConfig", "KrakenSimServer", "SimConfig"]
