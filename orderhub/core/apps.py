from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "orderhub.core"
    label = "core"
    verbose_name = "核心"
