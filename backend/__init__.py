"""plutarc's reactive backend: app, auth, config, function runtime, Python client."""
