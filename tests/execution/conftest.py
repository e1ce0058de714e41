from tests.strategies.conftest import real_catalog  # noqa: F401  (the real BTC/ETH history, once)
