"""Database access: connection settings, the embedded server, pools and migrations."""
