"""Settings for the Celery worker subprocesses of test_celery_kill.py.

A short lease so an abandoned delivery is recoverable within the test; no beat entries
(the test runs the sweep itself).
"""

from civicloop.config.settings import *  # noqa: F403

OUTBOX_LEASE_SECONDS = 2
OUTBOX_BACKOFF_BASE_SECONDS = 1
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
