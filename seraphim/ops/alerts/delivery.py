"""
Alert delivery through apprise on a worker thread (a notice never waits on the network on the
event loop): each notice goes to the channels routed for its severity, with retries and backoff,
and is logged and journaled with its outcome. Channel URLs never reach a log or the journal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from seraphim.ops.alerts.engine import Notice
from seraphim.ops.alerts.rules import AlertRules

MAX_QUEUED = 1_000
RETRY_DELAY_SECS = 0.5


class AlertDispatcher:
    def __init__(
        self,
        rules: AlertRules,
        log: Callable[[str], None],
        journal: Callable[[Notice, bool, int, str | None], None] | None = None,
    ) -> None:
        self.rules = rules
        self._log = log
        self._journal = journal
        self._queue: queue.Queue[Notice | None] = queue.Queue(MAX_QUEUED)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered: list[Notice] = []
        self.failed: list[Notice] = []
        self.quiet: list[Notice] = []
        self.dropped = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="seraphim-alerts", daemon=True)
        self._thread.start()

    def submit(self, notice: Notice) -> None:
        """From any thread, never blocks."""
        try:
            self._queue.put_nowait(notice)
        except queue.Full:
            self.dropped += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (within ``timeout``), then end the thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(2.0)
        self._thread = None

    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is None:
                return
            self.deliver(notice)

    def deliver(self, notice: Notice) -> bool:
        urls = self.rules.routes.get(notice.severity, [])
        if not urls:  # quiet routing: logged and journaled only
            self._record(notice, False, 0, None)
            return False
        import apprise

        attempts, error = 0, None
        for attempt in range(self.rules.retries + 1):
            attempts = attempt + 1
            notifier = apprise.Apprise()
            for url in urls:
                notifier.add(url)
            try:
                if notifier.notify(title=notice.title, body=notice.message):
                    self._record(notice, True, attempts, None)
                    return True
                error = "a channel refused or was unreachable"
            except Exception as e:  # a plugin's own failure: retry like any other
                error = f"{type(e).__name__}"
            if self._stop.wait(RETRY_DELAY_SECS * 2**attempt):
                break
        self._record(notice, False, attempts, error)
        return False

    def _record(self, notice: Notice, delivered: bool, attempts: int, error: str | None) -> None:
        kept = self.delivered if delivered else self.failed if error else self.quiet
        kept.append(notice)
        outcome = "delivered" if delivered else f"NOT delivered ({error})" if error else "quiet"
        self._log(f"ALERT {notice.title}: {notice.message} [{outcome}]")
        if self._journal is not None:
            self._journal(notice, delivered, attempts, error)
