"""The database schema as Tortoise ORM models; migrations in backend/migrations are made from them.

Each area has its own module; this package re-exports every model so Tortoise finds them.
"""

from backend.models.accounts import BotToken, LoginFailure, Session, User
from backend.models.bots import Bot

__all__ = ["Bot", "BotToken", "LoginFailure", "Session", "User"]
