"""The dashboard's REST and WebSocket API (everything the pages show and do goes through it)."""
