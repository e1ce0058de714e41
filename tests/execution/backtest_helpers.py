"""Run the scripted strategy over real bars in a nautilus BacktestEngine with the algorithms."""

from __future__ import annotations

from nautilus_trader.model.data import BarType
from nautilus_trader.model.orders import Order

from seraphim.execution import exec_algorithm_configs
from tests.strategies.realdata import BTC
from tests.strategies.realdata import engine

from .scripted import LimitScript
from .scripted import LimitScriptConfig
from .scripted import Scripted
from .scripted import ScriptedConfig


def run_scripted(catalog, start, end, account_type="CASH", risk=None, kind=Scripted, **params):
    built = engine(
        catalog,
        [BTC],
        start=start,
        end=end,
        account_type=account_type,
        risk=risk,
        exec_algorithms=exec_algorithm_configs(),
    )
    bar_type = BarType.from_str(BTC)
    config_type = LimitScriptConfig if kind is LimitScript else ScriptedConfig
    strategy = kind(config_type(instrument_id=bar_type.instrument_id, bar_type=bar_type, **params))
    built.add_strategy(strategy)
    built.run()
    return built, strategy


def algorithm(built, algorithm_id: str):
    (found,) = [a for a in built.trader.exec_algorithms() if a.id.value == algorithm_id]
    return found


def children(cache, parent: Order) -> list[Order]:
    spawned = [o for o in cache.orders_for_exec_spawn(parent.client_order_id) if o.is_spawned]
    return sorted(spawned, key=lambda o: o.ts_init)
