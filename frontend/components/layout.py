"""The frame of every signed-in page: navigation, who is signed in, logout, the time zone
note (times are UTC; the browser's offset is shown), and the page's loading/error line. The
operator's page has the frame without the trader's part (`trader=False`)."""

from __future__ import annotations

import reflex as rx

from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage

NAV = (("Overview", "/"), ("Bots", "/bots"), ("Strategies", "/strategies"),
       ("Keys", "/keys"), ("Regions", "/regions"), ("Billing", "/billing"),
       ("Account", "/account"))


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="3", weight="medium", color_scheme="gray",
                   high_contrast=True, id=f"nav-{label.lower()}")


def header(trader: bool = True) -> rx.Component:
    brand = rx.heading("plutarc", size="5", color_scheme="iris", high_contrast=True)
    offset = rx.text("Times in UTC · your offset: UTC",
                     rx.moment(format="Z", interval=0, id="local-offset"),
                     size="1", color_scheme="gray")
    if not trader:
        left = rx.hstack(brand, rx.badge("operator", color_scheme="amber"), align="center")
        return _bar(left, rx.spacer(), offset)
    return _bar(
        rx.hstack(brand, *[_nav_link(label, href) for label, href in NAV],
                  spacing="5", align="center"),
        rx.spacer(),
        bell(),
        offset,
        rx.text(AuthState.email, size="2", id="signed-in-as"),
        rx.button("Log out", on_click=AuthState.logout, variant="soft", size="1",
                  id="logout"),
    )


def _bar(*children: rx.Component) -> rx.Component:
    return rx.hstack(*children, align="center", spacing="4", width="100%", padding_y="0.75em",
                     padding_x="1.5em", border_bottom="1px solid var(--gray-a5)")


def bell() -> rx.Component:
    """The unread alerts, live on every live page (LivePage follows alerts:unread)."""
    count = LivePage.unread_alerts
    return rx.link(rx.hstack(
        rx.icon("bell", size=18),
        rx.cond(count > 0, rx.badge(count, color_scheme="red", variant="solid",
                                    id="alerts-unread"),
                rx.text("0", size="1", color_scheme="gray", id="alerts-unread")),
        spacing="1", align="center"), href="/alerts", id="alerts-bell",
        color_scheme="gray", high_contrast=True)


def status_line(loading: rx.Var, error: rx.Var) -> rx.Component:
    """A loading spinner while the first values come, or the error in words."""
    return rx.cond(
        error != "",
        rx.callout(error, icon="triangle_alert", color_scheme="red", role="alert",
                   id="page-error", width="100%"),
        rx.cond(loading, rx.hstack(rx.spinner(size="2"), rx.text("Loading live data…"),
                                   id="page-loading", align="center")),
    )


def page(title: str | rx.Var, *children: rx.Component, loading: rx.Var | bool = False,
         error: rx.Var | str = "", trader: bool = True) -> rx.Component:
    return rx.box(
        header(trader),
        rx.vstack(
            rx.heading(title, size="6", id="page-title"),
            status_line(loading, error),
            *children,
            spacing="5", padding="1.5em", width="100%", max_width="1400px", margin_x="auto",
        ),
        min_height="100vh",
    )


def section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3"), *children, spacing="3",
                             width="100%"), width="100%", **props)


def empty(message: str, *action: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(message, color_scheme="gray"), *action, align="center",
                     padding="4", width="100%", class_name="empty-state")


def listing(title: str, rows: rx.Var, content: rx.Component, empty_text: str,
            **props) -> rx.Component:
    """A section showing `content` (a table or chart of `rows`), or `empty_text` while
    `rows` is empty."""
    return section(title, rx.cond(rows.length() > 0, content, empty(empty_text)), **props)
