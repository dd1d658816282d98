from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class OpinionsConfig(ModuleAppConfig):
    name = "civicloop.opinions"
    label = "opinions"
    default = True
    verbose_name = _("民意直达")
