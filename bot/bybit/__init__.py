"""Bybit V5 connectivity: request signing, REST client, rate limits, retries, private stream."""
