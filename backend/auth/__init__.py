"""Users, passwords, session and bot tokens, login rate limiting."""
