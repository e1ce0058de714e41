"""What a study optimises: a metric of the run and whether more or less of it is better."""

from __future__ import annotations

from dataclasses import dataclass

from seraphim.research.params import ParamError

# Metrics where more is better; others must say :min or :max.
_MAXIMIZED = {
    "sharpe",
    "sortino",
    "calmar",
    "cagr",
    "total_return",
    "profit_factor",
    "win_rate",
    "expectancy",
    "realized_pnl",
    "end_equity",
    "max_drawdown",  # negative: closer to zero is better
}
_MINIMIZED = {"volatility", "max_drawdown_days"}


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str  # "maximize" or "minimize"


def parse_objective(text: str) -> Objective:
    """``sharpe``, ``volatility`` or ``metric:max`` / ``metric:min``."""
    metric, _, way = text.partition(":")
    if way:
        if way not in ("max", "min"):
            raise ParamError(f"bad objective {text!r}: the direction is :max or :min")
        return Objective(metric, "maximize" if way == "max" else "minimize")
    if metric in _MAXIMIZED:
        return Objective(metric, "maximize")
    if metric in _MINIMIZED:
        return Objective(metric, "minimize")
    known = ", ".join(sorted(_MAXIMIZED | _MINIMIZED))
    raise ParamError(f"unknown objective {metric!r} (known: {known}; or METRIC:max|min)")
