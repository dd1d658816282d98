"""Running work after a transaction commits, with Celery or in-process.

`run_after_commit(task_name, *args)` is the one way core code asks for background
work. With a broker (WORKER_MODE == "celery") it sends the Celery task by name;
without one it hands the job to the embedded worker of this process. Either way the
job is a hint: the database holds the truth and a periodic sweep repeats lost work.
"""

from civicloop.core.jobs.dispatch import run_after_commit
from civicloop.core.jobs.embedded import EmbeddedWorker, start_embedded_worker

__all__ = ["EmbeddedWorker", "run_after_commit", "start_embedded_worker"]
