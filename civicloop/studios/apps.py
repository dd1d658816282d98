from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class StudiosConfig(ModuleAppConfig):
    name = "civicloop.studios"
    label = "studios"
    default = True
    verbose_name = _("政协委员工作室")
