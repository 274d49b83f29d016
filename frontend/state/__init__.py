"""The dashboard's shared state: the trader's session (`auth`) and the base of every page that
shows live data (`live_page`)."""
