from django.contrib import admin

from orderhub.drafts.models import Draft


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    """Read-only: drafts change only through the confirmation page (a person's decision)."""

    list_display = [
        "id",
        "source",
        "status",
        "customer",
        "receiver_phone",
        "order",
        "created_by",
        "created_at",
    ]
    list_filter = ["source", "status"]
    search_fields = ["text", "receiver_phone"]
    readonly_fields = [f.name for f in Draft._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
