from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "orderhub.fulfilment"
    label = "fulfilment"
    verbose_name = _("履约")

    def ready(self) -> None:
        # Registers timeline sources, transition effects and durable jobs of fulfilment.
        from orderhub.fulfilment import effects, tasks, timeline  # noqa: F401
        from orderhub.fulfilment.config import connect_signals

        connect_signals()
