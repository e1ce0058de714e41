"""Position sizers (they live in ``seraphim.risk.sizing``; re-exported for strategy authors)."""

from seraphim.risk.sizing import AtrVolatilitySizer
from seraphim.risk.sizing import EquityFractionSizer
from seraphim.risk.sizing import FixedQuantitySizer
from seraphim.risk.sizing import KellySizer
from seraphim.risk.sizing import PositionSizer

__all__ = [
    "AtrVolatilitySizer",
    "EquityFractionSizer",
    "FixedQuantitySizer",
    "KellySizer",
    "PositionSizer",
]
