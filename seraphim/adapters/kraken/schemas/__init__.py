"""msgspec Structs for Kraken's REST and WebSocket v2 messages."""
