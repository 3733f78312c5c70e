from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import HttpRequest

from orderhub.core.errors import AppError
from orderhub.inventory.models import Reservation, Stock, StockAdjustment, StockMovement, Warehouse
from orderhub.inventory.services import stock_adjust


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province", "priority", "owner_entity", "active"]


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["warehouse", "sku", "on_hand", "reserved", "bin_location"]
    list_filter = ["warehouse"]
    search_fields = ["sku__code"]
    raw_id_fields = ["sku"]
    # Counters change only through services (adjustments, allocation, shipping) with a ledger row.
    readonly_fields = ["on_hand", "reserved"]


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = [
        "stock",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "order",
        "actor",
        "note",
        "created_at",
    ]
    list_filter = ["kind"]
    raw_id_fields = ["stock", "order"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StockAdjustmentForm(ModelForm):
    class Meta:
        model = StockAdjustment
        fields = ["warehouse", "sku", "kind", "quantity", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Applied here so a refusal (count below reserved…) shows on the form, not as a 500.
        if not self.errors:
            try:
                self.instance = stock_adjust(
                    warehouse=data["warehouse"],
                    sku=data["sku"],
                    kind=data["kind"],
                    quantity=data["quantity"],
                    note=data.get("note", ""),
                    actor=self.actor,
                )
            except AppError as e:
                raise ValidationError(e.message) from e
        return data


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    form = StockAdjustmentForm
    list_display = ["created_at", "warehouse", "sku", "kind", "quantity", "actor", "note"]
    list_filter = ["kind", "warehouse"]
    raw_id_fields = ["sku"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # stock_adjust already wrote the slip and its ledger row in the form's clean().
        messages.info(request, f"{obj}")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order", "stock", "quantity", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["order", "stock"]
