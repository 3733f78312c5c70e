from typing import Any

from django.contrib import admin

from orderhub.tracking.models import CallbackReceipt, Shipment, StallThreshold, TrackingEvent
from orderhub.tracking.thresholds import stall_deadlines_recompute


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ["at", "status", "description", "area", "source"]
    readonly_fields = fields
    ordering = ["-at"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_no", "carrier", "order", "status", "last_event_at", "alert", "stall_due_at"]
    list_filter = ["carrier", "provider", "status", "alert", "active"]
    search_fields = ["tracking_no", "order__order_no"]
    raw_id_fields = ["order"]
    readonly_fields = [f.name for f in Shipment._meta.fields]
    inlines = [TrackingEventInline]


@admin.register(StallThreshold)
class StallThresholdAdmin(admin.ModelAdmin):
    list_display = ["carrier", "province_code", "hours", "updated_at"]

    def save_model(self, request: Any, obj: StallThreshold, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Re-time the watched parcels this rule governs (a blank key means every one).
        stall_deadlines_recompute(carrier=obj.carrier or None, province_code=obj.province_code or None)

    def delete_model(self, request: Any, obj: StallThreshold) -> None:
        super().delete_model(request, obj)
        stall_deadlines_recompute(carrier=obj.carrier or None, province_code=obj.province_code or None)


@admin.register(CallbackReceipt)
class CallbackReceiptAdmin(admin.ModelAdmin):
    list_display = ["received_at", "shipment", "push_status", "outcome", "events_added", "replays"]
    list_filter = ["outcome", "push_status"]
    readonly_fields = [f.name for f in CallbackReceipt._meta.fields]
