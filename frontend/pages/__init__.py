"""One module per page: each defines its route, its state (if any) and `page()`. The app
(frontend/frontend.py) registers the modules listed in `PAGES`."""
