from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FirelaneConfig(AppConfig):
    name = "civicloop.firelane"
    label = "firelane"
    verbose_name = _("生命通道")

    def ready(self) -> None:
        from civicloop.firelane import hooks

        hooks.register()
