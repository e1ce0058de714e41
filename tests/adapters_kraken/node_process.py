"""``seraphim node run`` in a child process, and what it printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from seraphim.paths import REPO_ROOT

from .helpers import KEY
from .helpers import SECRET

NODE_RUN = [sys.executable, "-c", "from seraphim.cli import main; main()", "node", "run"]


def node_env(**extra: str) -> dict[str, str]:
    tests = str(REPO_ROOT / "tests")
    return {
        **os.environ,
        "KRAKEN_API_KEY": KEY,
        "KRAKEN_API_SECRET": SECRET,
        "PYTHONPATH": tests + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    }


class NodeProcess:
    """A node run in a child process, its output in ``log``."""

    def __init__(self, config: Path, *args: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [*NODE_RUN, str(config), *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_output(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.proc.poll() is None, f"node exited early:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {needle!r}:\n{self.text()[-3000:]}"
            time.sleep(0.1)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit code; fails (after killing the process) past ``timeout``."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(
                f"node still running after {timeout} s:\n{self.text()[-3000:]}"
            ) from None
        finally:
            self._out.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
