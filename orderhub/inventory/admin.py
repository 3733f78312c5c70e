from django.contrib import admin

from orderhub.inventory.models import Reservation, Stock, StockMovement, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province", "priority", "owner_entity", "active"]


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["warehouse", "sku", "on_hand", "reserved", "bin_location"]
    list_filter = ["warehouse"]
    search_fields = ["sku__code"]
    raw_id_fields = ["sku"]


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ["stock", "kind", "on_hand_delta", "reserved_delta", "order", "created_at"]
    raw_id_fields = ["stock", "order"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order", "stock", "quantity", "status", "created_at"]
    raw_id_fields = ["order", "stock"]
