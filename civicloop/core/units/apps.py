from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "civicloop.core.units"
    label = "units"
    default_auto_field = "django.db.models.BigAutoField"
