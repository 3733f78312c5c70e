from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orderhub.orders"
    label = "orders"
    verbose_name = _("订单")

    def ready(self) -> None:
        # Registers the periodic audit-anchor job with the worker.
        from orderhub.orders import tasks  # noqa: F401
