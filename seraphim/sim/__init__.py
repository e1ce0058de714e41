"""Local venues on 127.0.0.1 that speak the real wire protocols."""
