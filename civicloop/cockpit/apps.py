from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class CockpitConfig(ModuleAppConfig):
    name = "civicloop.cockpit"
    label = "cockpit"
    default = True
    verbose_name = _("驾驶舱")
