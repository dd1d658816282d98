from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicloop.core.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civicloop.core import registry
        from civicloop.core.cases.workflow import GENERIC_LOOP

        registry.register_workflow(GENERIC_LOOP)
