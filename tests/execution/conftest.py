from tests.journal.conftest import journal_db  # noqa: F401  (a migrated journal schema)
from tests.journal.conftest import pg_dsn  # noqa: F401
from tests.journal.conftest import redis_trader  # noqa: F401  (a trader id, keys deleted after)
from tests.journal.conftest import redis_url  # noqa: F401
from tests.strategies.conftest import real_catalog  # noqa: F401  (the real BTC/ETH history, once)
