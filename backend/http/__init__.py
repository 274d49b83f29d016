"""HTTP endpoints of the API: one-shot calls, OpenAPI document, health."""
