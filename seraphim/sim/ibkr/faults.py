"""IB's awkward behaviour, on demand: pacing (162), permissions (354/10167/10168), connectivity.

``Faults`` holds the switches the request handlers consult; the server acts on the
connectivity and restart switches (see ``IbkrSimServer.lose_connectivity`` and friends).
A ``FaultScript`` schedules actions (from the CLI or tests) at offsets from start.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from dataclasses import field

# Pacing rules of the historical data farm (TWS API docs, "Historical Data Limitations").
IDENTICAL_WINDOW = 15.0
SAME_CONTRACT_WINDOW = 2.0
SAME_CONTRACT_MAX = 5
ROLLING_WINDOW = 600.0
ROLLING_MAX = 60

PERMISSION_LIVE = "live"
PERMISSION_DELAYED = "delayed"
PERMISSION_NONE = "none"


@dataclass
class PacingGuard:
    """Counts historical requests and says when one breaks IB's pacing rules."""

    enabled: bool = False
    _history: deque[tuple[float, tuple, int]] = field(default_factory=deque)

    def check(self, now: float, key: tuple, con_id: int) -> str | None:
        """Record a request; returns the violation text, or None when it may proceed."""
        if not self.enabled:
            return None
        while self._history and now - self._history[0][0] > ROLLING_WINDOW:
            self._history.popleft()
        reason = None
        if any(k == key and now - t < IDENTICAL_WINDOW for t, k, _ in self._history):
            reason = "identical request within 15 seconds"
        elif sum(
            1 for t, _, c in self._history if c == con_id and now - t < SAME_CONTRACT_WINDOW
        ) >= (SAME_CONTRACT_MAX):
            reason = "six or more requests for the same contract within two seconds"
        elif len(self._history) >= ROLLING_MAX:
            reason = "more than 60 requests within ten minutes"
        if reason is None:
            self._history.append((now, key, con_id))
        return reason

    def reset(self) -> None:
        """Forget the request history."""
        self._history.clear()


@dataclass
class Faults:
    """Switches for simulated IB misbehaviour, shared by every connection of one gateway."""

    pacing: PacingGuard = field(default_factory=PacingGuard)
    permissions: dict[str, str] = field(default_factory=dict)
    connected_to_ib: bool = True
    forced_pacing: int = 0
    unknown_symbols: set[str] = field(default_factory=set)

    def permission(self, symbol: str) -> str:
        """Market data permission for a symbol: live (default), delayed or none."""
        return self.permissions.get(symbol.upper(), PERMISSION_LIVE)

    def set_permission(self, symbol: str, level: str) -> None:
        """Set a symbol's market data permission: 'live', 'delayed' or 'none'."""
        if level not in (PERMISSION_LIVE, PERMISSION_DELAYED, PERMISSION_NONE):
            raise ValueError(f"unknown permission level {level!r}")
        self.permissions[symbol.upper()] = level

    def force_pacing_violations(self, count: int = 1) -> None:
        """Make the next ``count`` historical requests fail with 162 whatever the rules say."""
        self.forced_pacing += count

    def take_forced_pacing(self) -> bool:
        """Consume one forced pacing violation, if any is pending."""
        if self.forced_pacing > 0:
            self.forced_pacing -= 1
            return True
        return False

    def hide_symbol(self, symbol: str) -> None:
        """Answer requests for this symbol with error 200 as if it did not exist."""
        self.unknown_symbols.add(symbol.upper())


FAULT_ACTIONS = (
    "disconnect",
    "reconnect",
    "reconnect-keep",
    "restart",
    "pacing",
    "no-permission",
    "delayed-only",
    "halt",
    "resume",
)


@dataclass(frozen=True)
class ScheduledFault:
    """One scripted action: ``at`` seconds after start, ``action`` with an optional argument."""

    at: float
    action: str
    arg: str = ""

    @classmethod
    def parse(cls, text: str) -> ScheduledFault:
        """Parse ``AT:ACTION[:ARG]``, e.g. ``30:disconnect``, ``40:reconnect``, ``5:restart:10``."""
        parts = text.split(":", 2)
        if len(parts) < 2:
            raise ValueError(f"fault {text!r} is not AT:ACTION[:ARG]")
        action = parts[1].strip().lower()
        if action not in FAULT_ACTIONS:
            raise ValueError(
                f"unknown fault action {action!r}; choose from {', '.join(FAULT_ACTIONS)}"
            )
        return cls(float(parts[0]), action, parts[2] if len(parts) > 2 else "")
