"""Kraken Spot adapter for nautilus_trader."""
