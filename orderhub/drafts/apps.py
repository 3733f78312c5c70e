from django.apps import AppConfig


class DraftsConfig(AppConfig):
    name = "orderhub.drafts"
    label = "drafts"
    verbose_name = "聊天/截图订单草稿"

    def ready(self) -> None:
        # Registers the draft's source (message text or screenshots) on the order timeline.
        from orderhub.drafts import timeline  # noqa: F401
