"""VWAP, POV and the synthetic iceberg on real hourly BTC/USD bars; bad parameters denied."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.orders import Order

from seraphim.execution.profile import catalog_profile
from seraphim.execution.schedule import volume_profile
from seraphim.execution.schedule import vwap_schedule
from tests.strategies.realdata import BTC

from .backtest_helpers import algorithm
from .backtest_helpers import children
from .backtest_helpers import run_scripted
from .scripted import LimitScript
from .scripted import Scripted

START, END = "2022-03-01", "2022-03-08"
HOUR = 3600 * 10**9
BTC_INCREMENT = Decimal("0.00000001")
LIMIT_BUY = {"kind": LimitScript, "at_bar": 3, "quantity": 1.0}  # one limit buy of 1 BTC, bar 3


def run_parent(
    catalog, algorithm_id: str, params: dict, **script
) -> tuple[BacktestEngine, Scripted | LimitScript, Order]:
    """
    The scripted strategy's one parent order through ``algorithm_id`` over START-END: the
    engine, the strategy and the parent. Positions stay open at the end (what the algorithm
    built is what a test looks at).
    """
    built, strategy = run_scripted(
        catalog,
        START,
        END,
        exec_algorithm_id=algorithm_id,
        exec_algorithm_params=params,
        close_positions_on_stop=False,
        **script,
    )
    (parent,) = strategy.parents
    return built, strategy, parent


def fills(orders: list[Order]) -> list[OrderFilled]:
    return [e for o in orders for e in o.events if isinstance(e, OrderFilled)]


def last_fill(order: Order) -> int:
    return max(f.ts_event for f in fills([order]))


def market_volume(catalog, start, end) -> pd.Series:
    bars = catalog.nautilus.query(Bar, identifiers=[BTC], start=start, end=end)
    return pd.Series(
        [b.volume.as_double() for b in bars], index=[b.ts_event for b in bars], dtype=float
    )


def test_vwap_follows_the_catalog_profile(real_catalog) -> None:
    profile = catalog_profile(real_catalog.path, BTC, "2022-01-01", "2022-03-01")
    assert len(profile) == 24 and abs(sum(profile) - 1) < 1e-9
    params = {"duration_secs": 24 * 3600, "slices": 24, "profile": profile}
    built, strategy, parent = run_parent(real_catalog, "VWAP", params, targets=[(5, 2.0)])
    kids = children(built.cache, parent)
    planned = vwap_schedule(Decimal(2), parent.ts_init, 24 * HOUR, 24, profile, HOUR, BTC_INCREMENT)
    sent = [s for s in planned[:-1] if s.quantity > 0]
    assert [k.ts_init - parent.ts_init for k in kids] == [s.offset_ns for s in sent]
    assert [k.quantity.as_decimal() for k in kids] == [s.quantity for s in sent]
    assert strategy.position_quantity() == 2

    # Each hour's share of the parent is the profile's share for that hour, to rounding.
    filled = fills([*kids, parent])
    executed = pd.Series([f.last_qty.as_double() for f in filled], [f.ts_event for f in filled])
    hours = [(parent.ts_init + n * HOUR) for n in range(24)]
    done = [executed[(executed.index >= h) & (executed.index < h + HOUR)].sum() / 2 for h in hours]
    want = [profile[(h % (24 * HOUR)) // HOUR] for h in hours]
    assert max(abs(d - w) for d, w in zip(done, want, strict=True)) < 1e-6


def test_catalog_profile_tracks_the_real_intraday_volume(real_catalog) -> None:
    # The Jan-Feb 2022 profile against each day of March 2022: the share of a day's volume it
    # misplaces (half the L1 distance) is 0.30 on average, less than an even split's 0.325.
    profile = catalog_profile(real_catalog.path, BTC, "2022-01-01", "2022-03-01")
    volume = market_volume(real_catalog, "2022-03-01", "2022-04-01")
    hours = pd.to_datetime(volume.index - 1, unit="ns")  # bars are stamped at their close
    off, even = [], []
    for _, day in volume.groupby(hours.date):
        if len(day) < 24:
            continue
        real = day.groupby(pd.to_datetime(day.index - 1, unit="ns").hour).sum() / day.sum()
        off.append(sum(abs(profile[h] - real.get(h, 0.0)) for h in range(24)) / 2)
        even.append(sum(abs(1 / 24 - real.get(h, 0.0)) for h in range(24)) / 2)
    mean_off, mean_even = sum(off) / len(off), sum(even) / len(even)
    print(f"profile misplaces {mean_off:.3f} of a day's volume, an even split {mean_even:.3f}")
    assert len(off) >= 28 and mean_off < 0.32 and mean_off < mean_even - 0.01


def test_pov_takes_its_share_of_each_bar_up_to_the_cap(real_catalog) -> None:
    params = {"participation": 0.005, "bar_type": BTC, "max_child": "1.5"}
    built, strategy, parent = run_parent(real_catalog, "POV", params, targets=[(5, 6.0)])
    kids = children(built.cache, parent)
    volume = market_volume(real_catalog, START, END)
    assert len(kids) >= 3
    for kid in kids:
        bar_volume = Decimal(str(volume[kid.ts_init]))  # sent on the bar that closed then
        wanted = min(Decimal("0.005") * bar_volume, Decimal("1.5"))
        assert kid.quantity.as_decimal() <= wanted
        assert kid.quantity.as_decimal() >= min(wanted, Decimal(6)) - Decimal("0.00000001") or (
            kid is kids[-1]
        )
    filled = sum(o.filled_qty.as_decimal() for o in [parent, *kids])
    assert filled == 6 and strategy.position_quantity() == 6
    (row,) = algorithm(built, "POV").quality
    assert row.status == "completed" and row.filled == 6.0


def test_synthetic_iceberg_shows_one_slice_at_a_time(real_catalog) -> None:
    params = {"display_qty": "0.3", "native": False}
    # a limit 0.1 % over the close is marketable: each slice fills on the next bar
    built, strategy, parent = run_parent(
        real_catalog, "ICEBERG", params, **LIMIT_BUY, price_factor=1.001
    )
    kids = children(built.cache, parent)
    # Three slices of 0.3, then the parent itself for the last 0.1, each after the last filled.
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.3")] * 3
    assert all(k.price == parent.price for k in kids)
    assert parent.status == OrderStatus.FILLED and parent.quantity.as_decimal() == Decimal("0.1")
    for before, after in itertools.pairwise(kids):
        assert after.ts_init >= last_fill(before)
    submitted = next(e for e in parent.events if isinstance(e, OrderSubmitted))
    assert submitted.ts_event >= last_fill(kids[-1])
    assert strategy.position_quantity() == 1


def test_bad_parameters_deny_the_parent_with_the_reason(real_catalog) -> None:
    params = {"duration_secs": 600, "slices": 0}
    _, strategy, parent = run_parent(real_catalog, "TWAP", params, targets=[(5, 1.0)])
    assert parent.status == OrderStatus.DENIED
    reason = next(e for e in parent.events if isinstance(e, OrderDenied)).reason
    assert reason.startswith("TWAP parameters:") and "slices must be at least 1" in reason
    assert strategy.position_quantity() == 0


def test_vwap_estimates_its_profile_from_the_bars_seen(real_catalog) -> None:
    # No profile given: the shares come from the 48 hourly bars the node has seen so far.
    params = {"duration_secs": 6 * 3600, "slices": 6, "bar_type": BTC}
    built, strategy, parent = run_parent(real_catalog, "VWAP", params, targets=[(48, 1.0)])
    seen = [b for b in built.cache.bars(BarType.from_str(BTC)) if b.ts_event <= parent.ts_init]
    profile = volume_profile([(b.ts_event, b.volume.as_double()) for b in seen], 24, HOUR)
    planned = vwap_schedule(Decimal(1), parent.ts_init, 6 * HOUR, 6, profile, HOUR, BTC_INCREMENT)
    kids = children(built.cache, parent)
    assert [k.quantity.as_decimal() for k in kids] == [s.quantity for s in planned[:-1]]
    assert len(set(k.quantity for k in kids)) > 1  # not an even split
    assert strategy.position_quantity() == 1


def test_vwap_without_bars_is_denied(real_catalog) -> None:
    params = {"duration_secs": 3600, "slices": 4, "bar_type": "ETH/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"}
    _, _, parent = run_parent(real_catalog, "VWAP", params, targets=[(5, 1.0)])
    reason = next(e for e in parent.events if isinstance(e, OrderDenied)).reason
    assert parent.status == OrderStatus.DENIED and "no ETH/USD.KRAKEN-1-HOUR" in reason


def test_children_of_a_limit_parent_respect_its_price(real_catalog) -> None:
    # A TWAP of a limit buy 3 % under the market: market children would pay the market.
    params = {"duration_secs": 4 * 3600, "slices": 4}
    built, _, parent = run_parent(real_catalog, "TWAP", params, **LIMIT_BUY, price_factor=0.97)
    kids = children(built.cache, parent)
    assert len(kids) == 3
    assert all(k.order_type == OrderType.LIMIT and k.price == parent.price for k in kids)
    filled = fills([*kids, parent])
    assert filled and all(f.last_px <= parent.price for f in filled)
