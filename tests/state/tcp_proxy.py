"""
``python tcp_proxy.py HOST PORT``: the tests' TCP proxy in a process of its own, for a nautilus
kernel in the test process (its native Redis client waits holding the GIL, so a proxy thread in
the same process would stall with it). Prints the listening port; then reads ``down`` / ``up``
lines from stdin and answers each with the same word once done.
"""

from __future__ import annotations

import sys

from journal.proxy import TcpProxy


def main() -> None:
    proxy = TcpProxy((sys.argv[1], int(sys.argv[2])))
    proxy.up()
    print(proxy.port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command in ("down", "up"):
            getattr(proxy, command)()
            print(command, flush=True)
    proxy.down()


if __name__ == "__main__":
    main()
