"""Bybit V5 REST routes (`/v5/...`): public market data and signed trading/account calls."""
