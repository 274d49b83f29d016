"""The app's functions: one module per area; `module:name` is each function's path."""
