from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "civicloop.core.sla"
    label = "sla"
    # Shown in the admin as "日历 → 年份", the path CalendarYearUnknown points to.
    verbose_name = _("日历")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Any saved or deleted calendar row invalidates the working-day caches.
        from civicloop.core.sla import checks, signals  # noqa: F401
