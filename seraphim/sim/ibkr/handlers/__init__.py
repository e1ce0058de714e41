"""
The client connection's request handlers, one mixin per API area, as nautilus's own IB client
splits its ``EClient`` side (contracts, market data, history, orders, account).
"""
