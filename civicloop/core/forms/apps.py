from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "civicloop.core.forms"
    label = "forms"
    verbose_name = "应用模板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from civicloop.core import registry
        from civicloop.core.forms import sources

        sources.connect()
        # The applications shown on the cockpit, each with its open cases.
        registry.register_cockpit_tile(
            "forms",
            registry.CockpitTile(
                code="applications",
                label=_("应用事项"),
                figures="civicloop.core.forms.selectors.application_figures",
                order=90,
            ),
        )
