import pytest

from seraphim.research.params import Axis
from seraphim.research.params import ParamError
from seraphim.research.params import candidates
from seraphim.research.params import parse_axis
from seraphim.research.params import parse_constraint
from seraphim.research.params import strategy_params


def test_grid_is_inclusive_and_typed():
    assert parse_axis("fast=5:50:5").values == tuple(range(5, 55, 5))
    assert parse_axis("size=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_axis("ma_type=sma,ema").values == ("sma", "ema")
    assert parse_axis("long_only=true").values == (True,)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("fast", "expected NAME="),
        ("fast=5:1:1", "stop is below start"),
        ("fast=1:5:0", "positive step"),
        ("fast=1:5", "start:stop:step"),
        ("size=2~1", "low < high"),
    ],
)
def test_bad_axes_say_why(text, words):
    with pytest.raises(ParamError, match=words):
        parse_axis(text)


def test_constraint_skips_with_a_reason():
    axes = [parse_axis("fast=10:30:10"), parse_axis("slow=20:30:10")]
    rule = parse_constraint("fast<slow", {"fast", "slow"})
    points = candidates(axes, [rule])
    assert len(points) == 6
    skipped = [p for p in points if p.skipped]
    assert [p.params for p in skipped] == [
        {"fast": 20, "slow": 20},
        {"fast": 30, "slow": 20},
        {"fast": 30, "slow": 30},
    ]
    assert skipped[0].skipped == "constraint fast<slow is false"


def test_constraint_must_name_swept_parameters():
    with pytest.raises(ParamError, match="names 'slo', which is not a swept parameter"):
        parse_constraint("fast<slo", {"fast", "slow"})
    assert parse_constraint("fast<=40", {"fast"}).holds({"fast": 40})


def test_random_samples_repeat_with_the_seed():
    axes = [Axis("size", low=0.1, high=1.0), parse_axis("fast=5,10"), Axis("n", low=1, high=9)]
    first = candidates(axes, samples=20, seed=3)
    assert first == candidates(axes, samples=20, seed=3)
    assert first != candidates(axes, samples=20, seed=4)
    assert all(0.1 <= c.params["size"] <= 1.0 and c.params["fast"] in (5, 10) for c in first)
    assert all(isinstance(c.params["n"], int) for c in first)
    with pytest.raises(ParamError, match="needs --samples"):
        candidates(axes)


def test_names_address_strategies_by_index():
    assert strategy_params({"fast": 5, "1.slow": 9}, 2) == [{"fast": 5}, {"slow": 9}]
    with pytest.raises(ParamError, match="has 1 strategy"):
        strategy_params({"1.slow": 9}, 1)
