"""Child schedules: exact totals, the venue's minimum, seeded and ordered times, profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from seraphim.execution.params import TwapParams
from seraphim.execution.params import VwapParams
from seraphim.execution.params import parse_params
from seraphim.execution.schedule import split_quantity
from seraphim.execution.schedule import twap_offsets
from seraphim.execution.schedule import twap_schedule
from seraphim.execution.schedule import volume_profile
from seraphim.execution.schedule import vwap_schedule

INC = Decimal("0.00000001")
HOUR = 3600 * 10**9


@pytest.mark.parametrize("total", ["1", "0.3", "7.12345678", "0.0005"])
@pytest.mark.parametrize("slices", [1, 3, 7, 10])
def test_parts_always_add_up_and_respect_the_minimum(total, slices) -> None:
    parts = split_quantity(Decimal(total), [1.0] * slices, INC, Decimal("0.0001"))
    assert sum(parts) == Decimal(total)
    assert all(p == 0 or p >= Decimal("0.0001") for p in parts)
    assert all(p == (p // INC) * INC for p in parts)


def test_too_small_parts_merge_into_the_next() -> None:
    parts = split_quantity(Decimal("0.0003"), [1.0] * 10, INC, Decimal("0.0001"))
    assert sum(parts) == Decimal("0.0003")
    # 0.00003 per slice: carried until a child reaches the minimum; the short tail joins the last.
    assert [p for p in parts if p] == [Decimal("0.00012"), Decimal("0.00018")]
    assert parts.index(Decimal("0.00012")) == 3


def test_offsets_are_seeded_ordered_and_within_the_jitter() -> None:
    a = twap_offsets(600 * 10**9, 10, 0.3, seed=1)
    assert a == twap_offsets(600 * 10**9, 10, 0.3, seed=1)
    assert a != twap_offsets(600 * 10**9, 10, 0.3, seed=2)
    assert a[0] == 0 and a == sorted(a)
    for number, offset in enumerate(a[1:], start=1):
        assert abs(offset - number * 60 * 10**9) <= 0.3 * 60 * 10**9
    assert twap_offsets(600 * 10**9, 10, 0.0, seed=9) == [n * 60 * 10**9 for n in range(10)]


def test_twap_schedule_equal_parts() -> None:
    slices = twap_schedule(Decimal(1), 600 * 10**9, 4, 0.0, 0, INC)
    assert [s.quantity for s in slices] == [Decimal("0.25")] * 4


def test_profile_and_vwap_schedule_follow_volume() -> None:
    # Volume only at 01:00-02:00 and 03:00-04:00 (bars stamped inside their hour), 1:3.
    rows = [(HOUR + 1, 10.0), (3 * HOUR + 1, 30.0), (86_400 * 10**9 + HOUR + 5, 10.0)]
    profile = volume_profile(rows, 24, HOUR)
    assert profile[1] == pytest.approx(20 / 50) and profile[3] == pytest.approx(30 / 50)
    slices = vwap_schedule(Decimal(5), 0, 4 * HOUR, 4, profile, HOUR, INC)
    assert [s.quantity for s in slices] == [0, 2, 0, 3]
    assert [s.offset_ns for s in slices] == [0, HOUR, 2 * HOUR, 3 * HOUR]


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (TwapParams, {"slices": 3}, "duration_secs"),
        (TwapParams, {"duration_secs": 60, "slices": 0}, "slices must be at least 1"),
        (TwapParams, {"duration_secs": 60, "slices": 3, "jitter": 0.7}, "jitter"),
        (TwapParams, {"duration_secs": 60, "slices": 3, "child": "stop"}, "child"),
        (TwapParams, {"duration_secs": 60, "slices": 3, "bogus": 1}, "bogus"),
        (VwapParams, {"duration_secs": 60, "slices": 3}, "profile or a bar_type"),
    ],
)
def test_bad_parameters_are_named_in_one_line(kind, raw, message) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_params(kind, raw, "ALGO")
    assert "\n" not in str(error.value) and str(error.value).startswith("ALGO parameters:")
