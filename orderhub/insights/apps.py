from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "orderhub.insights"
    label = "insights"
    verbose_name = _("交付健康度")

    def ready(self) -> None:
        # Registers the periodic rollup job with the worker.
        from orderhub.insights import tasks  # noqa: F401
