from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "orderhub.tracking"
    label = "tracking"
    verbose_name = _("物流跟踪")

    def ready(self) -> None:
        # Registers the "ship"/"resume"/"close" effects, the timeline source and the periodic
        # stall scan and poll with the worker.
        from orderhub.tracking import effects, tasks  # noqa: F401
