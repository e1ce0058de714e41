"""Seraphim: an algorithmic trading platform on nautilus_trader."""

__version__ = "0.1.0"
