"""Parameter searches started from the dashboard (`optimize:*`): the search runs in a child
process (child.py), followed by a task of the API process that reports its progress and
result through internal mutations (follower.py); a service fails the runs whose process is
gone (service.py)."""
