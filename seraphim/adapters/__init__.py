"""Venue adapters for nautilus_trader."""
