from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "civicloop.core.forms"
    label = "forms"
    verbose_name = "应用模板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civicloop.core.forms import sources

        sources.connect()
