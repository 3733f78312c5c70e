from django.contrib import admin

from orderhub.orders.models import AuditAnchor, OperationLog, Order, OrderHold, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["sku"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the transition service, never through here."""

    list_display = ["order_no", "channel", "status", "customer_tier", "ordered_at", "owner", "version"]
    list_filter = ["status", "channel", "customer_tier"]
    search_fields = ["order_no", "channel_order_no", "receiver_phone"]
    readonly_fields = ["status", "version", "log_seq", "log_head", "last_operator", "updated_at"]
    raw_id_fields = ["customer", "owner", "parent"]
    inlines = [OrderLineInline]


@admin.register(OrderHold)
class OrderHoldAdmin(admin.ModelAdmin):
    list_display = ["order", "reason", "detail", "created_at", "resolved_at"]
    list_filter = ["reason"]
    raw_id_fields = ["order"]


@admin.register(OperationLog)
class OperationLogAdmin(admin.ModelAdmin):
    """The log is append-only: the admin can read it, never change it."""

    list_display = ["order", "seq", "action", "from_status", "to_status", "actor_name", "at"]
    raw_id_fields = ["order"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditAnchor)
class AuditAnchorAdmin(admin.ModelAdmin):
    list_display = ["pk", "first_log_id", "last_log_id", "entry_count", "created_at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
