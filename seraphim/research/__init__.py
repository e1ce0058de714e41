"""Research: parameter sweeps, optimisation, walk-forward and bias checks over backtests."""
