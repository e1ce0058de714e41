"""
Commands to live nodes through the operations control channel (signed, answered, run once per
id): the same commands ``seraphim control`` sends. Each is audited with the user before it is
sent and completed with the node's answer; the user's name is the command's operator.
"""

from __future__ import annotations

from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Path
from fastapi import Request
from pydantic import BaseModel
from pydantic import Field

from seraphim.dashboard.api.nodes import TraderId
from seraphim.dashboard.audit import AuditUnavailable
from seraphim.dashboard.deps import AdminActing
from seraphim.dashboard.deps import TraderActing
from seraphim.dashboard.deps import client_address
from seraphim.dashboard.deps import services
from seraphim.dashboard.services import ControlUnavailable
from seraphim.dashboard.sessions import Session
from seraphim.ops.client import ControlError
from seraphim.ops.commands import ORDER_ID
from seraphim.ops.commands import CommandError
from seraphim.ops.commands import ManualOrder
from seraphim.ops.commands import new_command
from seraphim.state.settings import RedisUnavailable

router = APIRouter(prefix="/api/nodes", tags=["control"])

StrategyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$", max_length=128)]
OrderId = Annotated[
    str, Path(pattern=rf"^{ORDER_ID.pattern}$", description="client order id, e.g. O-...-1")
]
_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
_ANSWERS = {401: {}, 403: {}, 404: {}, 422: {}, 503: {}, 504: {}}


class Answer(BaseModel):
    """The node's answer: done, or refused with the reason (a denied order names the rule)."""

    id: str
    status: Literal["done", "refused"]
    detail: str
    duplicate: bool = False


class Params(BaseModel):
    params: dict[str, str | int | float | bool] = Field(min_length=1, max_length=32)


class OrderTicket(BaseModel):
    instrument_id: str = Field(pattern=r"^[A-Za-z0-9/_-]+\.[A-Za-z0-9_]+$", max_length=64)
    side: Literal["BUY", "SELL"]
    quantity: str = Field(pattern=_DECIMAL, max_length=32)
    type: Literal["MARKET", "LIMIT"] = "MARKET"
    price: str | None = Field(None, pattern=_DECIMAL, max_length=32)
    time_in_force: Literal["GTC", "IOC", "FOK", "DAY"] | None = None


class Scope(BaseModel):
    """Which orders or positions (none given: all of the node's)."""

    strategy_id: str | None = Field(None, max_length=128)
    instrument_id: str | None = Field(None, max_length=64)


class TradingStateChange(BaseModel):
    state: Literal["ACTIVE", "REDUCING", "HALTED"]


class Confirmation(BaseModel):
    confirm: str = Field(description="the trader id again, to confirm", max_length=64)


def _send(request: Request, current: Session, trader_id: str, action: str, **fields) -> Answer:
    svc = services(request)
    try:
        command = new_command(trader_id, action, current.user.name, **fields)
    except CommandError as e:
        raise HTTPException(422, str(e)) from None
    try:
        if not svc.nodes.has_control_channel(trader_id):
            raise HTTPException(404, f"unknown trader {trader_id}: no control channel in Redis")
        client = svc.control()
        audit_id = svc.audit.begin(
            current.user, client_address(request), action, trader_id, command.public()
        )
    except AuditUnavailable as e:
        raise HTTPException(503, str(e)) from None
    except (ControlUnavailable, RedisUnavailable) as e:
        raise HTTPException(503, str(e)) from None
    try:
        result = client.send(command)
    except (ControlError, RedisUnavailable) as e:
        svc.audit.finish(audit_id, "failed", str(e))
        raise HTTPException(504 if isinstance(e, ControlError) else 503, str(e)) from None
    svc.audit.finish(audit_id, result.status, result.detail)
    return Answer(
        id=result.id, status=result.status, detail=result.detail, duplicate=result.duplicate
    )


@router.post(
    "/{trader_id}/strategies/{strategy_id}/{action}", response_model=Answer, responses=_ANSWERS
)
def strategy_action(
    request: Request,
    action: Literal["pause", "resume", "stop", "start"],
    trader_id: TraderId,
    strategy_id: StrategyId,
    current: TraderActing,
) -> Answer:
    """Pause, resume, stop or start a strategy; the node confirms or says why not."""
    return _send(request, current, trader_id, action, strategy_id=strategy_id)


@router.put(
    "/{trader_id}/strategies/{strategy_id}/params", response_model=Answer, responses=_ANSWERS
)
def set_params(
    body: Params,
    request: Request,
    trader_id: TraderId,
    strategy_id: StrategyId,
    current: TraderActing,
) -> Answer:
    """Change parameters of a running strategy (the node checks names and types)."""
    return _send(
        request, current, trader_id, "set-params", strategy_id=strategy_id, params=body.params
    )


@router.post("/{trader_id}/orders", response_model=Answer, responses=_ANSWERS)
def manual_order(
    body: OrderTicket,
    request: Request,
    trader_id: TraderId,
    current: TraderActing,
) -> Answer:
    """A manual order as strategy OPERATOR-OP, through the same risk gate as any strategy's:
    refused with the rule named when the gate denies it."""
    order = ManualOrder(**body.model_dump())
    return _send(request, current, trader_id, "order", order=order)


@router.post("/{trader_id}/cancel", response_model=Answer, responses=_ANSWERS)
def cancel(
    body: Scope, request: Request, trader_id: TraderId,
    current: TraderActing,
) -> Answer:  # fmt: skip
    """Cancel open orders (of a strategy, an instrument, or all)."""
    return _send(request, current, trader_id, "cancel", **body.model_dump(exclude_none=True))


@router.post(
    "/{trader_id}/orders/{client_order_id}/cancel", response_model=Answer, responses=_ANSWERS
)
def cancel_order(
    request: Request, trader_id: TraderId, client_order_id: OrderId,
    current: TraderActing,
) -> Answer:  # fmt: skip
    """Cancel one order by its client order id; the node answers once the venue confirmed
    (an unknown or closed order is refused, saying which)."""
    return _send(request, current, trader_id, "cancel", client_order_id=client_order_id)


@router.post("/{trader_id}/flatten", response_model=Answer, responses=_ANSWERS)
def flatten(
    body: Scope, request: Request, trader_id: TraderId,
    current: TraderActing,
) -> Answer:  # fmt: skip
    """Cancel open orders and close positions (of a strategy, an instrument, or all)."""
    return _send(request, current, trader_id, "flatten", **body.model_dump(exclude_none=True))


@router.post("/{trader_id}/trading-state", response_model=Answer, responses=_ANSWERS)
def trading_state(
    body: TradingStateChange, request: Request, trader_id: TraderId,
    current: AdminActing,
) -> Answer:  # fmt: skip
    """Set the node's trading state (through its risk guard when it has one)."""
    return _send(request, current, trader_id, "state", state=body.state)


@router.post("/{trader_id}/reset-guard", response_model=Answer, responses=_ANSWERS)
def reset_guard(
    body: Confirmation, request: Request, trader_id: TraderId,
    current: AdminActing,
) -> Answer:  # fmt: skip
    """Reset a tripped risk guard (trading state back to ACTIVE); confirm with the trader id."""
    if body.confirm != trader_id:
        raise HTTPException(422, f"to reset the guard, confirm with the trader id {trader_id}")
    return _send(request, current, trader_id, "reset-guard")
