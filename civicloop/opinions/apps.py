from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpinionsConfig(AppConfig):
    name = "civicloop.opinions"
    label = "opinions"
    verbose_name = _("民意直达")

    def ready(self) -> None:
        from civicloop.opinions import hooks

        hooks.register()
