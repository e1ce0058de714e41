"""Live nodes: nautilus ``TradingNode`` runs from ``node_configs/`` files."""
