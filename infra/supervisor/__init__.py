"""The deployment supervisor: turns every bot's desired state into instances (core.py), one
runner per claimed bot (runner.py), crash backoff (crashes.py), its live work query
(live.py), and where it runs (service.py: `plutarc up`, `plutarc deployer`)."""
