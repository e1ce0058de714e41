"""Benchmarks: each module's ``main()`` prints a table of medians beside a reference."""
