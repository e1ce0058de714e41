"""The catalog's inventory for the dashboard: each series with its range, rows and gaps."""

from __future__ import annotations

from pathlib import Path

from seraphim.catalog.inventory import list_series
from seraphim.catalog.quality import check_catalog
from seraphim.catalog.store import SeraphimCatalog

TIMED = ("bar", "trade_tick", "quote_tick")


def inventory(path: Path) -> dict:
    """``{"catalog": path, "series": [...]}``; gaps and other findings from the quality checks."""
    if not path.is_dir():
        return {"catalog": str(path), "series": [], "error": f"no catalog at {path}"}
    catalog = SeraphimCatalog(path, create=False)
    findings = {r.identifier: r.findings for r in check_catalog(catalog)}
    series = []
    for info in list_series(catalog):
        found = findings.get(info.identifier, [])
        timed = info.data_type in TIMED  # an instrument definition has no time range
        series.append(
            {
                "data_type": info.data_type,
                "identifier": info.identifier,
                "rows": info.rows,
                "start": info.start.isoformat() if timed and info.start is not None else None,
                "end": info.end.isoformat() if timed and info.end is not None else None,
                "synthetic": info.synthetic,
                "sources": info.sources,
                "gaps": next((f.count for f in found if f.check.startswith("gaps")), 0)
                if info.data_type == "bar"
                else None,
                "findings": [
                    {
                        "severity": f.severity,
                        "check": f.check,
                        "count": f.count,
                        "examples": f.examples,
                    }
                    for f in found
                ],
            }
        )
    return {"catalog": str(path), "series": series}
