"""
Start a built ``TradingNode``, run it until something asks it to stop, and stop it, every step
bounded in time.

A stop is asked by ``--duration``, SIGINT or SIGTERM, or nautilus itself (a ``ShutdownSystem``
command). The first signal stops gracefully (strategies' ``on_stop``, in-flight orders settle,
clients disconnect); a second one forces: the run ends at once. A start-up that does not reach
a running trader (clients not connected, reconciliation failed) is an error, not a node that
"runs" without trading.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any

from seraphim.node.config import NodeSpec

SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCED_EXIT_CODE = 130


class NodeStartError(RuntimeError):
    """The node did not reach a running trader; the message says what was missing."""


class NodeLifecycle:
    """
    Runs ``node`` (built, not started) on its loop: ``loop.run_until_complete(lifecycle.run())``.

    ``force_exit`` (the CLI passes ``os._exit``) is called with ``FORCED_EXIT_CODE`` on a second
    signal, or when a stop overruns its bound; without it a forced stop ends ``run`` at once.
    """

    def __init__(
        self,
        node: Any,
        spec: NodeSpec,
        duration: float | None = None,
        force_exit: Callable[[int], None] | None = None,
    ) -> None:
        self.node = node
        self.kernel = node.kernel
        self.duration = duration
        self.force_exit = force_exit
        self.start_limit = spec.timeout_connection + spec.timeout_reconciliation + 15.0
        self.stop_limit = spec.timeout_post_stop + spec.timeout_disconnection + 10.0
        self.stop_reason: str | None = None
        self.forced = False
        self._stop_requested = asyncio.Event()
        self._stopped_by_nautilus = False
        self._main: asyncio.Task | None = None
        self._watchdog: threading.Timer | None = None

    # ------------------------------------------------------------------ stop requests

    def request_stop(self, reason: str) -> None:
        """Ask for a graceful stop (a second request while stopping forces it)."""
        if self._stop_requested.is_set():
            self.force(f"{reason} while stopping")
            return
        self.stop_reason = reason
        self._stop_requested.set()
        self.kernel.logger.warning(f"Stopping: {reason} (send SIGINT again to force)")
        if self.force_exit is not None:
            self._watchdog = threading.Timer(self.stop_limit + 5.0, self._overrun)
            self._watchdog.daemon = True
            self._watchdog.start()

    def force(self, reason: str) -> None:
        """End the run now, without waiting for the venue or the clients."""
        self.forced = True
        self.kernel.logger.error(f"Forced stop: {reason}")
        if self.force_exit is not None:
            self.force_exit(FORCED_EXIT_CODE)
        if self._main is not None:
            self._main.cancel()

    def _overrun(self) -> None:
        # On a thread: the loop may be blocked, so this exits without it.
        assert self.force_exit is not None
        self.force_exit(FORCED_EXIT_CODE)

    def _on_signal(self, sig: signal.Signals) -> None:
        self.request_stop(sig.name)

    def _on_shutdown_command(self, command: Any) -> None:
        # nautilus stops itself after this command (kernel._on_shutdown_system): wait for it.
        self._stopped_by_nautilus = True
        if not self._stop_requested.is_set():
            self.stop_reason = f"nautilus shutdown ({getattr(command, 'reason', None)})"
            self._stop_requested.set()

    # ------------------------------------------------------------------ run

    async def run(self) -> str:
        """Start, run until asked to stop, stop; returns why it stopped."""
        self._main = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:  # replaces the kernel's handlers, which ignore a second SIGINT
            loop.add_signal_handler(sig, self._on_signal, sig)
        self.kernel.msgbus.subscribe("commands.system.shutdown", self._on_shutdown_command)
        try:
            await self._start()
            if not self._stop_requested.is_set():
                until = f"for {self.duration:g} s" if self.duration is not None else "until stopped"
                self.kernel.logger.info(f"Node running {until} (SIGINT or SIGTERM stops it)")
            if self.duration is not None and not self._stop_requested.is_set():
                loop.call_later(self.duration, self._duration_over)
            await self._stop_requested.wait()
            await self._stop()
        except asyncio.CancelledError:
            if not self.forced:
                raise
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)
            if self._watchdog is not None:
                self._watchdog.cancel()
        return self.stop_reason or ""

    def _duration_over(self) -> None:
        if not self._stop_requested.is_set():
            self.request_stop(f"--duration {self.duration:g} s over")

    async def _start(self) -> None:
        start = asyncio.ensure_future(self.kernel.start_async())
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            done, _ = await asyncio.wait(
                {start, stop}, timeout=self.start_limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop.cancel()
        if start not in done:
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await start
            if self._stop_requested.is_set():
                return  # stopped during start-up: run() stops what was started
            await self._stop()
            raise NodeStartError(
                f"node did not start within {self.start_limit:.0f} s ({self._not_ready()})"
            )
        if start.exception() is not None:
            await self._stop()
            raise start.exception()
        if not self.kernel.trader.is_running and not self._stop_requested.is_set():
            problem = self._not_ready()
            await self._stop()
            raise NodeStartError(f"node did not start: {problem}; see the log above")

    def _not_ready(self) -> str:
        kernel = self.kernel
        if not kernel.data_engine.check_connected() or not kernel.exec_engine.check_connected():
            names = [
                f"{kind} client {client.id}"
                for kind, client in node_clients(kernel)
                if not client.is_connected
            ]
            return "not connected: " + (", ".join(names) or "clients")
        if kernel.exec_engine.reconciliation and not kernel.trader.is_running:
            return "execution state could not be reconciled with the venue"
        return "the trader did not start"

    async def _stop(self) -> None:
        if self._stopped_by_nautilus:
            await self._wait_kernel_stopped()
            return
        try:
            await asyncio.wait_for(self.node.stop_async(), self.stop_limit)
        except TimeoutError:
            self.kernel.logger.error(f"Stop did not finish within {self.stop_limit:.0f} s")

    async def _wait_kernel_stopped(self) -> None:
        try:
            async with asyncio.timeout(self.stop_limit):
                while self.kernel.is_running():
                    await asyncio.sleep(0.1)
        except TimeoutError:
            self.kernel.logger.error(f"Stop did not finish within {self.stop_limit:.0f} s")


def node_clients(kernel: Any) -> list[tuple[str, Any]]:
    """The node's data and execution clients (objects, not ids)."""
    # nautilus 1.231 exposes only client ids (registered_clients); the objects are in _clients.
    return [("data", c) for c in kernel.data_engine._clients.values()] + [
        ("exec", c) for c in kernel.exec_engine._clients.values()
    ]
