"""A paginated live query held the way a client should hold one (backend/runtime/pagination
.py): page 1 from the start; loading page k+1 starts after page k's `continue_cursor` and
re-subscribes page k pinned to end there, so no row falls between pages as rows are
inserted before, inside or after them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend.testing import Caller, Subscription


class LivePages:
    """`pages = await LivePages.open(caller, "bots:trades", {...}, limit=50)`."""

    def __init__(self, caller: Caller, path: str, args: dict[str, Any], limit: int) -> None:
        self._caller, self._path, self._args, self._limit = caller, path, args, limit
        self.pages: list[Subscription] = []
        self._starts: list[str | None] = []

    @classmethod
    async def open(cls, caller: Caller, path: str, args: dict[str, Any] | None = None,
                   limit: int = 50) -> LivePages:
        pages = cls(caller, path, dict(args or {}), limit)
        await pages._add(None)
        return pages

    async def _add(self, cursor: str | None) -> None:
        self._starts.append(cursor)
        self.pages.append(await self._caller.subscribe(
            self._path, {**self._args, "cursor": cursor, "limit": self._limit}))

    async def load_more(self) -> bool:
        """Load the next page (pinning the last one); False when there is none."""
        last = await self.pages[-1].value()
        if last["is_done"]:
            return False
        end = last["continue_cursor"]
        pinned = await self._caller.subscribe(
            self._path, {**self._args, "cursor": self._starts[-1], "end_cursor": end})
        self.pages[-1].close()
        self.pages[-1] = pinned
        await pinned.value()
        await self._add(end)
        await self.pages[-1].value()
        return True

    async def items(self) -> list[Any]:
        """Every loaded row, in order, as currently pushed."""
        return [row for page in self.pages for row in (await page.value())["items"]]
