from django.contrib import admin

from orderhub.web.models import StaffInquiry, StateTarget, UserWarehouse


@admin.register(UserWarehouse)
class UserWarehouseAdmin(admin.ModelAdmin):
    list_display = ["user", "warehouse"]
    list_filter = ["warehouse"]
    autocomplete_fields = ["user"]


@admin.register(StateTarget)
class StateTargetAdmin(admin.ModelAdmin):
    list_display = ["status", "target_minutes", "amber_percent"]


@admin.register(StaffInquiry)
class StaffInquiryAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "order", "query", "matched_by"]
    list_filter = ["matched_by"]
    date_hierarchy = "at"
    readonly_fields = ["at", "user", "order", "query", "matched_by"]
    list_select_related = ["user", "order"]
