"""Celery tasks of e线知政 / 学习园地; the embedded worker calls the same functions
in-process. Each re-reads the database and is safe to repeat."""

from __future__ import annotations

from celery import shared_task

from civicloop.bulletins.services import required_reminders_send, videos_sweep_orphans

REMIND_TASK = "civicloop.bulletins.tasks.bulletins_remind"
SWEEP_TASK = "civicloop.bulletins.tasks.bulletins_videos_sweep"


@shared_task(name=REMIND_TASK, acks_late=True, ignore_result=True)
def bulletins_remind() -> int:
    """Remind the deputies who have not finished a required item that is nearly due."""
    return required_reminders_send()


@shared_task(name=SWEEP_TASK, acks_late=True, ignore_result=True)
def bulletins_videos_sweep() -> int:
    """Delete video files left by publishes that rolled back."""
    return len(videos_sweep_orphans())
