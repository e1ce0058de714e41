"""Interactive Brokers: nautilus's own IB adapter wired into Seraphim.

Seraphim does not rewrite the IB adapter. It adds what nautilus 1.221 leaves to the user:
node configs from a YAML section (``config.py``), a fix for market data lost on a quick
1100/1101 pair (``connectivity.py``), chunked and paced history into the catalog
(``history.py``) and operator tools on ib_async (``tools.py``, ``seraphim ibkr``).
"""
