from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class SuggestionsConfig(ModuleAppConfig):
    name = "civicloop.suggestions"
    label = "suggestions"
    default = True
    verbose_name = _("代表建议")
