from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "orderhub.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        # Registers the notification effect of transitions and the inbox timeline source.
        from orderhub.notify import services, tasks  # noqa: F401
