"""Live nodes, read from Redis: health, strategies, orders, positions, exposure, risk."""

from __future__ import annotations

from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Depends
from fastapi import HTTPException
from fastapi import Path
from fastapi import Query
from fastapi import Request

from seraphim.dashboard.deps import services
from seraphim.dashboard.deps import session

router = APIRouter(prefix="/api/nodes", tags=["nodes"], dependencies=[Depends(session)])

TraderId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$", max_length=64, description="e.g. SERAPHIM-001"
    ),
]
Status = Literal["all", "open", "closed"]
# One Query object per parameter: FastAPI binds a shared one to the first parameter's name.
StrategyFilter = Annotated[
    str | None, Query(max_length=128, description="strategy id or a glob (* and ?)")
]
InstrumentFilter = Annotated[
    str | None, Query(max_length=128, description="instrument id or a glob (* and ?)")
]


def _known(request: Request, trader_id: str):
    nodes = services(request).nodes
    if not nodes.known(trader_id):
        raise HTTPException(404, f"unknown trader {trader_id}: no node of that name in Redis")
    return nodes


@router.get("")
def list_nodes(request: Request) -> list[dict]:
    """Every node found in Redis with its latest health (status running / stale / stopped)."""
    nodes = services(request).nodes
    healths = nodes.healths()
    return [
        {"trader_id": t, "health": healths.get(t), "control": nodes.has_control_channel(t)}
        for t in nodes.traders()
    ]


@router.get("/{trader_id}", responses={404: {}})
def node(request: Request, trader_id: TraderId) -> dict:
    nodes = _known(request, trader_id)
    return {
        "trader_id": trader_id,
        "health": nodes.health(trader_id),
        "control": nodes.has_control_channel(trader_id),
        "strategies": nodes.strategies(trader_id),
        "accounts": nodes.accounts(trader_id),
        "exposure": nodes.exposure(trader_id),
    }


@router.get("/{trader_id}/strategies", responses={404: {}})
def strategies(request: Request, trader_id: TraderId) -> list[dict]:
    return _known(request, trader_id).strategies(trader_id)


@router.get("/{trader_id}/orders", responses={404: {}})
def orders(
    request: Request,
    trader_id: TraderId,
    status: Status = "all",
    strategy: StrategyFilter = None,
    instrument: InstrumentFilter = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict]:
    """Orders, newest activity first; a denied or rejected order carries its reason."""
    return _known(request, trader_id).orders(trader_id, status, strategy, instrument, limit)


@router.get("/{trader_id}/positions", responses={404: {}})
def positions(
    request: Request,
    trader_id: TraderId,
    status: Status = "all",
    strategy: StrategyFilter = None,
    instrument: InstrumentFilter = None,
) -> list[dict]:
    return _known(request, trader_id).positions(trader_id, status, strategy, instrument)


@router.get("/{trader_id}/risk", responses={404: {}})
def risk(request: Request, trader_id: TraderId) -> dict:
    """Trading state, guard, drawdown, daily P&L, rejects per strategy, denials by rule, and
    ``limits``: each configured risk limit (scope global, a strategy, ``*`` or guard) with its
    current usage in the limit's unit (fractions for percentages, leverage and losses)."""
    return _known(request, trader_id).risk(trader_id)


@router.get("/{trader_id}/equity", responses={404: {}})
def equity(request: Request, trader_id: TraderId) -> list[dict]:
    """The node's equity over the last day, from its heartbeats (oldest first; at most 2,000
    points, each stretch's low and high kept)."""
    return _known(request, trader_id).equity(trader_id)
