"""A local Interactive Brokers gateway speaking the TWS socket API at server version 176.

``IbkrSimServer`` (asyncio, in-process) and ``ThreadedGateway`` (background thread) serve
ib_async, nautilus-ibapi's EClient and nautilus's Interactive Brokers adapter on 127.0.0.1.
"""

from seraphim.sim.ibkr.server import IbkrSimServer
from seraphim.sim.ibkr.server import ThreadedGateway
from seraphim.sim.ibkr.venue import IbkrSimConfig

__all__ = ["IbkrSimConfig", "IbkrSimServer", "ThreadedGateway"]
