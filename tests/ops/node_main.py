"""A node with the operations actors in its own process (for the heartbeat-lost test):
``python -m ops.node_main NODE_FILE`` with ``tests`` on PYTHONPATH."""

from __future__ import annotations

import sys

from seraphim.node.config import load_node_spec
from seraphim.node.lifecycle import NodeLifecycle
from seraphim.node.runner import build_node
from seraphim.node.runner import dispose_node
from seraphim.node.runner import node_config_for
from seraphim.ops import node_actors

from .harness import ticker


def main(path: str) -> None:
    spec, base = load_node_spec(path)
    config, _, _ = node_config_for(
        spec, base, extra_strategies=[ticker()], operations=node_actors(heartbeat_secs=0.5)[:2]
    )
    node, spec = build_node(path, config=config)
    try:
        node.get_event_loop().run_until_complete(NodeLifecycle(node, spec).run())
    finally:
        dispose_node(node)


if __name__ == "__main__":
    main(sys.argv[1])
