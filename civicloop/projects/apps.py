from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class ProjectsConfig(ModuleAppConfig):
    name = "civicloop.projects"
    label = "projects"
    default = True
    verbose_name = _("民生实事")
