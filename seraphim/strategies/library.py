"""The strategy library: importing this module registers every bundled strategy."""

from seraphim.strategies import ma_cross  # noqa: F401
