"""
The dashboard: a web console (FastAPI + uvicorn) over a documented REST/WebSocket API for live
nodes (through the operations control channel and the state in Redis) and research (the
journal in PostgreSQL, the catalog). ``create_app`` builds it; ``seraphim dashboard`` serves it.
"""
