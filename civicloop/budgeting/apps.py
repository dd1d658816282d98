from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleAppConfig


class BudgetingConfig(ModuleAppConfig):
    name = "civicloop.budgeting"
    label = "budgeting"
    default = True
    verbose_name = _("参与式预算")
