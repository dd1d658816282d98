from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class OversightConfig(ModuleAppConfig):
    name = "civicloop.oversight"
    label = "oversight"
    default = True
    verbose_name = _("督政议事")
