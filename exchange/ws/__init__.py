"""WebSocket side of the exchange: the connection hub and the public and private endpoints."""
