from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "orderhub.portal"
    label = "portal"
    verbose_name = _("客户自助查询")

    def ready(self) -> None:
        # Registers the periodic transit-estimate and pruning jobs with the worker.
        from orderhub.portal import tasks  # noqa: F401
