from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "orderhub.portal"
    label = "portal"
    verbose_name = _("客户自助查询")
