"""
Portfolio allocation across strategies: weighting schemes (``weights``), the ``portfolio:``
section (``config``), each strategy's capital book (``books``), the allocator actor that
rebalances on schedule and on drift (``actor``) and its records as tables (``tables``).
See docs/PORTFOLIO.md.
"""
