"""The base of a page that shows live data: on load it starts one background task for the
tab (see frontend/live.py) that follows the page's `_feed()` and passes each batch of values
to `_take()`, under the state lock. `_take()` returns True when the feed itself must change
(e.g. a new bot appeared): the task then follows the new `_feed()`. Errors become `error` (a
readable message); an ended session returns to the login page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, live
from frontend.state.auth import AuthState

UNREAD = "_alerts_unread"  # the feed name of the bell's count


class LivePage(AuthState):
    """Subclasses define `_feed()`, `_take(values)`, and mix in `LiveTask` for the `watch`
    event their ON_LOAD starts: `class OverviewState(LiveTask, LivePage)`."""

    loading: bool = True
    error: str = ""
    unread_alerts: int = 0  # the header's bell: every live page follows alerts:unread

    def _full_feed(self) -> live.Feed:
        feed = self._feed()
        return live.Feed({**feed.queries, UNREAD: ("alerts:unread", {})}, feed.polls)

    def _feed(self) -> live.Feed:
        raise NotImplementedError

    def _take(self, values: dict[str, Any]) -> bool:
        """Apply new values; True when `_feed()` changed because of them."""
        raise NotImplementedError

    def _failed(self, name: str, message: str) -> bool:
        """Show the failure of `name` in its own place (True), or as the page's error."""
        return False

    async def _follow(self):
        async with self:
            if not self.token:
                return
            self.loading, self.error = True, ""
            feed, tab, token, ip = self._full_feed(), self._tab(), self.token, self._client_ip()
        ended: list[api.DashboardError] = []

        async def take(values: dict[str, Any]) -> None:
            async with self:
                if UNREAD in values:
                    self.unread_alerts = values.pop(UNREAD)["count"]
                refeed = self._take(values) if values else False
                self.loading, self.error = False, ""
                if refeed:
                    raise _Refeed(self._full_feed())

        async def fail(name: str, error: api.DashboardError) -> None:
            async with self:
                self.loading = False
                if not self._failed(name, error.message):
                    self.error = error.message
            if error.expired:
                ended.append(error)

        while True:
            try:
                await live.follow(tab, token, ip, feed, take, fail)
                break
            except _Refeed as refeed:
                feed = refeed.feed
        if ended:
            async with self:
                redirect = self._end_session(ended[0].message)
            yield redirect


class LiveTask(rx.State, mixin=True):
    """The page's background task (`watch`, first in its ON_LOAD), following `_follow()`.
    A mixin because Reflex binds an event to the class that defines it: one defined on
    LivePage would run against LivePage's state, while a mixin's is bound to each page
    state that mixes it in."""

    @rx.event(background=True)
    async def watch(self):
        async for event in self._follow():  # type: ignore[attr-defined]
            yield event


class _Refeed(Exception):
    """Raised out of `take` to follow a new feed."""

    def __init__(self, feed: live.Feed) -> None:
        super().__init__("feed changed")
        self.feed = feed
