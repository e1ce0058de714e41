"""
Parameter spaces from the command line: grids (``fast=5:50:5``), lists (``ma_type=sma,ema``),
random samples (``trade_size=0.1~1.0``) and constraints between parameters (``fast<slow``).

A name addresses the first strategy of the config; ``1.fast`` addresses the second.
"""

from __future__ import annotations

import itertools
import operator
import random
import re
from dataclasses import dataclass
from typing import Any

Value = int | float | str | bool
Params = dict[str, Value]


class ParamError(ValueError):
    """A parameter, grid or constraint the command line cannot use; the message says why."""


def parse_value(text: str) -> Value:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


@dataclass(frozen=True)
class Axis:
    """One parameter's values: a list for grids, or bounds to sample from."""

    name: str
    values: tuple[Value, ...] = ()  # a grid or a list
    low: float | None = None  # random samples (ints when both bounds are ints)
    high: float | None = None
    step: Value | None = None  # for optimisers: the grid's step

    @property
    def is_random(self) -> bool:
        return not self.values

    def sample(self, rng: random.Random) -> Value:
        if isinstance(self.low, int) and isinstance(self.high, int):
            return rng.randint(self.low, self.high)
        return rng.uniform(self.low, self.high)


def parse_axis(text: str) -> Axis:
    """``name=start:stop:step`` (inclusive), ``name=a,b,c``, ``name=low~high`` or ``name=v``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec:
        raise ParamError(
            f"bad parameter {text!r}: expected NAME=start:stop:step, NAME=a,b or NAME=low~high"
        )
    if "~" in spec:
        low, high = (parse_value(v) for v in spec.split("~", 1))
        if not all(isinstance(v, int | float) for v in (low, high)) or low >= high:
            raise ParamError(f"bad range {text!r}: expected numbers low~high with low < high")
        return Axis(name, low=low, high=high)
    if ":" in spec:
        parts = [parse_value(v) for v in spec.split(":")]
        if len(parts) != 3 or not all(isinstance(v, int | float) for v in parts) or parts[2] <= 0:
            raise ParamError(f"bad grid {text!r}: expected start:stop:step with a positive step")
        start, stop, step = parts
        count = int((stop - start) / step + 1e-9) + 1
        if count < 1:
            raise ParamError(f"bad grid {text!r}: stop is below start")
        values = tuple(_round(start + i * step) for i in range(count))
        return Axis(name, values=values, low=start, high=stop, step=step)
    return Axis(name, values=tuple(parse_value(v.strip()) for v in spec.split(",")))


def _round(value: float) -> Value:
    return value if isinstance(value, int) else round(value, 12)


_OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CONSTRAINT = re.compile(r"^\s*([\w.]+)\s*(<=|>=|==|!=|<|>)\s*([\w.\-]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``left OP right`` where each side is a parameter name or a number."""

    text: str
    left: str
    op: str
    right: str

    def holds(self, params: Params) -> bool:
        return _OPERATORS[self.op](
            self._operand(self.left, params), self._operand(self.right, params)
        )

    def _operand(self, token: str, params: Params) -> Value:
        return params[token] if token in params else parse_value(token)


def parse_constraint(text: str, names: set[str]) -> Constraint:
    match = _CONSTRAINT.match(text)
    if match is None:
        raise ParamError(f"bad constraint {text!r}: expected e.g. fast<slow")
    left, op, right = match.groups()
    for token in (left, right):
        if token not in names and isinstance(parse_value(token), str):
            raise ParamError(f"constraint {text!r} names {token!r}, which is not a swept parameter")
    return Constraint(text.strip(), left, op, right)


@dataclass(frozen=True)
class Candidate:
    """A point of the space; ``skipped`` says which constraint it breaks (then it is not run)."""

    params: Params
    skipped: str | None = None


def candidates(
    axes: list[Axis],
    constraints: list[Constraint] = (),
    samples: int | None = None,
    seed: int = 0,
) -> list[Candidate]:
    """
    The grid's cross product, or ``samples`` random points (random axes need ``samples``;
    grid and list axes are then sampled uniformly from their values). Same seed, same points.
    """
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise ParamError(f"a parameter is given twice: {', '.join(names)}")
    if samples is None:
        randoms = [a.name for a in axes if a.is_random]
        if randoms:
            raise ParamError(f"{', '.join(randoms)}: a low~high range needs --samples N")
        points = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(a.values for a in axes))
        ]
    else:
        rng = random.Random(seed)
        points = [
            {a.name: (a.sample(rng) if a.is_random else rng.choice(a.values)) for a in axes}
            for _ in range(samples)
        ]
    out = []
    for point in points:
        broken = next((c.text for c in constraints if not c.holds(point)), None)
        out.append(Candidate(point, skipped=f"constraint {broken} is false" if broken else None))
    return out


def strategy_params(params: Params, strategies: int) -> list[dict[str, Any]]:
    """Split ``{"fast": 5, "1.slow": 9}`` into each strategy's overrides (by index)."""
    per: list[dict[str, Any]] = [{} for _ in range(strategies)]
    for key, value in params.items():
        index, _, name = key.rpartition(".")
        position = int(index) if index.isdigit() else 0
        if index and not index.isdigit():
            raise ParamError(f"bad parameter name {key!r}: expected NAME or INDEX.NAME")
        if position >= strategies:
            raise ParamError(
                f"{key!r}: the config has {strategies} strateg{'y' if strategies == 1 else 'ies'}"
            )
        per[position][name] = value
    return per
