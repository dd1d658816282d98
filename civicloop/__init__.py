"""civicloop: the closed loop for Wenling's digital-governance systems."""

from civicloop.config.celery import app as celery_app

__all__ = ["celery_app"]
