"""Backtests on nautilus's BacktestNode over the Parquet catalog, with metrics and reports."""
