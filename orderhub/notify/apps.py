from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "orderhub.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        # Registers the notification effect of transitions, the timeline sources and the jobs.
        from orderhub.notify import hooks, tasks  # noqa: F401
