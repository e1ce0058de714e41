"""Interactive Brokers: nautilus's own IB adapter wired into Seraphim.

Seraphim does not rewrite the IB adapter. It adds what nautilus 1.231 leaves to the user:
node configs from a YAML section (``config.py``), the IB account answering for the venues IB
routes (``execution.py``), fixes for market data lost on a quick 1100/1101 pair and for failed
requests that wait out their timeout (``connectivity.py``), chunked and paced history into the
catalog (``history.py``) and operator tools on ib_async (``tools.py``, ``seraphim ibkr``).
"""
