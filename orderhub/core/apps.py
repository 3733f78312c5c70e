from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "orderhub.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from orderhub.core import tasks  # noqa: F401  (registers the periodic statistics job)
        from orderhub.core.statistics import statistics_after_migrate

        # Once per migrate run (sent for every app; the handler is keyed to this one).
        post_migrate.connect(statistics_after_migrate, sender=self, dispatch_uid="orderhub-statistics")
