"""
Two gaps nautilus 1.231's IB client still has, closed from outside (no fork of the adapter).

1. **Market data lost on a quick 1100/1101 pair.** TWS sends 1100 (connectivity to IB lost)
   and later 1101 (restored, market data subscriptions lost: resubscribe) or 1102 (restored,
   data kept). nautilus clears its connected flag on 1100 and sets it again on 1101; only its
   connection watchdog, polling that flag once a second, reconnects and resubscribes. When 1101
   follows 1100 within the poll, nothing resubscribes and bars and quotes stop for good,
   silently (1.231 added resubscription after data-farm outages, 2103/2104, not after 1101).
   :class:`ConnectivityMonitor` resubscribes the market data subscriptions on 1101 unless the
   watchdog's reconnect (which resubscribes anyway) is already under way, asking
   keep-up-to-date bars to backfill from the moment of the loss.

2. **Failed requests wait for their timeout.** An error answering a historical data or
   contract details request (162 pacing violation or "no data", 200 no such contract, 354...)
   ends the request without resolving its future, so the caller waits the full request
   timeout (``request_timeout_secs``) for an empty answer. The monitor resolves it at once with
   what arrived so far and records the error (of every request), so callers (the history
   ingest) can tell "no data" from "pacing violation".

Both hook ``InteractiveBrokersClient.process_error`` on the instance, calling nautilus's own
handling first: the client offers no public hook for system messages or request errors, and
nautilus's factories create and cache the client themselves, so a subclass cannot be
injected. For the same reason the monitor reads the client's request and subscription
registries and readiness flag (private attributes, each marked below).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from nautilus_trader.common.component import Logger

CONNECTIVITY_LOST = 1100
RESTORED_DATA_LOST = 1101
RESTORED_DATA_KEPT = 1102
# Subscriptions that are not market data: TWS keeps them across 1101.
ACCOUNT_SUBSCRIPTIONS = frozenset({"accountSummary", "PositionUpdates"})
_MONITOR_ATTR = "_seraphim_connectivity_monitor"


@dataclass(frozen=True)
class RequestError:
    """An error that answered one request."""

    req_id: int
    code: int
    message: str
    name: Any
    at: float

    @property
    def is_pacing_violation(self) -> bool:
        return self.code == 162 and "pacing" in self.message.lower()

    @property
    def is_no_data(self) -> bool:
        text = self.message.lower()
        return self.code == 162 and ("no data" in text or "returned no" in text)


# Requests whose error answer ends them: resolved at once instead of after their timeout.
FAST_FAIL_REQUESTS = frozenset({"reqHistoricalData", "reqHistoricalTicks", "reqContractDetails"})


def _fails_fast(request: Any) -> bool:
    """Historical data and contract details requests (nautilus wraps the EClient call)."""
    func = getattr(request.handle, "func", request.handle)
    return getattr(func, "__name__", "") in FAST_FAIL_REQUESTS


class ConnectivityMonitor:
    """Installed on one nautilus ``InteractiveBrokersClient`` (see the module docstring)."""

    def __init__(self, client: Any, *, resubscribe: bool = True, fast_fail: bool = True) -> None:
        self.client = client
        self.resubscribe = resubscribe
        self.fast_fail = fast_fail
        self.counts: Counter[str] = Counter()
        self.request_errors: list[RequestError] = []
        self.lost_at_ns: int | None = None
        self._original = client.process_error
        self._log = Logger(type(self).__name__)
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def install(
        cls, client: Any, *, resubscribe: bool = True, fast_fail: bool = True
    ) -> ConnectivityMonitor:
        """Hook the client (once; later calls return the installed monitor)."""
        existing = getattr(client, _MONITOR_ATTR, None)
        if existing is not None:
            existing.resubscribe = existing.resubscribe or resubscribe
            return existing
        monitor = cls(client, resubscribe=resubscribe, fast_fail=fast_fail)
        client.process_error = monitor.process_error  # no public hook (module docstring)
        setattr(client, _MONITOR_ATTR, monitor)
        return monitor

    def stats(self) -> dict[str, int]:
        """Counters for the node summary."""
        shown = ("connectivity_lost", "restored_data_lost", "restored_data_kept", "resubscribed")
        return {**dict.fromkeys(shown, 0), **self.counts}

    async def process_error(
        self,
        *,
        req_id: int,
        error_time: int,
        error_code: int,
        error_string: str,
        advanced_order_reject_json: str = "",
    ) -> None:
        client = self.client
        # The request must be read before nautilus's handling removes it from the registry.
        request = client._requests.get(req_id=req_id) if req_id != -1 else None
        future = request.future if request is not None else None
        partial = list(request.result) if request is not None else []
        await self._original(
            req_id=req_id,
            error_time=error_time,
            error_code=error_code,
            error_string=error_string,
            advanced_order_reject_json=advanced_order_reject_json,
        )
        if request is not None:
            self._on_request_error(request, future, partial, error_code, error_string)
        elif req_id == -1:
            self._on_system_message(error_code)

    def _on_request_error(self, request, future, partial, code: int, message: str) -> None:
        error = RequestError(request.req_id, code, message, request.name, time.time())
        self.request_errors.append(error)
        self.counts["request_errors"] += 1
        if error.is_pacing_violation:
            self.counts["pacing_violations"] += 1
        if self.fast_fail and _fails_fast(request) and future is not None and not future.done():
            future.set_result(partial)

    def _on_system_message(self, code: int) -> None:
        if code == CONNECTIVITY_LOST:
            self.counts["connectivity_lost"] += 1
            self.lost_at_ns = self.client._clock.timestamp_ns()  # the client's (node's) clock
        elif code == RESTORED_DATA_KEPT:
            self.counts["restored_data_kept"] += 1
        elif code == RESTORED_DATA_LOST:
            self.counts["restored_data_lost"] += 1
            if self.resubscribe:
                task = asyncio.get_running_loop().create_task(self._resubscribe_market_data())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _resubscribe_market_data(self) -> None:
        client = self.client
        if client.is_degraded or not client.is_ready:
            # The watchdog saw the loss: its reconnect resubscribes everything.
            self.counts["resubscribe_left_to_reconnect"] += 1
            return
        if self.lost_at_ns is not None:
            # keepUpToDate bar subscriptions backfill from here (nautilus's own mechanism, read
            # from this private attribute by its bar subscriptions).
            client._last_disconnection_ns = self.lost_at_ns
        subscriptions = [  # the registry nautilus's own _resubscribe_all walks
            s for s in client._subscriptions.get_all() if s.name not in ACCOUNT_SUBSCRIPTIONS
        ]
        self._log.warning(
            f"Market data lost (1101): resubscribing {len(subscriptions)} subscription(s)"
        )
        for subscription in subscriptions:
            try:
                result = subscription.handle()
                if inspect.isawaitable(result):
                    await result
                self.counts["resubscribed"] += 1
            except Exception as e:
                self.counts["resubscribe_failures"] += 1
                self._log.exception(f"Failed to resubscribe {subscription.name}", e)
