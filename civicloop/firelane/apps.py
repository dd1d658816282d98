from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class FirelaneConfig(ModuleAppConfig):
    name = "civicloop.firelane"
    label = "firelane"
    default = True
    verbose_name = _("生命通道")
