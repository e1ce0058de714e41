from tests.strategies.conftest import real_catalog  # noqa: F401  (real BTC/ETH hourly history)
