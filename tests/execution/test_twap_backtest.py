"""TWAP on real hourly BTC/USD bars in a backtest: schedule, totals, cancel cascade, risk gate."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderDenied

from seraphim.execution.schedule import twap_schedule
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.controller import RiskController

from .backtest_helpers import algorithm
from .backtest_helpers import children
from .backtest_helpers import run_scripted

START, END = "2022-03-01", "2022-03-06"
TWAP = {"duration_secs": 6 * 3600, "slices": 8, "jitter": 0.3, "seed": 11}
BTC_INCREMENT = Decimal("0.00000001")


def test_twap_children_follow_the_seeded_schedule_and_add_up(real_catalog) -> None:
    built, strategy = run_scripted(
        real_catalog,
        START,
        END,
        targets=[(5, 1.0), (30, 0.0), (60, 0.5)],
        exec_algorithm_id="TWAP",
        exec_algorithm_params=TWAP,
        close_positions_on_stop=False,
    )
    cache = built.cache
    assert len(strategy.parents) == 3
    for parent, wanted in zip(strategy.parents, ("1", "1", "0.5"), strict=True):
        slices = twap_schedule(
            Decimal(wanted), TWAP["duration_secs"] * 10**9, 8, 0.3, 11, BTC_INCREMENT
        )
        kids = children(cache, parent)
        assert len(kids) == 7  # the eighth slice is the parent itself
        offsets = [kid.ts_init - parent.ts_init for kid in kids]
        assert offsets == [s.offset_ns for s in slices[:-1]]
        assert [kid.quantity.as_decimal() for kid in kids] == [s.quantity for s in slices[:-1]]
        assert all(kid.status == OrderStatus.FILLED for kid in kids)
        assert parent.status == OrderStatus.FILLED
        assert parent.quantity.as_decimal() == slices[-1].quantity
        family_filled = sum(o.filled_qty.as_decimal() for o in [parent, *kids])
        assert family_filled == Decimal(wanted)
    assert strategy.position_quantity() == Decimal("0.5")
    assert strategy.pending_quantity() == 0
    rows = algorithm(built, "TWAP").quality
    assert [r.status for r in rows] == ["completed"] * 3
    assert [r.filled for r in rows] == [1.0, 1.0, 0.5]
    assert all(r.children == 8 and r.arrival_px and r.avg_px for r in rows)
    # A buy paying more than arrival has positive slippage (a cost); the sign follows the side.
    for row in rows:
        sign = 1 if row.side == "BUY" else -1
        expected = sign * (row.avg_px - row.arrival_px) / row.arrival_px * 1e4
        assert abs(row.slippage_bps - expected) < 1e-9


def test_jitter_zero_spaces_children_evenly(real_catalog) -> None:
    params = {**TWAP, "jitter": 0.0}
    built, strategy = run_scripted(
        real_catalog,
        START,
        END,
        targets=[(5, 1.0)],
        exec_algorithm_id="TWAP",
        exec_algorithm_params=params,
    )
    (parent,) = strategy.parents
    offsets = [kid.ts_init - parent.ts_init for kid in children(built.cache, parent)]
    assert offsets == [n * 2700 * 10**9 for n in range(7)]


def test_cancelling_the_parent_cancels_its_children(real_catalog) -> None:
    # Limit children far from the market never fill; the strategy cancels everything half-way.
    params = {**TWAP, "child": "limit", "limit_offset_ticks": -200_000}
    built, strategy = run_scripted(
        real_catalog,
        START,
        END,
        targets=[(5, 1.0)],
        cancel_at=8,
        exec_algorithm_id="TWAP",
        exec_algorithm_params=params,
        close_positions_on_stop=False,
    )
    (parent,) = strategy.parents
    kids = children(built.cache, parent)
    assert 2 <= len(kids) <= 5  # the run was cut half-way
    assert parent.status == OrderStatus.CANCELED
    assert all(kid.status == OrderStatus.CANCELED for kid in kids)
    assert built.cache.orders_open() == []
    assert strategy.pending_quantity() == 0
    assert strategy.position_quantity() == 0
    (row,) = algorithm(built, "TWAP").quality
    assert row.status == "cancelled" and row.filled == 0.0


def test_every_child_passes_the_risk_gate_and_the_parent_total_is_checked(real_catalog) -> None:
    # The parent's 1 BTC is more than max_position_qty allows: denied whole, no child sent.
    built, strategy = run_scripted(
        real_catalog,
        START,
        END,
        risk=RiskConfig(limits=RiskLimits(max_position_qty=0.5)),
        targets=[(5, 1.0)],
        clip_to_risk=False,
        exec_algorithm_id="TWAP",
        exec_algorithm_params=TWAP,
    )
    (parent,) = strategy.parents
    assert parent.status == OrderStatus.DENIED
    denied = [e for e in parent.events if isinstance(e, OrderDenied)]
    assert "risk headroom" in denied[0].reason
    assert children(built.cache, parent) == []

    # With the gate on and nothing to deny, it checked each of the 7 children and the parent's
    # final slice, one by one.
    built, strategy = run_scripted(
        real_catalog,
        START,
        END,
        risk=RiskConfig(),
        targets=[(5, 1.0)],
        exec_algorithm_id="TWAP",
        exec_algorithm_params=TWAP,
        close_positions_on_stop=False,
    )
    (controller,) = [a for a in built.trader.actors() if isinstance(a, RiskController)]
    assert controller.gate.summary()["orders_checked"] == 8
    assert strategy.position_quantity() == 1


def test_stopping_mid_algorithm_cancels_the_parent_and_flattens(real_catalog) -> None:
    # The run ends three hours into a six-hour TWAP; the strategy closes its position on stop.
    params = {**TWAP, "child": "limit", "limit_offset_ticks": 0}
    built, strategy = run_scripted(
        real_catalog,
        START,
        "2022-03-01 09:00",
        targets=[(5, 1.0)],
        exec_algorithm_id="TWAP",
        exec_algorithm_params=params,
    )
    (parent,) = strategy.parents
    assert parent.status == OrderStatus.CANCELED
    assert built.cache.orders_open() == [] and strategy.pending_quantity() == 0
    assert 0 < sum(k.filled_qty for k in children(built.cache, parent)) < 1
    assert strategy.position_quantity() == 0
    (row,) = algorithm(built, "TWAP").quality
    assert row.status == "cancelled" and 0 < row.filled < 1
