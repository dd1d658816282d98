"""Serve the platform on one machine: gunicorn (threaded) plus, in embedded mode, the
in-process worker and scheduler. With CELERY_BROKER_URL set, run `celery -A civicloop
worker -B` beside it instead; this command then serves only the web."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication

logger = logging.getLogger("civicloop.serve")


def _start_embedded_worker(worker: Any) -> None:  # gunicorn hook: (worker)
    from civicloop.core import registry

    if settings.WORKER_MODE == "embedded":
        from civicloop.core.jobs.embedded import start_embedded_worker

        start_embedded_worker()
        logger.info("embedded worker and scheduler started")
    # The modules' long-running parts (MQTT intake, the demo simulator) run here only with
    # one worker process: each is a single consumer. With more processes, run their own
    # commands (e.g. `manage.py firelane_mqtt`) beside the server instead.
    if getattr(getattr(worker, "cfg", None), "workers", 1) == 1:
        for name, starter in registry.background_starters():
            try:
                if starter() is not None:
                    logger.info("%s started", name)
            except Exception:
                logger.exception("%s did not start", name)
    elif registry.background_starters():
        logger.warning(
            "Several web processes: none runs %s; run their own commands beside the server "
            "(e.g. `manage.py firelane_mqtt --instance NAME`)",
            ", ".join(name for name, _starter in registry.background_starters()),
        )


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


class Command(BaseCommand):
    help = (
        "Serve civicloop: web server, and the embedded worker and scheduler when no broker is set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Processes. Keep 1 on SQLite in embedded mode (one worker owns the queue).",
        )

    def handle(self, *args: Any, bind: str, threads: int, workers: int, **options: Any) -> None:
        mode = settings.WORKER_MODE
        self.stdout.write(
            f"civicloop on http://{bind}/  (database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, worker: {mode})"
        )
        _Gunicorn(
            {
                "bind": bind,
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 60,
                "graceful_timeout": 10,
                "accesslog": "-",
                "post_worker_init": _start_embedded_worker,
            }
        ).run()
