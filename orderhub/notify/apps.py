from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "orderhub.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        from orderhub.notify import tasks  # noqa: F401
