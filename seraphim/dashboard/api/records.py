"""The journal and the catalog: backtest runs, fills, today's P&L, alerts, the audit trail and
the catalog inventory."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Depends
from fastapi import HTTPException
from fastapi import Path
from fastapi import Query
from fastapi import Request
from fastapi.responses import FileResponse

from seraphim.dashboard.audit import AuditUnavailable
from seraphim.dashboard.catalog import inventory
from seraphim.dashboard.deps import AdminReading
from seraphim.dashboard.deps import TraderActing
from seraphim.dashboard.deps import client_address
from seraphim.dashboard.deps import services
from seraphim.dashboard.deps import session
from seraphim.dashboard.records import NotFound

router = APIRouter(prefix="/api", tags=["records"], dependencies=[Depends(session)])

RunId = Annotated[str, Path(description="a run id (uuid)", max_length=64)]
RunQuery = Annotated[str, Query(max_length=64, description="a run id (uuid)")]
TraderFilter = Annotated[str | None, Query(max_length=64, description="a trader id")]
StrategyFilter = Annotated[str | None, Query(max_length=128, description="a strategy id")]
Before = Annotated[
    datetime | None, Query(description="page after this fill's ts_event (with before_trade_id)")
]


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise HTTPException(422, f"{what} {value!r} is not a uuid") from None


def _found(fn, *args):
    try:
        return fn(*args)
    except NotFound as e:
        raise HTTPException(404, str(e)) from None


@router.get("/backtests")
def backtests(
    request: Request,
    kind: Literal["backtest", "live"] | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> list[dict]:
    """Runs from the journal, newest first, with their headline metrics."""
    return services(request).records.runs(kind, limit)


@router.get("/backtests/compare", responses={404: {}, 422: {}})
def compare(request: Request, a: RunQuery, b: RunQuery) -> dict:
    """Two runs' metrics side by side."""
    records = services(request).records
    return _found(records.compare, _uuid(a, "run a"), _uuid(b, "run b"))


@router.get("/backtests/{run_id}", responses={404: {}, 422: {}})
def backtest(request: Request, run_id: RunId) -> dict:
    return _found(services(request).records.run, _uuid(run_id, "run"))


# A report is one self-contained page with inline plotly: its scripts may run, but in a sandbox
# (an origin of its own: no access to the dashboard's cookies or API) and with nothing fetched.
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


@router.get("/backtests/{run_id}/report", response_class=FileResponse, responses={404: {}, 422: {}})
def report(request: Request, run_id: RunId) -> FileResponse:
    """The run's own ``report.html`` (offline plotly), when its output folder is on this machine."""
    path = _found(services(request).records.report_path, _uuid(run_id, "run"))
    headers = {"Content-Security-Policy": REPORT_CSP}
    return FileResponse(path, media_type="text/html", headers=headers)


@router.get("/fills", responses={422: {}})
def fills(
    request: Request,
    trader: TraderFilter = None,
    strategy: StrategyFilter = None,
    limit: int = Query(100, ge=1, le=1000),
    before_ts: Before = None,
    before_trade_id: str | None = Query(None, max_length=128),
) -> list[dict]:
    """Fills newest first; the next page starts before the last row's ts_event and trade_id."""
    if (before_ts is None) != (before_trade_id is None):
        raise HTTPException(422, "page with both before_ts and before_trade_id, or neither")
    before = (before_ts, before_trade_id) if before_ts is not None else None
    return services(request).records.fills(trader, strategy, limit, before)


@router.get("/pnl/today")
def pnl_today(request: Request, trader: TraderFilter = None) -> list[dict]:
    """Per live trader: today's realized P&L, fees and fills by strategy, and its total trades."""
    return services(request).records.today(trader)


@router.get("/alerts")
def alerts(
    request: Request,
    trader: TraderFilter = None,
    open: bool = Query(False, description="only raised alerts nobody acknowledged"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict]:
    return services(request).records.alerts(trader, open, limit)


@router.post("/alerts/{alert_id}/ack", responses={403: {}, 404: {}, 422: {}, 503: {}})
def acknowledge(
    request: Request, alert_id: Annotated[str, Path(max_length=64)],
    current: TraderActing,
) -> dict:  # fmt: skip
    alert_id = _uuid(alert_id, "alert")
    svc = services(request)
    try:
        audit_id = svc.audit.begin(current.user, client_address(request), "ack-alert", alert_id, {})
    except AuditUnavailable as e:
        raise HTTPException(503, str(e)) from None
    try:
        acked = svc.records.acknowledge(alert_id, current.user.name)
    except NotFound as e:
        svc.audit.finish(audit_id, "refused", str(e))
        raise HTTPException(404, str(e)) from None
    svc.audit.finish(audit_id, "done", "acknowledged")
    return acked


@router.get("/audit", responses={403: {}})
def audit(
    request: Request,
    _admin: AdminReading,
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1),
) -> list[dict]:
    """What was done through the dashboard, by whom, newest first (admin)."""
    return services(request).audit.recent(limit, before)


@router.get("/catalog")
def catalog(request: Request) -> dict:
    """The catalog's series with their ranges, rows, provenance and gaps."""
    return inventory(services(request).settings.catalog)
