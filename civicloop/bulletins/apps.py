from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class BulletinsConfig(ModuleAppConfig):
    name = "civicloop.bulletins"
    label = "bulletins"
    default = True
    verbose_name = _("e线知政")
