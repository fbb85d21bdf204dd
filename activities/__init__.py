"""Every side effect of a case: projection, routing, deadlines, notifications.

Activities are methods of classes built in ``worker.py`` with their dependencies injected;
each is idempotent because Temporal runs activities at least once.
"""
