from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "orderhub.inventory"
    label = "inventory"
    verbose_name = _("库存")

    def ready(self) -> None:
        # Registers the stock effects of transitions (release on cancel).
        from orderhub.inventory import services  # noqa: F401
