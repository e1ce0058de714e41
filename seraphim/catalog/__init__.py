"""The Parquet data catalog: ingest, provenance, inventory and quality checks."""
