"""/account: who is signed in, change the password, log out."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api
from frontend.components import layout
from frontend.state.auth import AuthState


class AccountState(AuthState):
    password_message: str = ""
    password_error: str = ""

    @rx.event
    async def change_password(self, form: dict[str, Any]):
        self.password_message, self.password_error = "", ""
        if form.get("new_password") != form.get("confirm"):
            self.password_error = "The two new passwords differ."
            return None
        try:
            answer = await self._run("action", "auth:changePassword",
                                     {"old_password": form.get("old_password", ""),
                                      "new_password": form.get("new_password", "")})
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.password_error = exc.message
            return None
        ended = answer["sessions_revoked"]
        self.password_message = ("Password changed." + (
            f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""))
        return None


def _password_field(label: str, name: str, auto: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.input(name=name, type="password", id=f"{name}-input", required=True,
                              auto_complete=auto, width="100%"), spacing="1", width="100%")


def page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _password_field("Current password", "old_password", "current-password"),
            _password_field("New password (at least 8 characters)", "new_password",
                            "new-password"),
            _password_field("Repeat the new password", "confirm", "new-password"),
            rx.button("Change password", type="submit", id="change-password-submit"),
            spacing="3", width="100%", max_width="380px",
        ),
        on_submit=AccountState.change_password, reset_on_submit=True,
    )
    return layout.page(
        "Account",
        layout.section(
            "Signed in",
            rx.text("You are signed in as ", rx.text.strong(AuthState.email), "."),
            rx.button("Log out", on_click=AuthState.logout, color_scheme="red",
                      variant="soft", width="fit-content", id="account-logout"),
        ),
        layout.section(
            "Change password",
            rx.cond(AccountState.password_message != "",
                    rx.callout(AccountState.password_message, icon="check",
                               color_scheme="green", id="password-changed")),
            rx.cond(AccountState.password_error != "",
                    rx.callout(AccountState.password_error, icon="triangle_alert",
                               color_scheme="red", role="alert", id="password-error")),
            form,
        ),
        error=AuthState.error,
    )


ROUTE = "/account"
TITLE = "Account"
ON_LOAD = [AuthState.check_session, AuthState.leave_live]
