"""Kraken WebSocket v2 connections (public market data, private executions and trading)."""
