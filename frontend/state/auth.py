"""The trader's session in the browser: the session token lives in the tab's localStorage
(so a reload keeps it), is checked against the backend when a protected page loads, and is
dropped on logout or when the backend says it ended (back to the login page, saying why)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, live

LOGIN = "/login"
HOME = "/"


class AuthState(rx.State):
    """Session token and who is signed in; the base of every page state."""

    token: str = rx.LocalStorage("", name="plutarc_session", sync=True)
    email: str = ""
    notice: str = ""  # why the login page is shown (session ended, logged out, ...)
    error: str = ""
    busy: bool = False

    def _client_ip(self) -> str:
        return self.router.session.client_ip

    def _tab(self) -> str:
        return self.router.session.client_token

    async def _run(self, kind: api.Kind, path: str, args: dict[str, Any] | None = None) -> Any:
        """Call a backend function as this trader (raises api.DashboardError)."""
        return await api.call(kind, path, args, self.token, self._client_ip())

    def _end_session(self, message: str) -> rx.event.EventSpec:
        live.stop(self._tab())
        self.token, self.email, self.notice = "", "", message
        return rx.redirect(LOGIN)

    @rx.event
    async def check_session(self):
        """on_load of every protected page: no token → login; an ended session → login."""
        if not self.token:
            live.stop(self._tab())
            return rx.redirect(LOGIN)
        try:
            self.email = (await self._run("query", "auth:me"))["email"]
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.error = exc.message
        return None

    @rx.event
    async def login(self, form: dict[str, Any]):
        self.busy, self.error = True, ""
        yield
        try:
            args = {"email": form.get("email", ""), "password": form.get("password", "")}
            if totp := str(form.get("totp") or "").strip():  # two-factor login (auth:totp*)
                args["totp"] = totp
            answer = await api.call("action", "auth:login", args, None, self._client_ip())
        except api.DashboardError as exc:
            self.busy, self.error = False, _login_message(exc.message)
            return
        self.token, self.busy, self.notice = answer["token"], False, ""
        yield rx.redirect(HOME)

    @rx.event
    async def signup(self, form: dict[str, Any]):
        self.busy, self.error = True, ""
        yield
        email, password = form.get("email", ""), form.get("password", "")
        if password != form.get("confirm", ""):
            self.busy, self.error = False, "The two passwords differ."
            return
        try:
            await api.call("action", "auth:signup", {"email": email, "password": password},
                           None, self._client_ip())
            answer = await api.call("action", "auth:login",
                                    {"email": email, "password": password}, None, self._client_ip())
        except api.DashboardError as exc:
            self.busy, self.error = False, exc.message
            return
        self.token, self.busy, self.notice = answer["token"], False, ""
        yield rx.redirect(HOME)

    @rx.event
    async def logout(self):
        if self.token:
            try:
                await self._run("mutation", "auth:logout")
            except api.DashboardError:
                pass  # an ended session is as logged out as it gets
        return self._end_session("You are logged out.")

    @rx.event
    def leave_live(self):
        """on_load of pages that show nothing live: end the tab's previous subscriptions."""
        live.stop(self._tab())


def _login_message(message: str) -> str:
    if "wrong email or password" in message:
        return "Wrong email or password."
    if "two-factor code required" in message:
        return "This account has two-factor login: enter the code from your authenticator app."
    return message
