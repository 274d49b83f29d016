"""/login and /signup: the two pages a signed-out trader sees."""

from __future__ import annotations

import reflex as rx

from frontend.state.auth import AuthState


def _frame(title: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("plutarc", size="7", color_scheme="iris", high_contrast=True),
                rx.text(title, size="3", color_scheme="gray"),
                rx.cond(AuthState.notice != "",
                        rx.callout(AuthState.notice, icon="info", id="login-notice",
                                   width="100%")),
                rx.cond(AuthState.error != "",
                        rx.callout(AuthState.error, icon="triangle_alert", color_scheme="red",
                                   role="alert", id="auth-error", width="100%")),
                form, footer, spacing="4", width="100%",
            ),
            width="100%", max_width="400px", size="4",
        ),
        min_height="100vh", padding="4",
    )


def _field(label: str, name: str, kind: str = "text", required: bool = True,
           **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.input(name=name, type=kind, id=f"{name}-input", required=required,
                              width="100%", size="3", **props), spacing="1", width="100%")


def login_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _field("Email", "email", "email", auto_complete="username",
                   placeholder="you@example.com"),
            _field("Password", "password", "password", auto_complete="current-password"),
            _field("Two-factor code (if turned on)", "totp", "text", required=False,
                   auto_complete="one-time-code"),
            rx.button("Log in", type="submit", loading=AuthState.busy, width="100%",
                      size="3", id="login-submit"),
            spacing="3", width="100%",
        ),
        on_submit=AuthState.login, reset_on_submit=False, width="100%",
    )
    footer = rx.text("No account yet? ", rx.link("Sign up", href="/signup", id="to-signup"),
                     size="2")
    return _frame("Log in to watch your bots.", form, footer)


def signup_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _field("Email", "email", "email", auto_complete="username"),
            _field("Password (at least 8 characters)", "password", "password",
                   auto_complete="new-password"),
            _field("Repeat the password", "confirm", "password", auto_complete="new-password"),
            rx.button("Create my account", type="submit", loading=AuthState.busy,
                      width="100%", size="3", id="signup-submit"),
            spacing="3", width="100%",
        ),
        on_submit=AuthState.signup, reset_on_submit=False, width="100%",
    )
    footer = rx.text("Already have an account? ", rx.link("Log in", href="/login"), size="2")
    return _frame("Create an account.", form, footer)
