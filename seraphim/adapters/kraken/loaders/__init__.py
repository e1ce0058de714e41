"""
Kraken's file formats read into nautilus objects (as nautilus's adapters keep ``loaders.py``):
the downloadable OHLCVT CSVs and saved REST responses. The catalog stores what they return.
"""
