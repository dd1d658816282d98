"""The Celery application. Used when CELERY_BROKER_URL is set; otherwise the
embedded worker in `civicloop.core.jobs.embedded` runs the same tasks in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")

app = Celery("civicloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The job machinery's own tasks (civicloop.core.jobs is a package, not an app).
app.autodiscover_tasks(["civicloop.core.jobs"])
