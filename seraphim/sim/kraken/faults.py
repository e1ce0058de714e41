"""
Fault injection, scriptable from tests (``sim.faults.rest_error("5xx", count=2)``), from the
control endpoint (``POST /_sim/faults``) and from the command line (``--fault rest_5xx:count=2``).

Every fault that fires is appended to :attr:`Faults.fired` so a test can check it happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

REST_KINDS = ("5xx", "timeout", "unavailable", "busy")
BOOK_KINDS = ("corrupt", "skip")
EXEC_KINDS = ("delay", "duplicate", "reorder")


@dataclass
class _Armed:
    kind: str
    count: int
    methods: frozenset[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class Faults:
    """The faults armed on one exchange; each ``count`` is the number of times it fires."""

    def __init__(self) -> None:
        self._rest: list[_Armed] = []
        self._lost_acks: list[_Armed] = []
        self._book: list[_Armed] = []
        self._exec: list[_Armed] = []
        self._scheduled: list[tuple[float, dict[str, Any]]] = []
        self.fired: list[dict[str, Any]] = []
        # Set by the server: closes WebSocket connections ("public", "private" or "all").
        self.drop_handler: Callable[[str], int] | None = None
        self.status_handler: Callable[[str], None] | None = None

    # ------------------------------------------------------------ arming

    def rest_error(
        self,
        kind: str,
        *,
        count: int = 1,
        methods: list[str] | None = None,
        status: int = 503,
        delay: float = 30.0,
    ) -> None:
        """
        Make REST calls fail: ``5xx`` (HTTP ``status`` with an HTML body), ``timeout`` (no answer
        for ``delay`` seconds, then the connection closes), ``unavailable``
        (``EService:Unavailable``) or ``busy`` (``EService:Busy``).
        """
        if kind not in REST_KINDS:
            raise ValueError(f"unknown REST fault {kind!r} (one of {', '.join(REST_KINDS)})")
        self._rest.append(
            _Armed(kind, count, _methods(methods), {"status": status, "delay": delay})
        )

    def lose_ack(self, *, count: int = 1, methods: list[str] | None = None) -> None:
        """Accept orders but lose the acknowledgement (REST: connection dropped; WS: no reply)."""
        self._lost_acks.append(
            _Armed("lose_ack", count, _methods(methods or ["AddOrder", "add_order"]))
        )

    def corrupt_book(self, *, symbol: str | None = None, count: int = 1) -> None:
        """Send a wrong quantity in the next book update(s) so the client's checksum fails."""
        self._book.append(_Armed("corrupt", count, _methods([symbol] if symbol else None)))

    def skip_book(self, *, symbol: str | None = None, count: int = 1) -> None:
        """Leave out the next book update(s) so the client's next checksum fails."""
        self._book.append(_Armed("skip", count, _methods([symbol] if symbol else None)))

    def delay_executions(self, seconds: float, *, count: int = 1) -> None:
        """Hold back the next execution message(s) for ``seconds`` (later ones overtake)."""
        self._exec.append(_Armed("delay", count, None, {"seconds": seconds}))

    def duplicate_executions(self, *, count: int = 1) -> None:
        """Send the next execution message(s) twice."""
        self._exec.append(_Armed("duplicate", count))

    def reorder_executions(self, *, count: int = 1) -> None:
        """Swap the next execution message(s) with the one after."""
        self._exec.append(_Armed("reorder", count))

    def drop_ws(self, which: str = "all") -> int:
        """Close WebSocket connections now (public, private or all); returns how many."""
        if which not in ("public", "private", "all"):
            raise ValueError("drop_ws takes public, private or all")
        dropped = self.drop_handler(which) if self.drop_handler else 0
        self._record("drop_ws", which=which, connections=dropped)
        return dropped

    def system_status(self, status: str) -> None:
        """Switch the system status (online, maintenance, cancel_only, post_only)."""
        if self.status_handler is None:
            raise RuntimeError("no exchange attached")
        self.status_handler(status)
        self._record("status", status=status)

    def clear(self) -> None:
        """Disarm everything."""
        self._rest.clear()
        self._lost_acks.clear()
        self._book.clear()
        self._exec.clear()
        self._scheduled.clear()

    # ------------------------------------------------------------ specs (CLI, control endpoint)

    def apply(self, spec: dict[str, Any], now: float | None = None) -> None:
        """
        Arm a fault from a plain dict, e.g. ``{"fault": "rest_5xx", "count": 2}``. With ``at``
        (exchange time) or ``after`` (seconds from ``now``) it is scheduled instead.
        """
        spec = dict(spec)
        name = spec.pop("fault", None)
        at = spec.pop("at", None)
        after = spec.pop("after", None)
        if after is not None and now is not None:
            at = now + float(after)
        if at is not None:
            self._scheduled.append((float(at), {"fault": name, **spec}))
            self._scheduled.sort(key=lambda s: s[0])
            return
        count = int(spec.get("count", 1))
        methods = spec.get("methods")
        if isinstance(methods, str):
            methods = methods.split("+")
        if name in ("rest_5xx", "rest_timeout", "rest_unavailable", "rest_busy"):
            kind = name.removeprefix("rest_")
            self.rest_error(
                kind,
                count=count,
                methods=methods,
                status=int(spec.get("status", 503)),
                delay=float(spec.get("delay", 30.0)),
            )
        elif name == "lose_ack":
            self.lose_ack(count=count, methods=methods)
        elif name in ("corrupt_book", "skip_book"):
            getattr(self, name)(symbol=spec.get("symbol"), count=count)
        elif name == "delay_exec":
            self.delay_executions(float(spec.get("seconds", 1.0)), count=count)
        elif name == "duplicate_exec":
            self.duplicate_executions(count=count)
        elif name == "reorder_exec":
            self.reorder_executions(count=count)
        elif name == "drop_ws":
            self.drop_ws(spec.get("which", "all"))
        elif name == "status":
            self.system_status(spec.get("value") or spec.get("status") or "online")
        else:
            raise ValueError(f"unknown fault {name!r}")

    def run_due(self, now: float) -> None:
        """Arm or fire scheduled faults whose time has come."""
        while self._scheduled and self._scheduled[0][0] <= now:
            _, spec = self._scheduled.pop(0)
            self.apply(spec)

    # ------------------------------------------------------------ consuming

    def _record(self, fault: str, **details: Any) -> None:
        self.fired.append({"fault": fault, **details})

    @staticmethod
    def _take(armed: list[_Armed], key: str) -> _Armed | None:
        for entry in armed:
            if entry.matches(key):
                entry.count -= 1
                if entry.count <= 0:
                    armed.remove(entry)
                return entry
        return None

    def take_rest(self, method: str) -> _Armed | None:
        """The REST fault to apply to this call, if one is armed."""
        entry = self._take(self._rest, method)
        if entry:
            self._record(f"rest_{entry.kind}", method=method)
        return entry

    def take_lost_ack(self, method: str) -> bool:
        """True when this call's acknowledgement must be lost."""
        entry = self._take(self._lost_acks, method)
        if entry:
            self._record("lose_ack", method=method)
        return entry is not None

    def take_book(self, symbol: str) -> str | None:
        """``corrupt``, ``skip`` or None for the next book update of ``symbol``."""
        entry = self._take(self._book, symbol)
        if entry:
            self._record(f"{entry.kind}_book", symbol=symbol)
        return entry.kind if entry else None

    def take_exec(self) -> tuple[str, dict[str, Any]] | None:
        """The fault for the next execution message, if any."""
        entry = self._take(self._exec, "")
        if entry:
            self._record(f"{entry.kind}_exec", **entry.params)
        return (entry.kind, entry.params) if entry else None

    def describe(self) -> dict[str, Any]:
        """What is armed and what has fired (for the inspection endpoint)."""

        def rows(armed: list[_Armed]) -> list[dict[str, Any]]:
            return [
                {"kind": a.kind, "count": a.count, "methods": sorted(a.methods or []), **a.params}
                for a in armed
            ]

        return {
            "rest": rows(self._rest),
            "lose_ack": rows(self._lost_acks),
            "book": rows(self._book),
            "executions": rows(self._exec),
            "scheduled": [{"at": at, **spec} for at, spec in self._scheduled],
            "fired": list(self.fired),
        }


def _methods(methods: list[str] | None) -> frozenset[str] | None:
    return frozenset(methods) if methods else None


def parse_fault_option(text: str) -> dict[str, Any]:
    """``rest_5xx:count=2,methods=AddOrder+Balance`` -> ``{"fault": "rest_5xx", ...}``."""
    name, _, rest = text.partition(":")
    spec: dict[str, Any] = {"fault": name.strip()}
    for part in filter(None, rest.split(",")):
        key, _, value = part.partition("=")
        spec[key.strip()] = value.strip()
    return spec


async def sleep_forever_or(delay: float) -> None:
    """Stall a REST call (the timeout fault)."""
    await asyncio.sleep(delay)
