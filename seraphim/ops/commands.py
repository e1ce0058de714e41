"""
Operator commands to a running node, their signature and their answers.

A command is signed with HMAC-SHA256 under the operator secret over its canonical JSON (every
field but ``sig``, in declaration order), so the trader, the action, its arguments, the command
id and the time are all covered: changing any of them, or sending it to another trader, breaks
the signature. A node refuses a command whose ``ts`` is further than ``max_age`` from its clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from decimal import Decimal
from decimal import InvalidOperation
from typing import Literal

import msgspec

ACTIONS = (
    "pause",
    "resume",
    "set-params",
    "stop",
    "start",
    "cancel",
    "flatten",
    "state",
    "reset-guard",
    "order",
)
TRADING_STATES = ("ACTIVE", "REDUCING", "HALTED")
NEEDS_STRATEGY = ("pause", "resume", "set-params", "stop", "start")
DEFAULT_MAX_AGE_SECS = 30.0
# A client order id, e.g. O-20260105-120000-001-000-1.
ORDER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class CommandError(ValueError):
    """A command that cannot be sent or run as given (one line naming the problem)."""


class ManualOrder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    instrument_id: str
    side: Literal["BUY", "SELL"]
    quantity: str
    type: Literal["MARKET", "LIMIT"] = "MARKET"
    price: str | None = None
    time_in_force: Literal["GTC", "IOC", "FOK", "DAY"] | None = None


class ControlCommand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    trader_id: str
    action: str
    operator: str
    ts: int  # UNIX nanoseconds when signed
    strategy_id: str | None = None
    instrument_id: str | None = None
    client_order_id: str | None = None  # cancel: this one order only
    params: dict = {}
    state: str | None = None
    order: ManualOrder | None = None
    sig: str = ""

    def describe(self) -> str:
        """What it asks for, in a few words (for logs and the journal; no signature)."""
        parts = [self.action]
        if self.strategy_id:
            parts.append(self.strategy_id)
        if self.instrument_id:
            parts.append(self.instrument_id)
        if self.client_order_id:
            parts.append(self.client_order_id)
        if self.state:
            parts.append(self.state)
        if self.params:
            parts.append(msgspec.json.encode(self.params).decode())
        if self.order:
            o = self.order
            price = f" @ {o.price}" if o.price else ""
            parts.append(f"{o.type} {o.side} {o.quantity} {o.instrument_id}{price}")
        return " ".join(parts)

    def public(self) -> dict:
        """The command as builtins without its signature."""
        out = msgspec.to_builtins(self)
        out.pop("sig", None)
        return out


class CommandResult(msgspec.Struct, frozen=True):
    id: str
    status: Literal["done", "refused"]
    detail: str
    ts: int
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "done"


def validate(command: ControlCommand) -> None:
    """Raise ``CommandError`` for a command no node could run (checked before sending too)."""
    if command.action not in ACTIONS:
        raise CommandError(f"unknown action {command.action!r} (one of {', '.join(ACTIONS)})")
    if not command.id or len(command.id) > 128:
        raise CommandError("a command id must be 1 to 128 characters")
    if command.action in NEEDS_STRATEGY and not command.strategy_id:
        raise CommandError(f"{command.action} needs a strategy id")
    if command.action == "set-params" and not command.params:
        raise CommandError("set-params needs at least one NAME=VALUE")
    if command.action == "state" and command.state not in TRADING_STATES:
        raise CommandError(
            f"trading state must be one of {', '.join(TRADING_STATES)} (got {command.state!r})"
        )
    if command.action == "order":
        _validate_order(command.order)
    if command.client_order_id is not None:
        _validate_order_id(command)


def _validate_order_id(command: ControlCommand) -> None:
    ident = command.client_order_id
    if command.action != "cancel":
        raise CommandError(f"an order id goes with cancel only, not {command.action}")
    if command.strategy_id or command.instrument_id:
        raise CommandError("cancel one order by its id, or by strategy/instrument, not both")
    if not ORDER_ID.fullmatch(ident):
        raise CommandError(f"invalid client order id {ident!r}")


def _validate_order(order: ManualOrder | None) -> None:
    if order is None:
        raise CommandError("order needs an instrument, a side and a quantity")
    if "." not in order.instrument_id:
        raise CommandError(
            f"instrument id {order.instrument_id!r} needs a venue, e.g. BTC/USD.KRAKEN"
        )
    if _positive(order.quantity) is None:
        raise CommandError(f"order quantity must be a positive number (got {order.quantity!r})")
    if order.type == "LIMIT" and (order.price is None or _positive(order.price) is None):
        raise CommandError("a LIMIT order needs a positive --price")
    if order.type == "MARKET" and order.price is not None:
        raise CommandError("a MARKET order takes no price")


def _positive(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return None
    return value if value.is_finite() and value > 0 else None


def _payload(command: ControlCommand) -> bytes:
    return msgspec.json.encode(msgspec.structs.replace(command, sig=""))


def sign(command: ControlCommand, secret: bytes) -> ControlCommand:
    digest = hmac.new(secret, _payload(command), hashlib.sha256).hexdigest()
    return msgspec.structs.replace(command, sig=digest)


def verify(command: ControlCommand, secret: bytes, now_ns: int, max_age_secs: float) -> str | None:
    """Why the command must be refused (unsigned, forged, stale, another trader's), else None."""
    if not command.sig:
        return "unsigned command"
    expected = hmac.new(secret, _payload(command), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, command.sig):
        return "bad signature"
    age = (now_ns - command.ts) / 1e9
    if abs(age) > max_age_secs:
        return f"stale command: signed {age:.1f} s ago (window {max_age_secs:g} s)"
    return None


def new_command(trader_id: str, action: str, operator: str, **fields) -> ControlCommand:
    """A validated, unsigned command with a fresh id (unless ``id`` is given)."""
    fields.setdefault("id", uuid.uuid4().hex)
    command = ControlCommand(
        trader_id=trader_id, action=action, operator=operator, ts=time.time_ns(), **fields
    )
    validate(command)
    return command


def decode(raw: bytes) -> ControlCommand:
    try:
        return msgspec.json.decode(raw, type=ControlCommand)
    except msgspec.DecodeError as e:
        raise CommandError(f"malformed command: {e}") from None
