from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestConfig(AppConfig):
    name = "orderhub.ingest"
    label = "ingest"
    verbose_name = _("接单")

    def ready(self) -> None:
        # Registers the import jobs and the periodic SQL-source pull with the worker.
        from orderhub.ingest import tasks  # noqa: F401
